package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.io.CheckpointFormatException;
import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

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
}
