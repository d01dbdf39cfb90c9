package io.github.hunyuanvideo.nn;

import org.bytedeco.pytorch.Tensor;

import java.util.Set;

/**
 * A read-only collection of named tensors, such as an opened checkpoint: what {@link Parameters} binds a model's
 * parameters from.
 */
public interface NamedTensors {
    /** Every tensor name, in file order. */
    Set<String> names();

    /** The shape of tensor {@code name}, or {@code null} if there is none of that name. */
    long[] shape(String name);

    /**
     * A CPU tensor holding tensor {@code name} (a view of the file where possible), owned by the caller's innermost
     * open scope.
     *
     * @throws IllegalArgumentException naming the tensor if there is none of that name
     */
    Tensor view(String name);
}
