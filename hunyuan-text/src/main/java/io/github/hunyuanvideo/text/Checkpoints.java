package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.io.CheckpointFormatException;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
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
     * The prefix, among {@code prefixes}, under which {@code root} holds {@code probe}.
     *
     * @throws UncheckedIOException if none does
     */
    private static String prefix(Weights root, Path dir, String probe, String[] prefixes) {
        for (String p : prefixes) {
            if (root.contains(p + probe)) {
                return p;
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
     * The model's tensors of {@code root}: those under {@code prefix}, with it removed (other tensors, such as
     * lm_head or a vision tower, drop out), less the buffers older transformers versions saved.
     */
    private static Weights view(Weights root, String prefix) {
        return root.rename(n -> n.startsWith(prefix) && !isSavedBuffer(n) ? n.substring(prefix.length()) : null);
    }

    /**
     * Whether {@code name} is a buffer that transformers computes rather than loads but older versions saved (old CLIP
     * snapshots such as openai/clip-vit-* hold {@code embeddings.position_ids}; old Llama saves
     * {@code rotary_emb.inv_freq}): transformers ignores them on loading, and so does the strict check.
     */
    private static boolean isSavedBuffer(String name) {
        return name.endsWith("embeddings.position_ids") || name.endsWith("rotary_emb.inv_freq");
    }

    /**
     * Checks that the checkpoint in {@code dir} holds exactly the tensors of {@code expected} (no weight is copied),
     * then returns a loader that opens the folder and builds the model on {@code device} in {@code dtype} each time
     * it is asked, closing the parameters once the model is built.
     *
     * @param what     the encoder in messages, e.g. "CLIP text encoder"
     * @param probe    a tensor name that tells which of {@code prefixes} the checkpoint uses
     * @param expected name → shape of every tensor the checkpoint must hold (without the prefix)
     * @param build    builds the model from its parameters
     * @throws IllegalArgumentException naming the folder and the first missing or misshapen tensor, or the
     *                                  unexpected ones
     */
    static <M extends AutoCloseable> Supplier<M> checkedLoader(Path dir, String what, String probe, String[] prefixes,
                                                               Map<String, long[]> expected, Device device,
                                                               ScalarType dtype, Function<Parameters, M> build) {
        return checkedLoader(dir, what, probe, prefixes, expected, device, dtype, name -> false, build);
    }

    /**
     * {@link #checkedLoader(Path, String, String, String[], Map, Device, ScalarType, Function)} reading the tensors
     * {@code onHost} accepts into host memory instead of onto {@code device}: those the model keeps there (streamed
     * layers), which then never pass through the device.
     */
    static <M extends AutoCloseable> Supplier<M> checkedLoader(Path dir, String what, String probe, String[] prefixes,
                                                               Map<String, long[]> expected, Device device,
                                                               ScalarType dtype, Predicate<String> onHost,
                                                               Function<Parameters, M> build) {
        String prefix;
        try (Weights root = open(dir)) {
            prefix = prefix(root, dir, probe, prefixes);
            Parameters.checkExactly(view(root, prefix), expected, what + " checkpoint " + dir
                    + (prefix.isEmpty() ? "" : " (names under '" + prefix + "')"));
        }
        return () -> {
            try (Weights root = open(dir)) {
                Weights w = view(root, prefix);
                // the Device made per tensor belongs to the binding's scope
                try (Parameters p = Parameters.of((name, shape, dev, dt) -> Parameters.copy(w, name, shape,
                        onHost.test(name) ? new Device("cpu") : dev, dt), device, dtype)) {
                    return build.apply(p);
                }
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
