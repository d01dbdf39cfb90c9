package io.github.hunyuanvideo.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.dit.DitCheckpoint;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.DitInputs;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.dit.LoraMerge;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.text.LlamaConfig;
import io.github.hunyuanvideo.text.LlmEncoderOptions;
import io.github.hunyuanvideo.text.LlmTextEncoder;
import io.github.hunyuanvideo.text.TextEncoding;
import io.github.hunyuanvideo.vae.CausalVideoVae;
import io.github.hunyuanvideo.vae.TilingConfig;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Weight streaming changes nothing but where the weights live, checked on a device: the tiny golden DiT, LLM and VAE
 * ({@code dit_tiny}, {@code text_llm_tiny}, {@code vae_tiny}) run resident and streamed from host memory (all layers
 * at prefetch depth 1 and 2, about half of them, three calls in a row so the ring wraps), and every streamed output
 * must equal the resident one bit for bit. Prints a markdown table; exits non-zero on any difference.
 *
 * <pre>
 * StreamingGpuCheck REFERENCE_DIR [--device cuda] [--dtype bf16]
 * </pre>
 * The DiT computes in {@code --dtype}, the LLM and the VAE in fp16 on CUDA (float32 with {@code --dtype fp32}, as the
 * CPU test of this program runs).
 */
public final class StreamingGpuCheck {
    private static final int CALLS = 3;

    private StreamingGpuCheck() {
    }

    public static void main(String[] args) throws IOException {
        GoldenCheckArgs a = GoldenCheckArgs.parse("StreamingGpuCheck", args, Precision.BF16, 0);
        Device dev = a.openDevice();
        ScalarType ditDtype = a.dtype().scalarType();
        ScalarType halfDtype = ditDtype == ScalarType.Float ? ScalarType.Float : ScalarType.Half;
        List<String> rows = new ArrayList<>();
        boolean ok = dit(a, dev, ditDtype, rows) & llm(a.dir(), dev, halfDtype, rows) & vae(a, dev, halfDtype, rows);
        System.out.printf(Locale.ROOT, "%nstreamed vs resident on %s, %d calls each%n%n", a.device(), CALLS);
        System.out.println("| model | dtype | streamed | prefetch depth | outputs equal |");
        System.out.println("|---|---|---|---|---|");
        rows.forEach(System.out::println);
        System.out.println();
        System.out.println(ok ? "PASS" : "FAIL");
        if (!ok) {
            System.exit(1);
        }
    }

    private static boolean dit(GoldenCheckArgs a, Device dev, ScalarType dtype, List<String> rows)
            throws IOException {
        DitConfig cfg = DitConfig.fromJson(a.caseConfig("dit_tiny"));
        int blocks = cfg.doubleBlocks() + cfg.singleBlocks();
        try (Weights all = Weights.open(a.caseTensors("dit_tiny"))) {
            Weights weights = GoldenCheckArgs.modelWeights(all);
            DitInputs in = new DitInputs(all.get("in.x"), all.get("in.t"), all.get("in.text_states"),
                    all.get("in.text_mask"), all.get("in.text_states_2"),
                    all.contains("in.guidance") ? all.get("in.guidance") : null);
            Function<LayerStreaming, List<Tensor>> run = streaming -> {
                try (HunyuanVideoTransformer dit = DitCheckpoint.loadOfficial(weights, cfg, dev, dtype,
                        LoraMerge.none(), streaming)) {
                    return calls(() -> dit.forward(in));
                }
            };
            return compare("DiT (dit_tiny)", dtype, run.apply(LayerStreaming.none()), rows, List.of(
                    new Setting(blocks, 1, run.apply(new LayerStreaming(blocks, 1))),
                    new Setting(blocks, 2, run.apply(new LayerStreaming(blocks, 2))),
                    new Setting(blocks / 2, 1, run.apply(new LayerStreaming(blocks / 2, 1)))));
        }
    }

