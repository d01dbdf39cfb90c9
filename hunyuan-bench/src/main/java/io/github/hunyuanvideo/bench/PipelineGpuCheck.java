package io.github.hunyuanvideo.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.sampler.CancellationToken;
import io.github.hunyuanvideo.sampler.GenerationRequest;
import io.github.hunyuanvideo.sampler.HunyuanVideoSampler;
import io.github.hunyuanvideo.sampler.ProgressListener;
import io.github.hunyuanvideo.sampler.PromptEmbeddings;
import io.github.hunyuanvideo.sampler.SamplerConfig;
import io.github.hunyuanvideo.sampler.SamplerResult;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.javacpp.PointerScope;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs the {@code pipeline_tiny} golden case through {@link HunyuanVideoSampler#fromPretrained} (tiny DiT and VAE
 * laid out like the released {@code ckpts/}, precomputed text embeddings as in the case) and prints the relative
 * error of the latents after every step and of the video, as a markdown table. Exits non-zero when one exceeds the
 * tolerance.
 *
 * <pre>
 * PipelineGpuCheck REFERENCE_DIR [--device cuda] [--precision bf16] [--vae-precision fp16] [--tol 2e-2]
 * </pre>
 * REFERENCE_DIR holds {@code pipeline_tiny.json}, {@code pipeline_tiny.safetensors}, {@code dit_tiny.json},
 * {@code pt/dit_tiny_module.pt} and {@code pt/vae_tiny/{config.json,pytorch_model.pt}}. The initial noise is drawn by
 * the CPU generator (as the case did), so every device starts from the same latents, and the embedded guidance is fed
 * unrounded (6000, as in the float32 case; the original's bf16 run would feed 6016). On the CPU with
 * {@code --precision fp32 --vae-precision fp32 --tol 1e-4} this is the float32 golden test.
 */
public final class PipelineGpuCheck {
    private PipelineGpuCheck() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args[0].startsWith("-")) {
            System.err.println("usage: PipelineGpuCheck REFERENCE_DIR [--device cuda] [--precision bf16] "
                    + "[--vae-precision fp16] [--tol 2e-2]");
            System.exit(2);
        }
        String device = "cuda";
        Precision precision = Precision.BF16;
        Precision vaePrecision = Precision.FP16;
        double tol = 2e-2;
        for (int i = 1; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--device" -> device = v;
                case "--precision" -> precision = Precision.parse(v);
                case "--vae-precision" -> vaePrecision = Precision.parse(v);
                case "--tol" -> tol = Double.parseDouble(v);
                default -> {
                    System.err.println("unknown argument " + args[i]);
                    System.exit(2);
                }
            }
            i++;
        }
        Map<String, Double> errors = run(Paths.get(args[0]), device, precision, vaePrecision);
        System.out.printf(Locale.ROOT, "pipeline_tiny on %s, DiT %s, VAE %s%n%n", device, precision, vaePrecision);
        System.out.println("| tensor | relative error | tolerance | result |");
        System.out.println("|---|---|---|---|");
        boolean ok = true;
        for (Map.Entry<String, Double> e : errors.entrySet()) {
            boolean pass = e.getValue() <= tol;
            ok &= pass;
            System.out.printf(Locale.ROOT, "| %s | %.3e | %.0e | %s |%n", e.getKey(), e.getValue(), tol,
                    pass ? "PASS" : "FAIL");
        }
        System.out.println(ok ? "ALL PASS" : "NOT ALL PASS");
        System.exit(ok ? 0 : 1);
    }

    /**
     * Runs the case and returns {@code mid.stepN.latents}, {@code out.latents} and {@code out.video} → relative
     * error ‖actual − ref‖ / ‖ref‖.
     */
    public static Map<String, Double> run(Path referenceDir, String device, Precision precision,
                                          Precision vaePrecision) throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode cfg = json.readTree(referenceDir.resolve("pipeline_tiny.json").toFile()).get("config");
        DitConfig dit = DitConfig.fromJson(json.readTree(referenceDir.resolve("dit_tiny.json").toFile())
                .get("config"));
        SamplerConfig config = config(cfg, dit, device, precision, vaePrecision);
        Path root = Files.createTempDirectory("pipeline-tiny-");
        Map<String, Double> errors = new LinkedHashMap<>();
        try (Weights ref = Weights.open(referenceDir.resolve("pipeline_tiny.safetensors"));
             PointerScope scope = new PointerScope();
             HunyuanVideoSampler sampler = HunyuanVideoSampler.fromPretrained(layOut(referenceDir, root), config)) {
            ProgressListener listener = ProgressListener.ofLatents((index, latents) -> {
                String key = "mid.step" + index + ".latents";
                errors.put(key, Tensors.relativeError(latents, ref.get(key)));
            });
            try (SamplerResult r = sampler.predict(request(cfg, config), embeddings(ref), null, listener,
                    CancellationToken.NONE)) {
                errors.put("out.latents", Tensors.relativeError(r.latents(), ref.get("out.latents")));
                errors.put("out.video", Tensors.relativeError(r.videos(), ref.get("out.video")));
            }
        } finally {
            deleteTree(root);
        }
        return errors;
    }

    /**
     * Copies the tiny checkpoints of {@code referenceDir/pt} into {@code root} under the released names:
     * {@code hunyuan-video-t2v-720p/transformers/mp_rank_00_model_states.pt} and
     * {@code hunyuan-video-t2v-720p/vae/{config.json,pytorch_model.pt}}.
     *
     * @return {@code root}
     */
    public static Path layOut(Path referenceDir, Path root) throws IOException {
        Path pt = referenceDir.resolve("pt");
        Path model = root.resolve("hunyuan-video-t2v-720p");
        Files.createDirectories(model.resolve("transformers"));
        Files.createDirectories(model.resolve("vae"));
        Files.copy(pt.resolve("dit_tiny_module.pt"), model.resolve("transformers/mp_rank_00_model_states.pt"));
        Files.copy(pt.resolve("vae_tiny/config.json"), model.resolve("vae/config.json"));
        Files.copy(pt.resolve("vae_tiny/pytorch_model.pt"), model.resolve("vae/pytorch_model.pt"));
        return root;
    }

    /**
     * The sampler settings of the case ({@code pipeline_tiny.json}'s {@code config}): its schedule, guidance and
     * tiling, the tiny DiT, no text encoders, noise from the CPU generator, guidance unrounded.
     */
    public static SamplerConfig config(JsonNode cfg, DitConfig dit, String device, Precision precision,
                                       Precision vaePrecision) {
        return SamplerConfig.builder().ditConfig(dit).latentChannels(dit.inChannels())
                .textStatesDim(dit.textStatesDim()).textStatesDim2(dit.textStatesDim2())
                .textLen(cfg.get("text_len").asInt())
                .precision(precision).vaePrecision(vaePrecision).textEncoderPrecision(Precision.FP32)
                .vaeTiling(cfg.get("enable_tiling").asBoolean())
                .flowShift(cfg.get("flow_shift").asDouble())
                .flowReverse(cfg.get("flow_reverse").asBoolean())
                .flowSolver(cfg.get("solver").asText())
                .embeddedCfgScale(cfg.get("embedded_guidance_scale").asDouble())
                .cfgScale(cfg.get("guidance_scale(cfg)").asDouble())
                .inferSteps(cfg.get("num_inference_steps").asInt())
                .device(device).noiseDevice("cpu").exactGuidance(true).loadTextEncoders(false).build();
    }

    /** The case's precomputed text embeddings ({@code in.prompt_embeds}, {@code _mask}, {@code _embeds_2}). */
    public static PromptEmbeddings embeddings(Weights ref) {
        return new PromptEmbeddings(ref.get("in.prompt_embeds"), ref.get("in.prompt_mask"),
                ref.get("in.prompt_embeds_2"));
    }

    /** The case's request: its size, length and latent seed. */
    public static GenerationRequest request(JsonNode cfg, SamplerConfig config) {
        return GenerationRequest.builder("a dummy prompt (the golden case stubs the text encoders)", config)
                .size(cfg.get("height").asInt(), cfg.get("width").asInt())
                .videoLength(cfg.get("video_length").asInt()).seed(cfg.get("latents_seed").asLong()).build();
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
