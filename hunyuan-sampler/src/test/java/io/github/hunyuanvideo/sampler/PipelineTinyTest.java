package io.github.hunyuanvideo.sampler;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.bench.PipelineGpuCheck;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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

    private static Path officialLayout(Path root) throws IOException {
        return PipelineGpuCheck.layOut(ReferenceCase.dir(), root);
    }

    private static SamplerConfig tinyConfig(JsonNode cfg, DitConfig dit) {
        return PipelineGpuCheck.config(cfg, dit, "cpu", Precision.FP32, Precision.FP32);
    }

    @Test
    void officialPipelineEndToEnd(@TempDir Path root) throws IOException {
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); ReferenceCase dit = ReferenceCase.load("dit_tiny");
             PointerScope scope = new PointerScope()) {
            JsonNode cfg = c.config();
            SamplerConfig config = tinyConfig(cfg, DitConfig.fromJson(dit.config()));
            List<Double> stepErrors = new ArrayList<>();
            ProgressListener check = ProgressListener.ofLatents(
                    (index, latents) -> stepErrors.add(c.assertClose("mid.step" + index + ".latents", latents, TOL)));
            assertEquals("cpu", config.noiseDevice());
            PromptEmbeddings emb = PipelineGpuCheck.embeddings(c.tensors());
            try (HunyuanVideoSampler sampler = HunyuanVideoSampler.fromPretrained(officialLayout(root), config);
                 SamplerResult r = sampler.predict(PipelineGpuCheck.request(cfg, config), emb, null, check,
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
    void gpuCheckRunsInHalfPrecisionOnTheCpu() throws IOException {
        Map<String, Double> errors = PipelineGpuCheck.run(ReferenceCase.dir(), "cpu", Precision.BF16, Precision.FP16);
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny")) {
            assertEquals(c.config().get("num_inference_steps").asInt() + 2, errors.size(), errors.toString());
        }
        System.out.println("pipeline_tiny bf16 DiT / fp16 VAE on the CPU: " + errors);
        errors.forEach((k, v) -> assertTrue(v <= 2e-2, k + " " + v));
    }

    @Test
    void embeddingsThatDoNotFitTheDitAreNamed(@TempDir Path root) throws IOException {
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); ReferenceCase dit = ReferenceCase.load("dit_tiny");
             PointerScope scope = new PointerScope()) {
            JsonNode cfg = c.config();
            SamplerConfig config = tinyConfig(cfg, DitConfig.fromJson(dit.config()));
            try (HunyuanVideoSampler sampler = HunyuanVideoSampler.fromPretrained(officialLayout(root), config)) {
                PromptEmbeddings wide = new PromptEmbeddings(c.tensor("in.prompt_embeds").repeat(1, 1, 2),
                        c.tensor("in.prompt_mask"), c.tensor("in.prompt_embeds_2"));
                GenerationRequest req = PipelineGpuCheck.request(cfg, config);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> sampler.predict(req, wide, null, ProgressListener.NONE, CancellationToken.NONE));
                assertTrue(e.getMessage().startsWith("positive.states:"), e.getMessage());
                PromptEmbeddings ok = PipelineGpuCheck.embeddings(c.tensors());
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