    private static boolean llm(Path dir, Device dev, ScalarType dtype, List<String> rows) throws IOException {
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("text_llm_tiny.json").toFile()).get("config");
        LlamaConfig config = LlamaConfig.fromJson(cfg.get("full_config"));
        int crop = cfg.get("crop_start").asInt();
        LlmEncoderOptions options = LlmEncoderOptions.defaults();
        int layers = options.layersToRun(config.numLayers());
        try (Weights w = Weights.open(dir.resolve("text_llm_tiny.safetensors"))) {
            Function<LayerStreaming, List<Tensor>> run = streaming -> {
                try (LlmTextEncoder enc = LlmTextEncoder.create(config,
                        () -> Parameters.of(w.stripPrefix("model."), dev, dtype), null, options, dev, streaming)) {
                    return calls(() -> {
                        try (TextEncoding out = enc.encodeIds(w.get("in.input_ids"), w.get("in.attention_mask"),
                                crop)) {
                            return out.states().clone();
                        }
                    });
                }
            };
            return compare("LLM (text_llm_tiny)", dtype, run.apply(LayerStreaming.none()), rows, List.of(
                    new Setting(layers, 1, run.apply(LayerStreaming.all(1))),
                    new Setting(layers, 2, run.apply(LayerStreaming.all(2))),
                    new Setting(Math.max(1, layers / 2), 1, run.apply(new LayerStreaming(Math.max(1, layers / 2),
                            1)))));
        }
    }

    private static boolean vae(GoldenCheckArgs a, Device dev, ScalarType dtype, List<String> rows)
            throws IOException {
        JsonNode config = a.caseConfig("vae_tiny");
        JsonNode t = config.get("tiling_for_x2");
        TilingConfig tiled = new TilingConfig(t.get("tile_sample_min_size").asInt(),
                t.get("tile_sample_min_tsize").asInt(), t.get("tile_overlap_factor").asDouble(), true, true);
        try (Weights all = Weights.open(a.caseTensors("vae_tiny"))) {
            Function<Boolean, List<Tensor>> run = streamed -> {
                try (CausalVideoVae vae = CausalVideoVae.load(GoldenCheckArgs.modelWeights(all),
                        VaeConfig.fromJson(config), dev, dtype, streamed)) {
                    List<Tensor> out = new ArrayList<>();
                    vae.setTiling(TilingConfig.disabled());
                    out.addAll(calls(() -> vae.decode(all.get("out.posterior_mean"))));
                    vae.setTiling(tiled);
                    out.addAll(calls(() -> vae.decode(all.get("out.tiled_posterior_mean"))));
                    return out;
                }
            };
            return compare("VAE decode, untiled and tiled (vae_tiny)", dtype, run.apply(false), rows,
                    List.of(new Setting(-1, 1, run.apply(true))));
        }
    }

    /** One streamed run: how many layers streamed (-1: every part), its prefetch depth, its outputs. */
    private record Setting(int streamed, int depth, List<Tensor> outputs) {
    }

    /** {@link #CALLS} results of {@code call}, each on the CPU and owned by the caller. */
    private static List<Tensor> calls(java.util.function.Supplier<Tensor> call) {
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < CALLS; i++) {
            try (PointerScope scope = new PointerScope()) {
                Tensor cpu = call.get().cpu();
                cpu.retainReference();
                out.add(cpu);
            }
        }
        return out;
    }

    private static boolean compare(String model, ScalarType dtype, List<Tensor> resident, List<String> rows,
                                   List<Setting> settings) {
        boolean ok = true;
        for (Setting s : settings) {
            boolean equal = s.outputs().size() == resident.size();
            for (int i = 0; equal && i < resident.size(); i++) {
                equal = torch.equal(s.outputs().get(i), resident.get(i));
            }
            ok &= equal;
            rows.add(String.format(Locale.ROOT, "| %s | %s | %s | %d | %s |", model, dtype,
                    s.streamed() < 0 ? "every part" : s.streamed() + " layers", s.depth(),
                    equal ? "bit-identical" : "NO"));
            s.outputs().forEach(Tensor::releaseReference);
        }
        resident.forEach(Tensor::releaseReference);
        return ok;
    }
}
