package io.github.hunyuanvideo.sampler;

/**
 * Cooperative cancellation of a generation: another thread calls {@link #cancel()}, and the sampler stops at its next
 * check (between stages and between denoising steps) by throwing {@link GenerationCancelledException}. Thread-safe.
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
     * @param where what was about to run, for the exception message
     * @throws GenerationCancelledException if {@link #cancel()} was called
     */
    public void throwIfCancelled(String where) {
        if (cancelled) {
            throw new GenerationCancelledException("generation cancelled before " + where);
        }
    }
}
