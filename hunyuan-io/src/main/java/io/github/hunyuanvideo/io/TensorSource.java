package io.github.hunyuanvideo.io;

import org.bytedeco.pytorch.Tensor;

import java.util.Set;

/**
 * A read-only collection of named tensors backed by one checkpoint file. Tensors are zero-copy CPU views of the
 * mapped file; they stay valid while the source is open.
 */
public interface TensorSource extends AutoCloseable {
    /** The tensor names, in file order. */
    Set<String> names();

    /** Metadata of one tensor, or {@code null} if absent. */
    TensorInfo info(String name);

    /**
     * A CPU tensor viewing the mapped bytes of {@code name} (no copy when the data is aligned).
     *
     * @throws IllegalArgumentException       if the name is absent
     * @throws java.io.UncheckedIOException with a {@link CheckpointFormatException} cause naming the file if its
     *                                        data is found damaged (a torch.save storage's CRC-32) or the file
     *                                        changed on disk since it was opened
     */
    Tensor tensor(String name);

    @Override
    void close();
}
