package io.github.hunyuanvideo.sampler;

import org.bytedeco.pytorch.Tensor;

import java.time.Duration;
import java.util.function.BiConsumer;

/**
 * Receives the progress of {@link HunyuanVideoSampler#predict}. Called on the generating thread; keep it quick.
 */
@FunctionalInterface
public interface ProgressListener {
    /** Does nothing. */
    ProgressListener NONE = (step, total, elapsed, eta) -> {
    };

    /**
     * Called after each denoising step.
     *
     * @param step the number of steps done so far (1 … total)
     * @param total the number of steps of this generation
     * @param elapsed time spent in the denoising loop so far
     * @param eta estimated time left in the loop (mean step time × steps left)
     */
    void onStep(int step, int total, Duration elapsed, Duration eta);

    /**
     * Called when a stage begins ({@code text-encoding}, {@code denoising}, {@code vae-decoding}).
     * The default does nothing.
     */
    default void onStage(String stage) {
    }

    /**
     * Called after step {@code index} (0-based) with the new float32 latents, before {@link #onStep}; for previews
     * and checks. The tensor is only valid during the call (copy it to keep it). The default does nothing.
     */
    default void onLatents(int index, Tensor latents) {
    }

    /**
     * Called after step {@code index} (0-based) when the request's step cache skipped the DiT's blocks there (it
     * reused a stored residual instead), before {@link #onLatents} of that step. The default does nothing.
     */
    default void onStepSkipped(int index) {
    }

    /** A listener that only receives {@link #onLatents} (for checks against recorded latents). */
    static ProgressListener ofLatents(BiConsumer<Integer, Tensor> onLatents) {
        return new ProgressListener() {
            @Override
            public void onStep(int step, int total, Duration elapsed, Duration eta) {
            }

            @Override
            public void onLatents(int index, Tensor latents) {
                onLatents.accept(index, latents);
            }
        };
    }
}
