package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.RmsNorm;
import org.bytedeco.pytorch.Tensor;

/**
 * Where the boxes get their parameters from, by official state-dict name: a checkpoint (official or diffusers
 * names), random initialisation, or a shape recorder. Every tensor comes back on the model's device in its compute
 * dtype.
 */
@FunctionalInterface
interface ParamSource {
    /** Parameter {@code name}, which the model expects to have {@code shape}. */
    Tensor get(String name, long... shape);

    /** A linear layer {@code prefix.weight [out, in]}, with {@code prefix.bias [out]} if {@code bias}. */
    default Linear linear(String prefix, long out, long in, boolean bias) {
        Tensor w = get(prefix + ".weight", out, in);
        return new Linear(w, bias ? get(prefix + ".bias", out) : null);
    }

    /**
     * The fused projection {@code prefix} {@code [3·hidden, hidden]} as its q, k and v row blocks (views of one
     * weight), q and k rows in the halves layout of {@link Rope3d#applyHalves}, heads of {@code headDim}.
     */
    default Linear[] qkvLinears(String prefix, long hidden, boolean bias, long headDim) {
        Tensor w = Rope3d.toHalves(get(prefix + ".weight", 3 * hidden, hidden), 2 * hidden, headDim);
        Tensor b = bias ? Rope3d.toHalves(get(prefix + ".bias", 3 * hidden), 2 * hidden, headDim) : null;
        Linear[] out = new Linear[3];
        for (int i = 0; i < 3; i++) {
            out[i] = new Linear(w.narrow(0, i * hidden, hidden), b == null ? null : b.narrow(0, i * hidden, hidden));
        }
        return out;
    }

    /**
     * The QK RMSNorm {@code name [dim]} (eps 1e-6) with its weight in the halves layout of
     * {@link Rope3d#applyHalves}, or {@code null} when the config has no QK norm.
     */
    default RmsNorm qkNorm(String name, long dim, boolean enabled) {
        return enabled ? new RmsNorm(Rope3d.toHalves(get(name, dim), dim, dim), 1e-6) : null;
    }
}
