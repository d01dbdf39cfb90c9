package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.io.DType;
import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One LoRA adapter file of the DiT, with the scale to merge it at: each Linear it targets becomes
 * {@code W + scale · (alpha / rank) · B · A}, with {@code alpha = rank} where the file stores none. The key format is
 * told from the keys ({@link Format}); any of them may carry {@code <module>.alpha}.
 *
 * <p>Reading checks the file on its own: every A has its B, ranks agree, dtypes are floating point, alpha is one
 * finite value. Which DiT weight each module updates, and whether the shapes fit it, is decided by
 * {@link LoraMerge#of}. The tensors stay in the memory-mapped file until they are merged; close the adapter once the
 * DiT is loaded.
 */
public final class LoraAdapter implements AutoCloseable {
    /** The key formats, by the prefix and the names of the A (down) and B (up) matrices. */
    public enum Format {
        /** {@code diffusion_model.<official module>.lora_A.weight} / {@code .lora_B.weight}, usually no alpha. */
        ORIGINAL("diffusion_model.", "lora_A", "lora_B"),
        /** {@code lora_unet_<official module, dots as _>.lora_down.weight} / {@code .lora_up.weight} / {@code .alpha}. */
        KOHYA("lora_unet_", "lora_down", "lora_up"),
        /**
         * {@code transformer.<diffusers module>.lora_A.weight} / {@code .lora_B.weight}: the fused q/k/v and the
         * single blocks' {@code linear1} are split as in the diffusers checkpoint, one A per part.
         */
        DIFFUSERS("transformer.", "lora_A", "lora_B");

        private final String prefix;
        private final String down;
        private final String up;

        Format(String prefix, String down, String up) {
            this.prefix = prefix;
            this.down = down;
            this.up = up;
        }

        private String describe() {
            return prefix + "*." + down + "/" + up;
        }
    }

    /**
     * One low-rank pair of the file.
     *
     * @param name      the module in the format's naming, without the prefix
     * @param keys      its tensors: A, B and, if present, alpha
     * @param downShape A's shape {@code [rank, in]}
     * @param upShape   B's shape {@code [out, rank]}
     * @param alpha     the stored alpha, else the rank
     */
    record Module(String name, List<String> keys, long[] downShape, long[] upShape, double alpha) {
        String downKey() {
            return keys.get(0);
        }

        String upKey() {
            return keys.get(1);
        }

        long rank() {
            return downShape[0];
        }
    }

    private static final String WEIGHT = ".weight";
    private static final String ALPHA = ".alpha";

    private final Path file;
    private final double scale;
    private final Format format;
    private final Weights weights;
    private final List<Module> modules;
    private final List<String> unrecognisedKeys;

    private LoraAdapter(Path file, double scale, Format format, Weights weights, List<Module> modules,
                        List<String> unrecognisedKeys) {
        this.file = file;
        this.scale = scale;
        this.format = format;
        this.weights = weights;
        this.modules = modules;
        this.unrecognisedKeys = unrecognisedKeys;
    }

    /**
     * Opens the LoRA file (safetensors, or anything {@link Weights#open} reads), tells its format from the keys and
     * checks its pairs.
     *
     * @param scale the strength to merge it at (1 = as trained); negative values subtract it
     * @throws IOException              if the file cannot be read
     * @throws IllegalArgumentException naming the file, for a scale that is not finite, keys of no known format or of
     *                                  several, an A without its B (or the reverse), ranks that differ, a non-floating
     *                                  dtype or an alpha that is not one finite value
     */
    public static LoraAdapter read(Path file, double scale) throws IOException {
        if (!Double.isFinite(scale)) {
            throw new IllegalArgumentException(file + ": the LoRA scale must be finite, got " + scale);
        }
        Weights weights = Weights.open(file);
        try {
            return parse(file, scale, weights);
        } catch (IllegalArgumentException e) {
            weights.close();
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    private static LoraAdapter parse(Path file, double scale, Weights w) {
        Format format = detect(w.names());
        // a module's keys end in these, in this order: A, B, alpha
        String[] suffixes = {"." + format.down + WEIGHT, "." + format.up + WEIGHT, ALPHA};
        Map<String, String[]> pairs = new LinkedHashMap<>();
        List<String> unrecognised = new ArrayList<>();
        for (String key : w.names()) {
            String rest = key.startsWith(format.prefix) ? key.substring(format.prefix.length()) : "";
            int part = 0;
            while (part < suffixes.length && !(rest.endsWith(suffixes[part])
                    && rest.length() > suffixes[part].length())) {
                part++;
            }
            if (part == suffixes.length) {
                unrecognised.add(key);
            } else {
                String module = rest.substring(0, rest.length() - suffixes[part].length());
                pairs.computeIfAbsent(module, m -> new String[suffixes.length])[part] = key;
            }
        }
        List<Module> modules = new ArrayList<>();
        pairs.forEach((name, keys) -> modules.add(module(w, format, name, keys)));
        return new LoraAdapter(file, scale, format, w, Collections.unmodifiableList(modules),
                Collections.unmodifiableList(unrecognised));
    }

    /** The one format whose prefix the keys start with. */
    private static Format detect(Set<String> keys) {
        Set<Format> seen = EnumSet.noneOf(Format.class);
        for (String key : keys) {
            for (Format f : Format.values()) {
                if (key.startsWith(f.prefix)) {
                    seen.add(f);
                }
            }
        }
        if (seen.size() > 1) {
            throw new IllegalArgumentException("its keys mix the LoRA formats " + seen);
        }
        if (seen.isEmpty()) {
            throw new IllegalArgumentException(keys.isEmpty() ? "holds no tensors" : "no key has the form of a known "
                    + "LoRA format (" + String.join(", ", Arrays.stream(Format.values()).map(Format::describe)
                    .toList()) + "); first key '" + keys.iterator().next() + "'");
        }
        return seen.iterator().next();
    }

    /** The checked pair {@code keys} (A, B, alpha or null) of module {@code name}. */
    private static Module module(Weights w, Format format, String name, String[] keys) {
        String down = keys[0] != null ? keys[0] : format.prefix + name + "." + format.down + WEIGHT;
        String up = keys[1] != null ? keys[1] : format.prefix + name + "." + format.up + WEIGHT;
        if (keys[0] == null || keys[1] == null) {
            String present = keys[0] != null ? down : keys[1] != null ? up : keys[2];
            throw new IllegalArgumentException("'" + present + "' has no matching '" + (keys[0] == null ? down : up)
                    + "'");
        }
        for (String key : keys) {
            if (key != null && !isFloating(w.info(key).dtype())) {
                throw new IllegalArgumentException("'" + key + "' has dtype " + w.info(key).dtype()
                        + "; expected floating point");
            }
        }
        long[] downShape = w.info(down).shape();
        long[] upShape = w.info(up).shape();
        if (downShape.length != 2 || upShape.length != 2 || downShape[0] != upShape[1] || downShape[0] < 1) {
            throw new IllegalArgumentException("'" + up + "' has shape " + Arrays.toString(upShape) + " and '" + down
                    + "' " + Arrays.toString(downShape) + "; a LoRA pair is B [out, rank] and A [rank, in], rank >= 1");
        }
        double alpha = downShape[0];
        List<String> all = new ArrayList<>(List.of(down, up));
        if (keys[2] != null) {
            all.add(keys[2]);
            alpha = alpha(w, keys[2]);
        }
        return new Module(name, List.copyOf(all), downShape, upShape, alpha);
    }

    private static double alpha(Weights w, String key) {
        if (w.info(key).numel() != 1) {
            throw new IllegalArgumentException("'" + key + "' must hold one value, has shape "
                    + Arrays.toString(w.info(key).shape()));
        }
        double alpha;
        try (PointerScope scope = new PointerScope()) {
            alpha = w.get(key).to(ScalarType.Double).item_double();
        }
        if (!Double.isFinite(alpha)) {
            throw new IllegalArgumentException("'" + key + "' is " + alpha + "; alpha must be finite");
        }
        return alpha;
    }

    private static boolean isFloating(DType d) {
        return d == DType.F32 || d == DType.F16 || d == DType.BF16 || d == DType.F64;
    }

    /** The file it was read from. */
    public Path file() {
        return file;
    }

    /** The scale it is merged at. */
    public double scale() {
        return scale;
    }

    /** The key format of the file. */
    public Format format() {
        return format;
    }

    /** Its low-rank pairs, in file order. */
    List<Module> modules() {
        return modules;
    }

    /** Keys that belong to no pair of the format (e.g. another model's, or parts this merge does not know). */
    List<String> unrecognisedKeys() {
        return unrecognisedKeys;
    }

    /** Tensor {@code key} of the file: a zero-copy CPU view, owned by the caller's innermost open scope. */
    Tensor tensor(String key) {
        return weights.get(key);
    }

    /** Closes the file; merges resolved from this adapter can no longer run. */
    @Override
    public void close() {
        weights.close();
    }

    @Override
    public String toString() {
        return "LoraAdapter[" + file + ", " + format + ", " + modules.size() + " pairs, scale " + scale + "]";
    }
}
