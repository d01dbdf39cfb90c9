package io.github.hunyuanvideo.nn;

import java.util.function.BooleanSupplier;

/**
 * Cooperative cancellation of long model calls (the VAE's tile loop, the text encoders' layer loops): the caller hands
 * in a check, and the model asks it before its first unit of work and after each one, stopping with
 * {@link CancelledException} once it says yes. The check is a plain {@link BooleanSupplier} because the model modules
 * cannot see the sampler's cancellation token.
 */
public final class Cancellation {
    /** A check that never fires. */
    public static final BooleanSupplier NEVER = () -> false;

    private Cancellation() {
    }

    /**
     * Asks {@code cancelled} at the boundary after {@code done} of {@code total} units of work.
     *
     * @param units what the units are, plural ({@code "tiles"}, {@code "LLM layers"})
     * @throws CancelledException saying where the work stopped ("after 3 of 12 tiles") when {@code cancelled} is true
     */
    public static void check(BooleanSupplier cancelled, String units, int done, int total) {
        if (cancelled.getAsBoolean()) {
            throw new CancelledException("after " + done + " of " + total + " " + units);
        }
    }
}
