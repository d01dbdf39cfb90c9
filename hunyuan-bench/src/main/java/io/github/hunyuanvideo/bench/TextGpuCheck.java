package io.github.hunyuanvideo.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.text.ClipOutput;
import io.github.hunyuanvideo.text.ClipTextConfig;
import io.github.hunyuanvideo.text.ClipTextEncoder;
import io.github.hunyuanvideo.text.LlamaConfig;
import io.github.hunyuanvideo.text.LlmEncoderOptions;
import io.github.hunyuanvideo.text.LlmTextEncoder;
import io.github.hunyuanvideo.text.TextEncoding;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the golden cases {@code text_llm_tiny} (all three hidden-state variants) and {@code text_clip_tiny} (pooled
 * output, last hidden state) on a device in a given precision and prints the relative errors as a markdown table;
 * exits with status 1 if one exceeds the tolerance.
 *
 * <p>Arguments: {@code --reference DIR} (required: the folder holding {@code text_llm_tiny.json/.safetensors} and
 * {@code text_clip_tiny.json/.safetensors}), {@code --device cuda|cpu} (default cuda), {@code --dtype fp16|bf16|fp32}
 * (default fp16 on CUDA, fp32 on the CPU), {@code --tol X} (default 2e-2 for half precisions, 1e-4 for fp32).
 */
public final class TextGpuCheck {
    private static final Pattern FINAL_NORM = Pattern.compile("out\\.final_norm_skip(\\d+)\\.hidden_state");

    private TextGpuCheck() {
    }

    public static void main(String[] args) throws IOException {
        Path reference = null;
        String device = "cuda";
        String dtypeName = null;
        Double tol = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value (--reference DIR, --device, --dtype, --tol)");
            }
            switch (a) {
                case "--reference" -> reference = Paths.get(args[++i]);
                case "--device" -> device = args[++i];
                case "--dtype" -> dtypeName = args[++i];
                case "--tol" -> tol = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        if (reference == null) {
            throw new IllegalArgumentException("--reference DIR is required (the folder of text_llm_tiny.* and "
                    + "text_clip_tiny.*)");
        }
        ScalarType dtype = Precision.parse(dtypeName != null ? dtypeName : device.equals("cuda") ? "fp16" : "fp32")
                .scalarType();
        double tolerance = tol != null ? tol : dtype == ScalarType.Float ? 1e-4 : 2e-2;
        Device dev = new Device(device);
        List<String> rows = new ArrayList<>();
        boolean ok = llm(reference, dev, dtype, tolerance, rows) & clip(reference, dev, dtype, tolerance, rows);
        System.out.println("| case | output | device, dtype | relative error | tolerance | ok |");
        System.out.println("|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
        if (!ok) {
            System.exit(1);
        }
    }

    private static boolean llm(Path dir, Device dev, ScalarType dtype, double tol, List<String> rows)
            throws IOException {
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("text_llm_tiny.json").toFile()).get("config");
        LlamaConfig config = LlamaConfig.fromJson(cfg.get("full_config"));
        int crop = cfg.get("crop_start").asInt();
        boolean ok = true;
        try (Weights w = Weights.open(dir.resolve("text_llm_tiny.safetensors"))) {
            List<String> keys = new ArrayList<>(List.of("out.hidden_state"));
            w.names().stream().filter(n -> FINAL_NORM.matcher(n).matches()).forEach(keys::add);
            for (String key : keys) {
                Matcher m = FINAL_NORM.matcher(key);
                LlmEncoderOptions opts = m.matches()
                        ? new LlmEncoderOptions(LlmEncoderOptions.defaults().textLen(), Integer.parseInt(m.group(1)),
                        true)
                        : LlmEncoderOptions.defaults();
                try (PointerScope scope = new PointerScope();
                     LlmTextEncoder enc = LlmTextEncoder.create(config,
                             () -> Parameters.of(w.stripPrefix("model."), dev, dtype), null, opts, dev);
                     TextEncoding out = enc.encodeIds(w.get("in.input_ids"), w.get("in.attention_mask"), crop)) {
                    boolean maskOk = Arrays.equals(Tensors.toLongArray(out.mask()),
                            Tensors.toLongArray(w.get("out.attention_mask")));
                    ok &= row(rows, "text_llm_tiny", key, dev, dtype, out.states(), w.get(key), tol) && maskOk;
                }
            }
        }
        return ok;
    }

    private static boolean clip(Path dir, Device dev, ScalarType dtype, double tol, List<String> rows)
            throws IOException {
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("text_clip_tiny.json").toFile()).get("config");
        ClipTextConfig config = ClipTextConfig.fromJson(cfg.get("full_config"));
        try (Weights w = Weights.open(dir.resolve("text_clip_tiny.safetensors"));
             PointerScope scope = new PointerScope();
             ClipTextEncoder enc = ClipTextEncoder.create(config,
                     () -> Parameters.of(w.stripPrefix("text_model."), dev, dtype), null, dev);
             ClipOutput out = enc.encodeIds(w.get("in.input_ids"), w.get("in.attention_mask"))) {
            boolean ok = row(rows, "text_clip_tiny", "out.pooler_output", dev, dtype, out.pooled(),
                    w.get("out.pooler_output"), tol);
            return row(rows, "text_clip_tiny", "out.last_hidden_state", dev, dtype, out.lastHiddenState(),
                    w.get("out.last_hidden_state"), tol) && ok;
        }
    }

    private static boolean row(List<String> rows, String name, String key, Device dev, ScalarType dtype,
                               Tensor actual, Tensor expected, double tol) {
        double err = Tensors.relativeError(actual, expected);
        boolean ok = err <= tol;
        rows.add(String.format(Locale.ROOT, "| %s | %s | %s, %s | %.3e | %.0e | %s |", name, key,
                dev.str().getString(), dtype, err, tol, ok ? "yes" : "NO"));
        return ok;
    }
}
