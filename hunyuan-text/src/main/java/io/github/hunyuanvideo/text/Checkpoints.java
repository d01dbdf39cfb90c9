package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.io.CheckpointFormatException;
import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.function.Supplier;

/** Opening the encoders' Hugging Face folders. */
final class Checkpoints {
    private Checkpoints() {
    }

    /**
     * @throws IllegalArgumentException if {@code dir} is not a directory holding {@code config.json}
     */
    static Path requireModelDir(Path dir, String what) {
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IllegalArgumentException(what + " folder " + dir + " does not exist or is not a directory");
        }
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException(what + " folder " + dir + " has no config.json");
        }
        return dir;
    }

    /**
     * Parses the JSON file {@code configJson} with {@code parse}.
     *
     * @throws UncheckedIOException     if the file cannot be read or is not JSON
     * @throws IllegalArgumentException from {@code parse}, prefixed with the file name
     */
    static <T> T readConfig(Path configJson, Function<JsonNode, T> parse) {
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(configJson.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + configJson, e);
        }
        try {
            return parse.apply(n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configJson + ": " + e.getMessage(), e);
        }
    }

    /** Opens the checkpoint in {@code dir} (single or sharded safetensors), failing with an unchecked exception. */
    static Weights open(Path dir) {
        try {
            return Weights.open(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the weights in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The view of {@code root} under the first of {@code prefixes} that holds {@code probe}, with that prefix
     * removed (other tensors, such as lm_head or a vision tower, drop out).
     */
    static Weights view(Weights root, Path dir, String probe, String... prefixes) {
        for (String p : prefixes) {
            if (root.contains(p + probe)) {
                return p.isEmpty() ? root.rename(Function.identity()) : root.stripPrefix(p);
            }
        }
        throw new UncheckedIOException(new CheckpointFormatException(dir, "no tensor '" + probe
                + "' under any of the prefixes " + String.join(", ", quoted(prefixes))));
    }

    private static String[] quoted(String[] prefixes) {
        String[] q = new String[prefixes.length];
        for (int i = 0; i < q.length; i++) {
            q[i] = "'" + prefixes[i] + "'";
        }
        return q;
    }

    /**
     * A loader that checks every name and shape against {@code weights} and returns shape-only tensors on the meta
     * device: building a model with it validates a checkpoint before any memory is spent on weights.
     */
    static TensorLoader checking(Weights weights) {
        TensorOptions meta = new TensorOptions(new Device("meta"));
        return (name, shape) -> {
            weights.get(name, shape);
            return torch.empty(shape, meta, new MemoryFormatOptional());
        };
    }

    /**
     * Checks the checkpoint in {@code dir} by building the model once with {@link #checking} (names and shapes,
     * no weight copied), then returns a loader that opens the folder and builds the model on {@code device} in
     * {@code dtype} each time it is asked.
     *
     * @param probe    a tensor name that tells which of {@code prefixes} the checkpoint uses
     * @param build    builds the model from a loader of its tensors
     */
    static <M extends AutoCloseable> Supplier<M> checkedLoader(Path dir, String probe, String[] prefixes,
                                                               Device device, ScalarType dtype,
                                                               Function<TensorLoader, M> build) {
        try (Weights root = open(dir)) {
            closeUnchecked(build.apply(checking(view(root, dir, probe, prefixes))));
        }
        return () -> {
            try (Weights root = open(dir)) {
                return build.apply(TensorLoader.of(view(root, dir, probe, prefixes), device, dtype));
            }
        };
    }

    /** The cache identity of a model in {@code dir}: kind, absolute folder, dtype and device. */
    static String id(String kind, Path dir, Device device, ScalarType dtype) {
        return kind + ":" + dir.toAbsolutePath().normalize() + ":" + dtype + ":" + device.str().getString();
    }

    /** Closes a model or tokenizer, whose {@code close} throws no checked exception despite AutoCloseable's. */
    static void closeUnchecked(AutoCloseable c) {
        try {
            c.close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
