package io.github.hunyuanvideo.sampler;

/**
 * Cooperative cancellation of a generation: another thread calls {@link #cancel()}, and the sampler stops at its next
 * check by throwing {@link GenerationCancelledException}. It checks while waiting for its turn on the sampler, between
 * the text encoders' layers, between denoising steps and between VAE tiles, so a cancelled generation returns within
 * one layer, step or tile. Thread-safe.
 */
public final class CancellationToken {
    /** A token that is never cancelled. */
    public static final CancellationToken NONE = new CancellationToken();

    private volatile boolean cancelled;

    /** Requests cancellation (idempotent). Has no effect on {@link #NONE}. */
    public void cancel() {
        if (this != NONE) {
            cancelled = true;
        }
    }

    public boolean isCancelled() {
        return cancelled;
    }

    /**
     * @param stage the stage that is running
     * @param where where in the stage, for the exception message ("before step 3 of 50")
     * @throws GenerationCancelledException if {@link #cancel()} was called
     */
    public void throwIfCancelled(GenerationCancelledException.Stage stage, String where) {
        if (cancelled) {
            throw new GenerationCancelledException(stage, where);
        }
    }
}
