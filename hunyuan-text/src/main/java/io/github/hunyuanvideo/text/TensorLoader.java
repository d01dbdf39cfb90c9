package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Objects;

/**
 * Where a model's parameters come from: {@link #load} returns the named tensor with the expected shape, already on
 * the target device in the target dtype. Each call returns a new tensor owned by the caller.
 */
@FunctionalInterface
public interface TensorLoader {
    /**
     * The tensor {@code name} of shape {@code shape}, on the target device in the target dtype.
     *
     * @throws IllegalArgumentException if it is missing or its shape differs
     */
    Tensor load(String name, long... shape);

    /** A linear layer {@code prefix.weight [out, in]} (and {@code prefix.bias [out]} if {@code bias}). */
    static Linear linear(TensorLoader loader, String prefix, long out, long in, boolean bias) {
        Tensor w = loader.load(prefix + ".weight", out, in);
        Tensor b = bias ? loader.load(prefix + ".bias", out) : null;
        return new Linear(w, b);
    }

    /**
     * Reads from {@code weights} (names as in the view), copying each tensor to {@code device} in {@code dtype}.
     * The caller keeps ownership of {@code weights}.
     */
    static TensorLoader of(Weights weights, Device device, ScalarType dtype) {
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(dtype, "dtype");
        return (name, shape) -> {
            weights.get(name, shape);
            return weights.get(name, device, dtype);
        };
    }
}
