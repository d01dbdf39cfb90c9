package io.github.hunyuanvideo.vae;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.util.function.Supplier;

/** Native-memory ownership helpers: every forward runs in its own scope and hands only its result to the caller. */
final class Scopes {
    private Scopes() {
    }

    /**
     * Runs {@code body} in a fresh {@link PointerScope} so that its temporaries die with it, and gives the result to
     * the caller's scope (or, without one, to the caller, who must close it).
     */
    static Tensor scoped(Supplier<Tensor> body) {
        Tensor out;
        try (PointerScope ignored = new PointerScope()) {
            out = body.get();
            out.retainReference();
        }
        return adopt(out);
    }

    /** Moves a tensor that holds one extra reference into the innermost open scope, if there is one. */
    static Tensor adopt(Tensor t) {
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(t);
            t.releaseReference();
        }
        return t;
    }

    /** Keeps {@code t} alive past the current scope; pair with {@link #release}. */
    static Tensor retained(Tensor t) {
        t.retainReference();
        return t;
    }

    static void release(Tensor t) {
        if (t != null) {
            t.releaseReference();
        }
    }
}
