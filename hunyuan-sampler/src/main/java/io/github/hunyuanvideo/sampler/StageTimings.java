package io.github.hunyuanvideo.sampler;

import java.time.Duration;
import java.util.List;

/**
 * Wall-clock time of each stage of one generation (device work is synchronised before each reading).
 *
 * @param textEncoding both text encoders, prompt and negative prompt ({@link Duration#ZERO} with precomputed
 *                     embeddings)
 * @param denoising the whole denoising loop
 * @param steps each denoising step
 * @param vaeDecoding the VAE decode and the [0, 1] mapping
 * @param total the whole call
 * @param peakDeviceBytes peak bytes held by CUDA tensors during the call (0 on the CPU)
 */
public record StageTimings(Duration textEncoding, Duration denoising, List<Duration> steps, Duration vaeDecoding,
                           Duration total, long peakDeviceBytes) {
    public StageTimings {
        steps = List.copyOf(steps);
    }
}
