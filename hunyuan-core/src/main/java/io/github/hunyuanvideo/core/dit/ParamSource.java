package io.github.hunyuanvideo.core.dit;

import io.github.hunyuanvideo.io.nn.Linear;
import io.github.hunyuanvideo.io.nn.RmsNorm;
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

    /** The QK RMSNorm {@code name [dim]} (eps 1e-6), or {@code null} when the config has no QK norm. */
    default RmsNorm qkNorm(String name, long dim, boolean enabled) {
        return enabled ? new RmsNorm(get(name, dim), 1e-6) : null;
    }
}
