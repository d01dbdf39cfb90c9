package io.github.hunyuanvideo.io;

import io.github.hunyuanvideo.io.RestrictedUnpickler.StorageRef;
import io.github.hunyuanvideo.io.RestrictedUnpickler.TensorRef;
import io.github.hunyuanvideo.io.RestrictedUnpickler.Tuple;
import org.bytedeco.pytorch.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@code torch.save} checkpoint (zip format, zip64 included) read without running any Python code.
 *
 * <p>The archive's {@code data.pkl} is interpreted by a restricted unpickler that knows only the opcodes and globals
 * of a state dict (ordered dicts, tensor and parameter rebuilds, typed and untyped storages, dtypes, plain
 * containers); any other global, such as {@code posix.system}, makes {@link #open} fail with a
 * {@link CheckpointFormatException} naming it, before anything else happens. Storages must be stored uncompressed
 * (torch.save's default); tensors are zero-copy views of the mapped file that honour storage offsets and strides,
 * and tensors sharing a storage share its memory.
 *
 * <p>Every entry read is checked against the CRC-32 in the zip directory (torch's own reader never checks them):
 * the pickle and byte order marker by {@link #open}, each storage the first time one of its tensors is handed out
 * by {@link #tensor} (once per storage and open, over the mapping itself, so the check keeps the zero-copy design
 * and reads only the storages that are used). A mismatch fails naming the file and the entry, e.g.
 * {@code archive/data/3: CRC-32 mismatch (stored 0x…, computed 0x…)}. An archive whose every CRC-32 is 0 was
 * written by torch.save under {@code torch.serialization.set_crc32_options(False)}: it has nothing to check against
 * and loads unverified, with a warning. The check reads each storage once more, 0.10–0.19 s per 4 GB on one CPU
 * core: 8–13 % of a 4 GB load into bf16 CPU tensors, 5–7 % into float32 ones (see {@code docs/benchmarks.md}); the
 * {@code checkCrc32} argument of {@link #open(Path, boolean)} skips it for files known to be intact.
 *
 * <p>Only the tensors directly inside the selected dict are exposed (non-tensor values are skipped); see
 * {@link #open(Path)} for how that dict is chosen.
 */
public final class TorchCheckpoint implements TensorSource {
    /** Pickles larger than this are refused (a state dict of 100,000 tensors needs about 15 MB). */
    public static final long MAX_PICKLE_BYTES = 64L << 20;
    /** Keys that {@link #open(Path)} unwraps, in this order, when the top-level dict holds a dict under them. */
    public static final List<String> WRAPPER_KEYS = List.of("module", "state_dict", "ema");

    private static final Logger LOG = LoggerFactory.getLogger(TorchCheckpoint.class);

    private final Path path;
    private final Map<String, TensorRef> tensors;
    private final Map<String, TensorInfo> infos;
    private final MappedFile mapped;
    private final ZipArchive zip;
    /** The zip entries of the storages not checked yet, by storage key. */
    private final Map<String, ZipArchive.Entry> unverified;

    private TorchCheckpoint(Path path, Map<String, TensorRef> tensors, MappedFile mapped, ZipArchive zip,
                            Map<String, ZipArchive.Entry> unverified) {
        this.path = path;
        this.tensors = tensors;
        this.mapped = mapped;
        this.zip = zip;
        this.unverified = unverified;
        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        tensors.forEach((k, t) -> infos.put(k, new TensorInfo(k, t.dtype(), t.shape(), path)));
        this.infos = Collections.unmodifiableMap(infos);
    }

    /**
     * Opens the state dict of {@code path}: if the top-level dict holds a dict under one of {@link #WRAPPER_KEYS}
     * ({@code {"module": sd}} as in the official DiT files, {@code {"state_dict": sd}}, {@code {"ema": sd}}), that
     * dict, else the top-level dict itself.
     *
     * @throws CheckpointFormatException if the file is malformed, unsafe, compressed, holds no dict, or its pickle
     *                                   does not match its CRC-32
     * @throws IOException               if it cannot be read
     */
    public static TorchCheckpoint open(Path path) throws IOException {
        return open(path, true);
    }

    /**
     * As {@link #open(Path)}; with {@code checkCrc32} false no entry is checked against its CRC-32 (as torch.load
     * does), which saves one pass over every storage read but loads a damaged file's wrong bytes as weights.
     */
    public static TorchCheckpoint open(Path path, boolean checkCrc32) throws IOException {
        return open(path, Selection.AUTO, null, checkCrc32);
    }

    /**
     * Opens the dict stored under {@code loadKey} in the top-level dict (like the official {@code --load-key}), or
     * the top-level dict itself when {@code loadKey} is {@code null}.
     *
     * @throws CheckpointFormatException if the key is absent or its value is not a dict, or the file is malformed
     */
    public static TorchCheckpoint open(Path path, String loadKey) throws IOException {
        return open(path, loadKey, true);
    }

    /**
     * As {@link #open(Path, String)}, checking CRC-32s only if {@code checkCrc32} (see
     * {@link #open(Path, boolean)}).
     */
    public static TorchCheckpoint open(Path path, String loadKey, boolean checkCrc32) throws IOException {
        return open(path, loadKey == null ? Selection.ROOT : Selection.KEY, loadKey, checkCrc32);
    }

    private enum Selection { AUTO, ROOT, KEY }

    private static TorchCheckpoint open(Path path, Selection selection, String loadKey, boolean checkCrc32)
            throws IOException {
        ZipArchive zip = ZipArchive.read(path);
        boolean verify = checkCrc32 && zip.checksummed();
        if (checkCrc32 && !verify) {
            LOG.warn("{}: saved without CRC-32 checksums (torch.serialization.set_crc32_options(False)), so damage to "
                    + "its data cannot be detected", path);
        }
        String prefix = archivePrefix(path, zip);
        ZipArchive.Entry order = zip.entries().get(prefix + "byteorder");
        if (order != null) {
            String bo = new String(zip.readSmall(order, 16, verify), StandardCharsets.US_ASCII);
            if (!bo.equals("little")) {
                throw new CheckpointFormatException(path, "byte order '" + bo + "' is not supported (only little)");
            }
        }
        byte[] pickle = zip.readSmall(zip.entries().get(prefix + "data.pkl"), MAX_PICKLE_BYTES, verify);
        Map<String, StorageRef> storages = new HashMap<>();
        Object root = RestrictedUnpickler.load(path, pickle, pid -> storage(path, zip, prefix, storages, pid));
        Map<?, ?> dict = select(path, root, selection, loadKey);
        Map<String, TensorRef> tensors = new LinkedHashMap<>();
        int skipped = 0;
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getValue() instanceof TensorRef t)) {
                skipped++;
                continue;
            }
            if (!(e.getKey() instanceof String name)) {
                throw new CheckpointFormatException(path, "a tensor is stored under a non-string key of type "
                        + RestrictedUnpickler.typeName(e.getKey()));
            }
            tensors.put(name, t);
        }
        if (skipped > 0) {
            LOG.debug("{}: skipped {} non-tensor values", path, skipped);
        }
        Map<String, ZipArchive.Entry> unverified = new ConcurrentHashMap<>();
        if (verify) {
            for (TensorRef t : tensors.values()) {
                String key = t.storage().key();
                unverified.putIfAbsent(key, zip.entries().get(prefix + "data/" + key));
            }
        }
        MappedFile mapped = MappedFile.map(path);
        return new TorchCheckpoint(path, Collections.unmodifiableMap(tensors), mapped, zip, unverified);
    }

    /** The folder name torch.save puts before every entry ("archive/data.pkl"). */
    private static String archivePrefix(Path path, ZipArchive zip) throws CheckpointFormatException {
        String prefix = null;
        for (String name : zip.entries().keySet()) {
            int slash = name.indexOf('/');
            if (slash > 0 && name.indexOf('/', slash + 1) < 0 && name.endsWith("/data.pkl")) {
                if (prefix != null) {
                    throw new CheckpointFormatException(path, "archive holds more than one data.pkl");
                }
                prefix = name.substring(0, slash + 1);
            }
        }
        if (prefix == null) {
            throw new CheckpointFormatException(path, "zip archive has no <name>/data.pkl: not a torch.save file");
        }
        return prefix;
    }

    /** Resolves the persistent id ('storage', storage_type, key, location, numel) to its stored zip entry. */
    private static StorageRef storage(Path path, ZipArchive zip, String prefix, Map<String, StorageRef> cache,
                                      Tuple pid) throws CheckpointFormatException {
        if (pid.size() != 5 || !"storage".equals(pid.get(0))
                || !(pid.get(1) instanceof RestrictedUnpickler.Global type) || type.storageDType() == null
                || !(pid.get(2) instanceof String key) || !(pid.get(3) instanceof String)
                || !(pid.get(4) instanceof Long numel) || numel < 0) {
            throw new CheckpointFormatException(path, "pickle: persistent id is not ('storage', <storage type>, "
                    + "key, location, numel)");
        }
        StorageRef cached = cache.get(key);
        if (cached != null) {
            return cached;
        }
        ZipArchive.Entry entry = zip.entries().get(prefix + "data/" + key);
        if (entry == null) {
            throw new CheckpointFormatException(path, "storage '" + printableKey(key) + "' has no entry "
                    + prefix + "data/<key>");
        }
        zip.requireStored(entry);
        DType dtype = type.storageDType();
        long nbytes;
        try {
            nbytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            nbytes = Long.MAX_VALUE;
        }
        if (nbytes > entry.size()) {
            throw new CheckpointFormatException(path, "storage '" + entry.name() + "' declares " + numel + " "
                    + dtype + " elements but its entry holds " + entry.size() + " bytes");
        }
        StorageRef s = new StorageRef(key, dtype, numel, entry.dataOffset());
        cache.put(key, s);
        return s;
    }

    private static String printableKey(String key) {
        return key.length() > 64 ? key.substring(0, 64) + "..." : key;
    }

    private static Map<?, ?> select(Path path, Object root, Selection selection, String loadKey)
            throws CheckpointFormatException {
        if (!(root instanceof Map<?, ?> top)) {
            throw new CheckpointFormatException(path, "holds a " + RestrictedUnpickler.typeName(root)
                    + ", not a dict of tensors");
        }
        switch (selection) {
            case ROOT -> {
                return top;
            }
            case KEY -> {
                if (!(top.get(loadKey) instanceof Map<?, ?> inner)) {
                    throw new CheckpointFormatException(path, "no dict under key '" + loadKey + "'"
                            + (top.containsKey(loadKey) ? " (its value is a "
                            + RestrictedUnpickler.typeName(top.get(loadKey)) + ")" : ""));
                }
                return inner;
            }
            default -> {
                for (String k : WRAPPER_KEYS) {
                    if (top.get(k) instanceof Map<?, ?> inner) {
                        return inner;
                    }
                }
                return top;
            }
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public Set<String> names() {
        return infos.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        return infos.get(name);
    }

    /**
     * A CPU tensor viewing {@code name}'s storage in the mapped file, with its stored shape, strides and storage
     * offset (so it may be non-contiguous). Tensors that shared a storage when saved share memory here. The first
     * tensor of each storage costs one CRC-32 pass over that storage (see the class comment).
     *
     * @throws IllegalArgumentException if the name is absent
     * @throws UncheckedIOException     with a {@link CheckpointFormatException} cause if the storage does not match
     *                                  its CRC-32 (again on every call), or the file changed on disk since it was
     *                                  opened
     */
    @Override
    public Tensor tensor(String name) {
        TensorRef t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + path);
        }
        // computeIfPresent runs at most once at a time per key and keeps the key when the check throws.
        unverified.computeIfPresent(t.storage().key(), (key, entry) -> {
            try {
                zip.verifyCrc32(entry, mapped.crc32(entry.dataOffset(), entry.size()));
            } catch (CheckpointFormatException e) {
                throw e.unchecked();
            }
            return null;
        });
        return mapped.strided(t.storage().dataOffset(), t.dtype(), t.shape(), t.strides(), t.storageElements(),
                t.storageOffset());
    }

    @Override
    public void close() {
        mapped.close();
    }
}
