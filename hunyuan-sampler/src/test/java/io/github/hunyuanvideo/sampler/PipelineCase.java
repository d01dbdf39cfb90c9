package io.github.hunyuanvideo.sampler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.dit.DitCheckpoint;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.vae.CausalVideoVae;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code pipeline_tiny} golden case of a reference folder: the official pipeline with the DiT of
 * {@code dit_tiny} and the VAE of {@code vae_tiny} (weights, configs and settings all read from the case files), the
 * text encoders stubbed by the case's precomputed embeddings. Shared by the sampler's tests and the GPU check.
 *
 * @param dir      the reference folder
 * @param settings {@code pipeline_tiny.json}'s {@code config}: size, length, steps, shift, guidance, seed, tiling
 * @param dit      the DiT's hyperparameters ({@code dit_tiny.json}'s {@code config})
 * @param vae      the VAE's ({@code vae_tiny.json}'s {@code config})
 */
public record PipelineCase(Path dir, JsonNode settings, DitConfig dit, VaeConfig vae) {
    /** Reads the three case descriptions of {@code dir}. */
    public static PipelineCase load(Path dir) throws IOException {
        ObjectMapper json = new ObjectMapper();
        return new PipelineCase(dir, json.readTree(dir.resolve("pipeline_tiny.json").toFile()).get("config"),
                DitConfig.fromJson(json.readTree(dir.resolve("dit_tiny.json").toFile()).get("config")),
                VaeConfig.fromJson(json.readTree(dir.resolve("vae_tiny.json").toFile()).get("config")));
    }

    /**
     * The sampler settings of the case: its tiling, schedule direction and text length, no text encoders, noise from
     * the CPU generator (as the case drew it) and the guidance unrounded (as the float32 case fed it).
     */
    public SamplerConfig config(String device, Precision precision, Precision vaePrecision) {
        return SamplerConfig.builder().ditConfig(dit).textLen(settings.get("text_len").asInt())
                .precision(precision).vaePrecision(vaePrecision).textEncoderPrecision(Precision.FP32)
                .vaeTiling(settings.get("enable_tiling").asBoolean())
                .flowReverse(settings.get("flow_reverse").asBoolean())
                .device(device).noiseDevice("cpu").exactGuidance(true).loadTextEncoders(false).build();
    }

    /** A sampler over the case's DiT and VAE weights, in {@code config}'s precisions on its device. */
    public HunyuanVideoSampler sampler(SamplerConfig config) throws IOException {
        Device device = HunyuanVideoSampler.resolveDevice(config.device());
        HunyuanVideoTransformer model;
        try (Weights all = Weights.open(dir.resolve("dit_tiny.safetensors"))) {
            model = DitCheckpoint.loadOfficial(modelWeights(all), dit, device, config.precision().scalarType());
        }
        try {
            return new HunyuanVideoSampler(config, model, vae(config), null);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** The case's VAE in {@code config}'s VAE precision on its device, with its default tiling. */
    public CausalVideoVae vae(SamplerConfig config) throws IOException {
        try (Weights all = Weights.open(dir.resolve("vae_tiny.safetensors"))) {
            return CausalVideoVae.load(modelWeights(all), vae, HunyuanVideoSampler.resolveDevice(config.device()),
                    config.vaePrecision().scalarType());
        }
    }

    /** The request of the case: its size, length, steps, shift, guidance scales and latent seed. */
    public GenerationRequest request() {
        return GenerationRequest.builder("a dummy prompt (the golden case stubs the text encoders)")
                .size(settings.get("height").asInt(), settings.get("width").asInt())
                .videoLength(settings.get("video_length").asInt())
                .inferSteps(settings.get("num_inference_steps").asInt())
                .flowShift(settings.get("flow_shift").asDouble())
                .embeddedGuidanceScale(settings.get("embedded_guidance_scale").asDouble())
                .guidanceScale(settings.get("guidance_scale(cfg)").asDouble())
                .seed(settings.get("latents_seed").asLong()).build();
    }

    /** The case's precomputed text embeddings ({@code in.prompt_embeds}, {@code _mask}, {@code _embeds_2}). */
    public static PromptEmbeddings embeddings(Weights ref) {
        return new PromptEmbeddings(ref.get("in.prompt_embeds"), ref.get("in.prompt_mask"),
                ref.get("in.prompt_embeds_2"));
    }

    /**
     * Runs the case through {@link #sampler} and returns {@code mid.stepN.latents}, {@code out.latents} and
     * {@code out.video} → relative error ‖actual − ref‖ / ‖ref‖.
     */
    public Map<String, Double> run(String device, Precision precision, Precision vaePrecision) throws IOException {
        SamplerConfig config = config(device, precision, vaePrecision);
        Map<String, Double> errors = new LinkedHashMap<>();
        try (Weights ref = Weights.open(dir.resolve("pipeline_tiny.safetensors"));
             PointerScope scope = new PointerScope();
             HunyuanVideoSampler sampler = sampler(config)) {
            ProgressListener listener = ProgressListener.ofLatents((index, latents) -> {
                String key = "mid.step" + index + ".latents";
                errors.put(key, Tensors.relativeError(latents, ref.get(key)));
            });
            try (SamplerResult r = sampler.predict(request(), embeddings(ref), null, listener,
                    CancellationToken.NONE)) {
                errors.put("out.latents", Tensors.relativeError(r.latents(), ref.get("out.latents")));
                errors.put("out.video", Tensors.relativeError(r.videos(), ref.get("out.video")));
            }
        }
        return errors;
    }

    /** The case file's weights, without its in/mid/out tensors. */
    private static Weights modelWeights(Weights all) {
        return all.rename(n -> n.startsWith("in.") || n.startsWith("mid.") || n.startsWith("out.") ? null : n);
    }
}
