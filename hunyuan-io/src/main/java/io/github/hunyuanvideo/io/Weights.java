package io.github.hunyuanvideo.io;

import io.github.hunyuanvideo.nn.NamedTensors;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * One name-addressed view over the tensors of one or more checkpoint files.
 *
 * <p>Derived views ({@link #stripPrefix}, {@link #addPrefix}, {@link #rename}) share the open files of the view they
 * come from; only the view returned by {@code open}/{@code of} owns them and closes them.
 */
public final class Weights implements NamedTensors, AutoCloseable {
    private record Ref(TensorSource source, String key) {
    }

    private final Map<String, Ref> refs;
    private final List<TensorSource> owned;

    private Weights(Map<String, Ref> refs, List<TensorSource> owned) {
        this.refs = Collections.unmodifiableMap(refs);
        this.owned = owned;
    }

    /**
     * Opens a checkpoint: a {@code .safetensors} file, a {@code torch.save} file ({@code .pt}, {@code .pth},
     * {@code .bin}, {@code .ckpt}: read by {@link TorchCheckpoint#open(Path)}, which unwraps {@code module} /
     * {@code state_dict} / {@code ema}), a sharded {@code *.index.json}, or a directory holding an index, else its
     * safetensors files, else its torch.save files. Torch.save files are checked against their zip CRC-32s (see
     * {@link TorchCheckpoint}).
     */
    public static Weights open(Path path) throws IOException {
        return open(path, true);
    }

    /**
     * As {@link #open(Path)}; with {@code checkCrc32} false the torch.save files among them are read without their
     * CRC-32 check ({@link TorchCheckpoint#open(Path, boolean)}), which saves a pass over their data for files known
     * to be intact. Safetensors files have no checksums either way.
     */
    public static Weights open(Path path, boolean checkCrc32) throws IOException {
        if (!Files.exists(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString(), null, "checkpoint not found");
        }
        if (Files.isDirectory(path)) {
            try (Stream<Path> s = Files.list(path)) {
                List<Path> files = s.sorted().toList();
                for (Path f : files) {
                    if (f.getFileName().toString().endsWith(".safetensors.index.json")) {
                        return open(f, checkCrc32);
                    }
                }
                List<Path> st = files.stream().filter(f -> f.getFileName().toString().endsWith(".safetensors"))
                        .toList();
                if (st.isEmpty()) {
                    // Without safetensors, fall back to torch.save files (e.g. vae/pytorch_model.pt).
                    st = files.stream().filter(f -> TORCH_SUFFIXES.stream()
                            .anyMatch(f.getFileName().toString()::endsWith)).toList();
                }
                if (st.isEmpty()) {
                    throw new CheckpointFormatException(path, "directory holds no .safetensors, "
                            + String.join(", ", TORCH_SUFFIXES) + " file or index");
                }
                return open(st, checkCrc32);
            }
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".index.json")) {
            return openIndex(path, checkCrc32);
        }
        return of(List.of(openFile(path, checkCrc32)));
    }

    private static final List<String> TORCH_SUFFIXES = List.of(".pt", ".pth", ".bin", ".ckpt");

    /** One checkpoint file, by its suffix. */
    private static TensorSource openFile(Path path, boolean checkCrc32) throws IOException {
        String name = path.getFileName().toString();
        if (name.endsWith(".safetensors")) {
            return SafetensorsFile.open(path);
        }
        if (TORCH_SUFFIXES.stream().anyMatch(name::endsWith)) {
            return TorchCheckpoint.open(path, checkCrc32);
        }
        throw new CheckpointFormatException(path, "unknown checkpoint format (expected .safetensors, "
                + String.join(", ", TORCH_SUFFIXES) + " or *.index.json)");
    }

    /** Opens several files as one view; names must be unique across them. */
    public static Weights open(List<Path> files) throws IOException {
        return open(files, true);
    }

    private static Weights open(List<Path> files, boolean checkCrc32) throws IOException {
        List<TensorSource> sources = new ArrayList<>();
        try {
            for (Path f : files) {
                Weights w = open(f, checkCrc32);
                sources.addAll(w.owned);
            }
            return of(sources);
        } catch (IOException | RuntimeException e) {
            sources.forEach(TensorSource::close);
            throw e;
        }
    }

    private static Weights openIndex(Path index, boolean checkCrc32) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(index.toFile());
        } catch (IOException e) {
            throw new CheckpointFormatException(index, "not valid JSON", e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointFormatException(index, "no weight_map object");
        }
        Map<String, String> nameToFile = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = map.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String file = e.getValue().asText();
            if (file.contains("/") || file.contains("\\") || file.equals("..")) {
                throw new CheckpointFormatException(index, "shard name '" + file + "' is not a plain file name");
            }
            nameToFile.put(e.getKey(), file);
        }
        Path dir = index.toAbsolutePath().getParent();
        Map<String, TensorSource> shards = new LinkedHashMap<>();
        try {
            for (String file : new LinkedHashSet<>(nameToFile.values())) {
                Path shard = dir.resolve(file);
                if (!Files.isRegularFile(shard)) {
                    throw new CheckpointFormatException(index, "shard " + shard + " is missing");
                }
                shards.put(file, openFile(shard, checkCrc32));
            }
            Map<String, Ref> refs = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : nameToFile.entrySet()) {
                TensorSource src = shards.get(e.getValue());
                if (src.info(e.getKey()) == null) {
                    throw new CheckpointFormatException(index, "tensor '" + e.getKey() + "' is not in shard "
                            + e.getValue());
                }
                refs.put(e.getKey(), new Ref(src, e.getKey()));
            }
            return new Weights(refs, new ArrayList<>(shards.values()));
        } catch (IOException | RuntimeException e) {
            shards.values().forEach(TensorSource::close);
            throw e;
        }
    }

    /** A view over already opened sources, which it takes ownership of. */
    public static Weights of(List<? extends TensorSource> sources) {
        Map<String, Ref> refs = new LinkedHashMap<>();
        for (TensorSource s : sources) {
            for (String n : s.names()) {
                Ref prev = refs.put(n, new Ref(s, n));
                if (prev != null) {
                    throw new IllegalArgumentException("tensor '" + n + "' appears in both "
                            + prev.source().info(n).file() + " and " + s.info(n).file());
                }
            }
        }
        return new Weights(refs, new ArrayList<>(sources));
    }

    /** All tensor names, in file order. */
    @Override
    public Set<String> names() {
        return refs.keySet();
    }

    public boolean contains(String name) {
        return refs.containsKey(name);
    }

    /** Metadata of {@code name} (under its name in this view). */
    public TensorInfo info(String name) {
        return ref(name).source().info(ref(name).key()).withName(name);
    }

    @Override
    public long[] shape(String name) {
        return contains(name) ? info(name).shape() : null;
    }

    @Override
    public Tensor view(String name) {
        return get(name);
    }

    /**
     * The zero-copy CPU tensor {@code name}, in its stored dtype.
     *
     * @throws java.io.UncheckedIOException as {@link TensorSource#tensor} (damaged data, file changed on disk)
     */
    public Tensor get(String name) {
        Ref r = ref(name);
        return r.source().tensor(r.key());
    }

    /** {@code name} as a new tensor on {@code device} in {@code dtype} (a copy, independent of the file). */
    public Tensor get(String name, Device device, ScalarType dtype) {
        return get(name).to(device, dtype, false, true, new org.bytedeco.pytorch.MemoryFormatOptional());
    }

    /**
     * {@code name} after checking its shape.
     *
     * @throws IllegalArgumentException naming the tensor, the expected and the stored shape if they differ
     */
    public Tensor get(String name, long... expectedShape) {
        TensorInfo info = info(name);
        if (!Arrays.equals(info.shape(), expectedShape)) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + info.file() + " has shape "
                    + Arrays.toString(info.shape()) + ", expected " + Arrays.toString(expectedShape));
        }
        return get(name);
    }

    private Ref ref(String name) {
        Ref r = refs.get(name);
        if (r == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + describeFiles());
        }
        return r;
    }

    private String describeFiles() {
        Set<String> files = new LinkedHashSet<>();
        for (Ref r : refs.values()) {
            files.add(String.valueOf(r.source().info(r.key()).file()));
            if (files.size() > 3) {
                break;
            }
        }
        return files.isEmpty() ? "an empty checkpoint" : String.join(", ", files);
    }

    /** The tensors whose names start with {@code prefix}, with the prefix removed. */
    public Weights stripPrefix(String prefix) {
        return rename(n -> n.startsWith(prefix) ? n.substring(prefix.length()) : null);
    }

    /** Every tensor, with {@code prefix} put before its name. */
    public Weights addPrefix(String prefix) {
        return rename(n -> prefix + n);
    }

    /**
     * A view with every name mapped through {@code renamer}; a {@code null} result drops the tensor.
     *
     * @throws IllegalArgumentException if two tensors map to the same name
     */
    public Weights rename(Function<String, String> renamer) {
        Map<String, Ref> out = new LinkedHashMap<>();
        for (Map.Entry<String, Ref> e : refs.entrySet()) {
            String n = renamer.apply(e.getKey());
            if (n != null && out.put(n, e.getValue()) != null) {
                throw new IllegalArgumentException("renaming maps two tensors to '" + n + "'");
            }
        }
        return new Weights(out, List.of());
    }

    /** Closes the files this view owns (views derived from it must not be used afterwards). */
    @Override
    public void close() {
        owned.forEach(TensorSource::close);
    }
}
