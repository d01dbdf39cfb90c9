package io.github.hunyuanvideo.io;

import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One whole file mapped once into memory as a libtorch byte tensor (private, read-only mapping: the file is never
 * written). Tensors handed out are views into this mapping; they share its storage, so they stay valid even after
 * this object is closed, and the mapping goes away when the last view does.
 */
public final class MappedFile implements AutoCloseable {
    private final Path path;
    private final long size;
    private Tensor bytes;

    private MappedFile(Path path, long size, Tensor bytes) {
        this.path = path;
        this.size = size;
        this.bytes = bytes;
    }

    /** Maps {@code path}. An empty file maps to an empty tensor. */
    public static MappedFile map(Path path) throws IOException {
        long size = Files.size(path);
        Tensor t;
        if (size == 0) {
            t = torch.empty(0L).to(torch.ScalarType.Byte);
        } else {
            // shared=false: MAP_PRIVATE over an O_RDONLY descriptor, so read-only files work and nothing is written back.
            t = torch.from_file(path.toAbsolutePath().toString(), new BoolOptional(false), new LongOptional(size),
                    new TensorOptions(torch.ScalarType.Byte));
        }
        // Kept alive beyond any enclosing PointerScope; released in close().
        t.retainReference();
        return new MappedFile(path, size, t);
    }

    public Path path() {
        return path;
    }

    public long size() {
        return size;
    }

    /**
     * A contiguous tensor of {@code dtype} and {@code shape} whose data starts at byte {@code offset}. Zero-copy when
     * {@code offset} is a multiple of the element size; copied otherwise (libtorch cannot view misaligned data).
     */
    public Tensor view(long offset, DType dtype, long[] shape) {
        long numel = 1;
        try {
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(path + ": shape " + Arrays.toString(shape) + " overflows");
        }
        return strided(offset, dtype, shape, contiguousStrides(shape), numel);
    }

    /**
     * A tensor of {@code dtype} over the {@code storageElements} elements starting at byte {@code offset}, seen
     * through {@code shape}/{@code strides} (in elements) from element {@code storageOffset} of that span.
     */
    public Tensor strided(long offset, DType dtype, long[] shape, long[] strides, long storageElements) {
        return strided(offset, dtype, shape, strides, storageElements, 0);
    }

    /**
     * As {@link #strided(long, DType, long[], long[], long)}, starting at element {@code storageOffset}.
     *
     * @throws IllegalArgumentException if the byte range leaves the file, or the view reaches outside the
     *                                  {@code storageElements} span (libtorch would read foreign memory otherwise)
     */
    public Tensor strided(long offset, DType dtype, long[] shape, long[] strides, long storageElements,
                          long storageOffset) {
        Tensor base = bytes;
        if (base == null) {
            throw new IllegalStateException(path + " is closed");
        }
        long nbytes;
        long numel;
        try {
            nbytes = Math.multiplyExact(storageElements, (long) dtype.byteSize());
            numel = checkView(shape, strides, storageElements, storageOffset);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(path + ": view " + Arrays.toString(shape) + " strides "
                    + Arrays.toString(strides) + " overflows");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ": " + e.getMessage());
        }
        if (offset < 0 || nbytes < 0 || offset > size || nbytes > size - offset) {
            throw new IllegalArgumentException(path + ": byte range [" + offset + ", " + offset + "+" + nbytes
                    + ") lies outside the file (" + size + " bytes)");
        }
        if (numel == 0) {
            return torch.empty(shape, new TensorOptions(dtype.scalarType()), new MemoryFormatOptional());
        }
        Tensor raw = base.narrow(0, offset, nbytes);
        if (offset % dtype.byteSize() != 0) {
            raw = raw.clone();
        }
        Tensor flat = raw.view(dtype.scalarType());
        // as_strided's offset is absolute in the whole mapping's storage, not relative to the narrowed view.
        return torch.as_strided(flat, shape, strides, new LongOptional(flat.storage_offset() + storageOffset));
    }

    /**
     * Checks that a strided view stays inside a span of {@code storageElements} elements and returns its element
     * count.
     *
     * @throws IllegalArgumentException if it does not
     * @throws ArithmeticException      if the extent overflows a long
     */
    static long checkView(long[] shape, long[] strides, long storageElements, long storageOffset) {
        if (shape.length != strides.length || storageElements < 0 || storageOffset < 0) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + ", strides "
                    + Arrays.toString(strides) + ", storage offset " + storageOffset + " and span "
                    + storageElements + " do not form a view");
        }
        long numel = 1;
        long last = storageOffset;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0 || strides[i] < 0) {
                throw new IllegalArgumentException("negative size or stride in shape "
                        + Arrays.toString(shape) + " strides " + Arrays.toString(strides));
            }
            numel = Math.multiplyExact(numel, shape[i]);
            if (shape[i] > 0) {
                last = Math.addExact(last, Math.multiplyExact(shape[i] - 1, strides[i]));
            }
        }
        if (numel > 0 && last >= storageElements) {
            throw new IllegalArgumentException("view " + Arrays.toString(shape) + " strides "
                    + Arrays.toString(strides) + " from element " + storageOffset + " reaches element " + last
                    + " of a " + storageElements + "-element storage");
        }
        return numel;
    }

    /** Row-major strides (in elements) of {@code shape}. */
    public static long[] contiguousStrides(long[] shape) {
        long[] strides = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return strides;
    }

    @Override
    public void close() {
        if (bytes != null) {
            bytes.releaseReference();
            bytes = null;
        }
    }
}
