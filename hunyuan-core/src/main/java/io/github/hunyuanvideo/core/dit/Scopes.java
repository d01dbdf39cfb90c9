package io.github.hunyuanvideo.core.dit;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.util.function.Supplier;

/** Native-memory helpers of the DiT boxes: temporaries die with an inner scope, results move to the caller's. */
final class Scopes {
    private Scopes() {
    }

    /**
     * Runs {@code body} in its own {@link PointerScope}, so every temporary it makes is freed on return, and hands
     * the result to the caller's scope (see {@link #handOut}). {@code body} must return a tensor it created.
     */
    static Tensor keep(Supplier<Tensor> body) {
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            out = body.get();
            out.retainReference();
        }
        return handOut(out);
    }

    /**
     * Takes a tensor holding one reference of its own (retained inside a scope that has since closed) and gives
     * that reference to the innermost open scope, so it is freed with the caller's other tensors; with no open scope
     * the caller owns it ({@code close()} or garbage collection frees it).
     */
    static Tensor handOut(Tensor t) {
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(t);
            t.releaseReference();
        }
        return t;
    }

    /** Closes every non-null item, in order (the boxes' weights). */
    static void closeAll(AutoCloseable... items) {
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
