package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.io.nn.Linear;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.util.function.Supplier;

/** Small helpers shared by the encoders' boxes: scoped evaluation and parameter binding. */
final class Scopes {
    private Scopes() {
    }

    /**
     * Runs {@code body} in its own {@link PointerScope} so its temporaries are freed at once, and returns its result
     * with one reference owned by the caller ({@code releaseReference()} when done).
     */
    static Tensor keep(Supplier<Tensor> body) {
        try (PointerScope scope = new PointerScope()) {
            Tensor out = body.get();
            out.retainReference();
            return out;
        }
    }

    /** A linear layer {@code prefix.weight [out, in]} (and {@code prefix.bias [out]} if {@code bias}). */
    static Linear linear(TensorLoader loader, String prefix, long out, long in, boolean bias) {
        Tensor w = loader.load(prefix + ".weight", out, in);
        Tensor b = bias ? loader.load(prefix + ".bias", out) : null;
        return new Linear(w, b);
    }

    /** Closes every non-null item (the boxes' weights), in order. */
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
