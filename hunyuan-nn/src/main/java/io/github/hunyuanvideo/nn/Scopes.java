package io.github.hunyuanvideo.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.util.function.Supplier;

/**
 * Native-memory ownership for the model boxes: each forward runs in its own {@link PointerScope}, so its temporaries
 * are freed on return, and only its result outlives it.
 */
public final class Scopes {
    private Scopes() {
    }

    /**
     * Runs {@code body} in a fresh scope and hands its result to the caller's innermost open scope (or, with none, to
     * the caller, who must close it). {@code body} must return a tensor it created.
     */
    public static Tensor scoped(Supplier<Tensor> body) {
        return handOut(retainedResult(body));
    }

    /**
     * Runs {@code body} in a fresh scope and returns its result holding one reference owned by the caller, attached
     * to no scope: {@code releaseReference()} when done.
     */
    public static Tensor retainedResult(Supplier<Tensor> body) {
        try (PointerScope scope = new PointerScope()) {
            Tensor out = body.get();
            out.retainReference();
            return out;
        }
    }

    /**
     * Gives a tensor holding one reference of its own (retained inside a scope that has since closed) to the innermost
     * open scope, so it is freed with the caller's other tensors; with no open scope the caller owns it.
     */
    public static Tensor handOut(Tensor t) {
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(t);
            t.releaseReference();
        }
        return t;
    }

    /** Keeps {@code t} alive past the current scope; pair with {@link #release}. */
    public static Tensor retained(Tensor t) {
        t.retainReference();
        return t;
    }

    /** Drops one reference of {@code t} (null-safe). */
    public static void release(Tensor t) {
        if (t != null) {
            t.releaseReference();
        }
    }

    /** Closes every non-null item, in order (the boxes' weights). */
    public static void closeAll(AutoCloseable... items) {
        for (AutoCloseable c : items) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException("failed to release native memory", e);
                }
            }
        }
    }
}
