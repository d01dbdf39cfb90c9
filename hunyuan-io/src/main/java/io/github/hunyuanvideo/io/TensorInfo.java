package io.github.hunyuanvideo.io;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * What a checkpoint says about one tensor, known without touching its data.
 *
 * @param name  the key in the checkpoint
 * @param dtype element type
 * @param shape dimensions (empty for a scalar)
 * @param file  the file holding it
 */
public record TensorInfo(String name, DType dtype, long[] shape, Path file) {
    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Returns a copy with another name (used when keys are renamed). */
    public TensorInfo withName(String newName) {
        return new TensorInfo(newName, dtype, shape, file);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && file.equals(t.file);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + dtype.hashCode()) + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " (" + file.getFileName() + ")";
    }
}
