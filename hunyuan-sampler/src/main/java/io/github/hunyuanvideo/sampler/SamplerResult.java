package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.List;

/**
 * What {@link HunyuanVideoSampler#predict} returns. The tensors live on the CPU outside any {@code PointerScope}; call
 * {@link #close()} to free them. A generation that handed its frames to a {@link DecodedFrameSink} returns no videos
 * ({@link #hasVideos()} is false, {@link #videos()} throws); everything else is the same.
 *
 * @param videos float32 {@code [N, 3, T, H, W]} in [0, 1] (the original's {@code (x/2 + 0.5).clamp(0, 1)}), or
 *               {@code null} when the frames went to a {@link DecodedFrameSink}
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

    /**
     * The videos, float32 {@code [N, 3, T, H, W]} in [0, 1].
     *
     * @throws IllegalStateException if the frames went to a {@link DecodedFrameSink} instead
     */
    @Override
    public Tensor videos() {
        if (videos == null) {
            throw new IllegalStateException("no videos: the frames went to the DecodedFrameSink given to "
                    + "HunyuanVideoSampler.predict(…, sink); call predict without a sink for a result that holds them");
        }
        return videos;
    }

    /** Whether this result holds the videos ({@code false} when the frames went to a {@link DecodedFrameSink}). */
    public boolean hasVideos() {
        return videos != null;
    }

    /** This result holding {@code videos}, which it owns from now on. */
    SamplerResult withVideos(Tensor videos) {
        return new SamplerResult(videos, latents, seeds, prompts, negativePrompts, height, width, videoLength, timings,
                computedSteps);
    }

    /** Number of videos. */
    public int count() {
        return seeds.size();
    }

    /**
     * Video {@code i} as a {@code [3, T, H, W]} view of {@link #videos()}.
     *
     * @throws IllegalStateException if the frames went to a {@link DecodedFrameSink} instead
     */
    public Tensor video(int i) {
        return videos().select(0, i);
    }

    /**
     * Video {@code i} as float32 values in [0, 1], layout {@code [3, T, H, W]} row-major.
     *
     * @throws IllegalStateException if the frames went to a {@link DecodedFrameSink} instead
     */
    public float[] videoArray(int i) {
        return Tensors.toFloatArray(video(i));
    }

    /** Frees the tensors. */
    @Override
    public void close() {
        if (videos != null) {
            videos.releaseReference();
        }
        latents.releaseReference();
    }
}
