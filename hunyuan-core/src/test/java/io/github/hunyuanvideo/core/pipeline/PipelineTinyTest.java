package io.github.hunyuanvideo.core.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.core.dit.DitConfig;
import io.github.hunyuanvideo.io.Precision;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official pipeline end to end on the CPU in float32: the tiny DiT and VAE loaded by
 * {@link HunyuanVideoSampler#fromPretrained} from a folder laid out like the released checkpoints, the text
 * encoders' outputs given as precomputed embeddings (the golden case stubs them the same way).
 */
class PipelineTinyTest {
    private static final double TOL = 1e-4;

    /** Lays out the tiny checkpoints like {@code ckpts/} (official file names and formats). */
    static Path officialLayout(Path root) throws IOException {
        Path pt = ReferenceCase.dir().resolve("pt");
        Path model = root.resolve("hunyuan-video-t2v-720p");
        Files.createDirectories(model.resolve("transformers"));
        Files.createDirectories(model.resolve("vae"));
        Files.copy(pt.resolve("dit_tiny_module.pt"), model.resolve("transformers/mp_rank_00_model_states.pt"));
        Files.copy(pt.resolve("vae_tiny/config.json"), model.resolve("vae/config.json"));
        Files.copy(pt.resolve("vae_tiny/pytorch_model.pt"), model.resolve("vae/pytorch_model.pt"));
        return root;
    }

    /** The sampler settings of the golden case: float32 everywhere, no tiling, tiny DiT config, no text encoders. */
    static SamplerConfig tinyConfig(JsonNode pipelineConfig, DitConfig dit, String device, Precision precision,
                                    Precision vaePrecision) {
        return SamplerConfig.builder().ditConfig(dit).latentChannels(dit.inChannels())
                .textStatesDim(dit.textStatesDim()).textStatesDim2(dit.textStatesDim2())
                .textLen(pipelineConfig.get("text_len").asInt())
                .precision(precision).vaePrecision(vaePrecision).textEncoderPrecision(Precision.FP32)
                .vaeTiling(pipelineConfig.get("enable_tiling").asBoolean())
                .flowShift(pipelineConfig.get("flow_shift").asDouble())
                .flowReverse(pipelineConfig.get("flow_reverse").asBoolean())
                .flowSolver(pipelineConfig.get("solver").asText())
                .embeddedCfgScale(pipelineConfig.get("embedded_guidance_scale").asDouble())
                .cfgScale(pipelineConfig.get("guidance_scale(cfg)").asDouble())
                .inferSteps(pipelineConfig.get("num_inference_steps").asInt())
                .device(device).loadTextEncoders(false).build();
    }

    static GenerationRequest tinyRequest(JsonNode cfg, SamplerConfig config) {
        return GenerationRequest.builder("a dummy prompt (the golden case stubs the text encoders)", config)
                .size(cfg.get("height").asInt(), cfg.get("width").asInt())
                .videoLength(cfg.get("video_length").asInt()).seed(cfg.get("latents_seed").asLong()).build();
    }

    @Test
    void officialPipelineEndToEnd(@TempDir Path root) throws IOException {
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); ReferenceCase dit = ReferenceCase.load("dit_tiny");
             PointerScope scope = new PointerScope()) {
            JsonNode cfg = c.config();
            SamplerConfig config = tinyConfig(cfg, DitConfig.fromJson(dit.config()), "cpu", Precision.FP32,
                    Precision.FP32);
            List<Double> stepErrors = new ArrayList<>();
            ProgressListener check = new ProgressListener() {
                @Override
                public void onStep(int step, int total, Duration elapsed, Duration eta) {
                }

                @Override
                public void onLatents(int index, Tensor latents) {
                    stepErrors.add(c.assertClose("mid.step" + index + ".latents", latents, TOL));
                }
            };
            PromptEmbeddings emb = new PromptEmbeddings(c.tensor("in.prompt_embeds"), c.tensor("in.prompt_mask"),
                    c.tensor("in.prompt_embeds_2"));
            try (HunyuanVideoSampler sampler = HunyuanVideoSampler.fromPretrained(officialLayout(root), config);
                 SamplerResult r = sampler.predict(tinyRequest(cfg, config), emb, null, check,
                         CancellationToken.NONE)) {
                assertEquals(cfg.get("num_inference_steps").asInt(), stepErrors.size());
                double latents = c.assertClose("out.latents", r.latents(), TOL);
                double video = c.assertClose("out.video", r.videos(), TOL);
                System.out.printf("pipeline_tiny fp32 CPU: steps %s, out.latents %.2e, out.video %.2e%n",
                        stepErrors, latents, video);
            }
        }
    }

    @Test
    void embeddingsThatDoNotFitTheDitAreNamed(@TempDir Path root) throws IOException {
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); ReferenceCase dit = ReferenceCase.load("dit_tiny");
             PointerScope scope = new PointerScope()) {
            JsonNode cfg = c.config();
            SamplerConfig config = tinyConfig(cfg, DitConfig.fromJson(dit.config()), "cpu", Precision.FP32,
                    Precision.FP32);
            try (HunyuanVideoSampler sampler = HunyuanVideoSampler.fromPretrained(officialLayout(root), config)) {
                PromptEmbeddings wide = new PromptEmbeddings(c.tensor("in.prompt_embeds").repeat(1, 1, 2),
                        c.tensor("in.prompt_mask"), c.tensor("in.prompt_embeds_2"));
                GenerationRequest req = tinyRequest(cfg, config);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> sampler.predict(req, wide, null, ProgressListener.NONE, CancellationToken.NONE));
                assertTrue(e.getMessage().startsWith("positive.states:"), e.getMessage());
                PromptEmbeddings ok = new PromptEmbeddings(c.tensor("in.prompt_embeds"), c.tensor("in.prompt_mask"),
                        c.tensor("in.prompt_embeds_2"));
                GenerationRequest cfgOn = GenerationRequest.builder("x", config).size(64, 64).videoLength(9)
                        .guidanceScale(5.0).build();
                e = assertThrows(IllegalArgumentException.class,
                        () -> sampler.predict(cfgOn, ok, null, ProgressListener.NONE, CancellationToken.NONE));
                assertTrue(e.getMessage().startsWith("negative:"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> sampler.predict(req, null, null,
                        ProgressListener.NONE, CancellationToken.NONE));
                assertTrue(e.getMessage().startsWith("positive:"), e.getMessage());
                GenerationRequest huge = GenerationRequest.builder("x", config).size(1 << 20, 1 << 20).videoLength(129)
                        .build();
                e = assertThrows(IllegalArgumentException.class,
                        () -> sampler.predict(huge, ok, null, ProgressListener.NONE, CancellationToken.NONE));
                assertTrue(e.getMessage().startsWith("height/width/videoLength:")
                        && e.getMessage().contains("too large for the latent grid"), e.getMessage());
                IllegalStateException noText = assertThrows(IllegalStateException.class, () -> sampler.predict(req));
                assertTrue(noText.getMessage().contains("loadTextEncoders=false"), noText.getMessage());
            }
        }
    }
}
