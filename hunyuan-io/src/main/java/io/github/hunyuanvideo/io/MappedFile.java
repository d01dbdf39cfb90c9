package io.github.hunyuanvideo.io;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.CRC32;

/**
 * One whole file mapped once into memory as a libtorch byte tensor (private, read-only mapping: the file is never
 * written). Tensors handed out are views into this mapping; they share its storage, so they stay valid even after
 * this object is closed, and the mapping goes away when the last view does.
 *
 * <p>The file must not change while tensors are taken from it: reading a mapped page past the end of a file that
 * has shrunk raises SIGBUS, which kills the JVM, and rewritten contents would load as wrong weights. So the file's
 * size, last-modified time and identity are recorded when it is mapped, and every view ({@link #view},
 * {@link #strided}) first checks them, failing with an {@link UncheckedIOException} (cause
 * {@link CheckpointFormatException}: "changed on disk since it was opened: size X → Y bytes") instead of touching
 * the mapping. Any change is refused, not only a shrink, since the contents may differ. What no check can catch: a
 * truncation between that check and libtorch's read of the view (or while a view handed out earlier is read) still
 * raises SIGBUS in native code, which the JVM cannot turn into an exception.
 */
public final class MappedFile implements AutoCloseable {
    /** Bytes handed to {@link CRC32} at once (a {@link java.nio.ByteBuffer} is int-indexed). */
    private static final long CRC_CHUNK = 1L << 30;

    private final Path path;
    private final long size;
    private final FileTime modified;
    private final Object fileKey;
    private Tensor bytes;

    private MappedFile(Path path, BasicFileAttributes attributes, Tensor bytes) {
        this.path = path;
        this.size = attributes.size();
        this.modified = attributes.lastModifiedTime();
        this.fileKey = attributes.fileKey();
        this.bytes = bytes;
    }

    /** Maps {@code path}. An empty file maps to an empty tensor. */
    public static MappedFile map(Path path) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
        long size = attributes.size();
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
        return new MappedFile(path, attributes, t);
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
     * @throws UncheckedIOException     if the file changed on disk since it was mapped (see the class comment)
     */
    public Tensor strided(long offset, DType dtype, long[] shape, long[] strides, long storageElements,
                          long storageOffset) {
        Tensor base = unchangedMapping();
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
     * The CRC-32 (zip's checksum) of the {@code length} bytes from {@code offset}, read through the mapping that
     * views share, so the bytes checked are the bytes they see (and their pages are then in memory for them).
     *
     * @throws IllegalArgumentException if the range leaves the file
     * @throws UncheckedIOException     if the file changed on disk since it was mapped
     */
    long crc32(long offset, long length) {
        Tensor base = unchangedMapping();
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw new IllegalArgumentException(path + ": byte range [" + offset + ", " + offset + "+" + length
                    + ") lies outside the file (" + size + " bytes)");
        }
        CRC32 crc = new CRC32();
        if (length > 0) {
            BytePointer p = new BytePointer(base.data_ptr());
            for (long pos = offset; pos < offset + length; pos += CRC_CHUNK) {
                // A pointer at each chunk: asByteBuffer() of a position beyond 2 GiB would clamp it to int.
                crc.update(p.getPointer(pos).capacity(Math.min(CRC_CHUNK, offset + length - pos)).asByteBuffer());
            }
        }
        return crc.getValue();
    }

    /** The mapping, after checking that the file is as it was when mapped (see the class comment). */
    private Tensor unchangedMapping() {
        Tensor base = bytes;
        if (base == null) {
            throw new IllegalStateException(path + " is closed");
        }
        String change;
        try {
            BasicFileAttributes now = Files.readAttributes(path, BasicFileAttributes.class);
            if (now.size() != size) {
                change = "size " + size + " → " + now.size() + " bytes";
            } else if (!now.lastModifiedTime().equals(modified)) {
                change = "last modified " + modified + " → " + now.lastModifiedTime();
            } else if (!Objects.equals(now.fileKey(), fileKey)) {
                change = "replaced by another file";
            } else {
                return base;
            }
        } catch (NoSuchFileException e) {
            change = "deleted";
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot check whether it changed on disk since it was opened: "
                    + e.getMessage(), e);
        }
        throw new CheckpointFormatException(path, "changed on disk since it was opened: " + change).unchecked();
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
