package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.List;

/**
 * What {@link HunyuanVideoSampler#predict} returns. The tensors live on the CPU outside any {@code PointerScope}; call
 * {@link #close()} to free them.
 *
 * @param videos float32 {@code [N, 3, T, H, W]} in [0, 1] (the original's {@code (x/2 + 0.5).clamp(0, 1)})
 * @param latents the final float32 latents {@code [N, C, T', H/8, W/8]} before the VAE
 * @param seeds the seed of each video
 * @param prompts the prompt of each video (stripped)
 * @param negativePrompts the negative prompt of each video ({@code ""} when true CFG was off)
 * @param height frame height after rounding up to a multiple of 16
 * @param width frame width after rounding up to a multiple of 16
 * @param videoLength frames per video
 * @param timings time per stage
 * @param computedSteps per denoising step, whether the DiT ran its blocks ({@code false}: the request's step cache
 *                      skipped them); all {@code true} without a cache
 */
public record SamplerResult(Tensor videos, Tensor latents, List<Long> seeds, List<String> prompts,
                            List<String> negativePrompts, int height, int width, int videoLength,
                            StageTimings timings, List<Boolean> computedSteps) implements AutoCloseable {
    public SamplerResult {
        seeds = List.copyOf(seeds);
        prompts = List.copyOf(prompts);
        negativePrompts = List.copyOf(negativePrompts);
        computedSteps = List.copyOf(computedSteps);
    }

    /** Number of videos. */
    public int count() {
        return (int) videos.size(0);
    }

    /** Video {@code i} as a {@code [3, T, H, W]} view of {@link #videos()}. */
    public Tensor video(int i) {
        return videos.select(0, i);
    }

    /** Video {@code i} as float32 values in [0, 1], layout {@code [3, T, H, W]} row-major. */
    public float[] videoArray(int i) {
        return Tensors.toFloatArray(video(i));
    }

    /** Frees the tensors. */
    @Override
    public void close() {
        videos.releaseReference();
        latents.releaseReference();
    }
}
