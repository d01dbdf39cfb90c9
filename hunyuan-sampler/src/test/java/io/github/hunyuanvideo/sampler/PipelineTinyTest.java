package io.github.hunyuanvideo.sampler;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.io.SafetensorsWriter;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Precision;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official pipeline end to end on the CPU in float32: the case's tiny DiT and VAE handed to the sampler, the text
 * encoders' outputs given as precomputed embeddings (the golden case stubs them the same way), and once more through
 * {@link HunyuanVideoSampler#fromPretrained} from a folder laid out like the released checkpoints.
 */
class PipelineTinyTest {
    private static final double TOL = 1e-4;

    @Test
    void officialPipelineEndToEnd() throws IOException {
        Map<String, Double> errors = PipelineCase.load(ReferenceCase.dir()).run("cpu", Precision.FP32,
                Precision.FP32);
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny")) {
            assertEquals(c.config().get("num_inference_steps").asInt() + 2, errors.size(), errors.toString());
        }
        System.out.println("pipeline_tiny fp32 CPU: " + errors);
        errors.forEach((k, v) -> assertTrue(v <= TOL, k + " " + v));
    }

    @Test
    void halfPrecisionOnTheCpu() throws IOException {
        Map<String, Double> errors = PipelineCase.load(ReferenceCase.dir()).run("cpu", Precision.BF16,
                Precision.FP16);
        System.out.println("pipeline_tiny bf16 DiT / fp16 VAE on the CPU: " + errors);
        errors.forEach((k, v) -> assertTrue(v <= 2e-2, k + " " + v));
    }

    /** The released {@code ckpts/} layout, holding the case's own weights (safetensors in place of the .pt). */
    @Test
    void fromPretrainedLoadsTheOfficialLayout(@TempDir Path root) throws IOException {
        Path model = root.resolve("hunyuan-video-t2v-720p");
        try (ReferenceCase dit = ReferenceCase.load("dit_tiny"); ReferenceCase vae = ReferenceCase.load("vae_tiny")) {
            writeWeights(dit.modelWeights(), model.resolve("transformers/mp_rank_00_model_states.safetensors"));
            writeWeights(vae.modelWeights(), model.resolve("vae/pytorch_model.safetensors"));
            new ObjectMapper().writeValue(model.resolve("vae/config.json").toFile(), vae.config());
        }
        PipelineCase pipeline = PipelineCase.load(ReferenceCase.dir());
        SamplerConfig config = pipeline.config("cpu", Precision.FP32, Precision.FP32);
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); PointerScope scope = new PointerScope();
             HunyuanVideoSampler sampler = HunyuanVideoSampler.fromPretrained(root, config);
             SamplerResult r = sampler.predict(pipeline.request(), PipelineCase.embeddings(c.tensors()), null,
                     ProgressListener.NONE, CancellationToken.NONE)) {
            c.assertClose("out.latents", r.latents(), TOL);
            c.assertClose("out.video", r.videos(), TOL);
        }
    }

    private static void writeWeights(Weights w, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Map<String, Tensor> tensors = new TreeMap<>();
        w.names().forEach(n -> tensors.put(n, w.get(n)));
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
    }

    @Test
    void embeddingsThatDoNotFitTheDitAreNamed() throws IOException {
        PipelineCase pipeline = PipelineCase.load(ReferenceCase.dir());
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); PointerScope scope = new PointerScope();
             HunyuanVideoSampler sampler = pipeline.sampler(pipeline.config("cpu", Precision.FP32,
                     Precision.FP32))) {
            PromptEmbeddings wide = new PromptEmbeddings(c.tensor("in.prompt_embeds").repeat(1, 1, 2),
                    c.tensor("in.prompt_mask"), c.tensor("in.prompt_embeds_2"));
            GenerationRequest req = pipeline.request();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> sampler.predict(req, wide, null, ProgressListener.NONE, CancellationToken.NONE));
            assertTrue(e.getMessage().startsWith("positive.states:"), e.getMessage());
            PromptEmbeddings ok = PipelineCase.embeddings(c.tensors());
            GenerationRequest cfgOn = GenerationRequest.builder("x").size(req.height(), req.width())
                    .videoLength(req.videoLength()).guidanceScale(5.0).build();
            e = assertThrows(IllegalArgumentException.class,
                    () -> sampler.predict(cfgOn, ok, null, ProgressListener.NONE, CancellationToken.NONE));
            assertTrue(e.getMessage().startsWith("negative:"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> sampler.predict(req, null, null,
                    ProgressListener.NONE, CancellationToken.NONE));
            assertTrue(e.getMessage().startsWith("positive:"), e.getMessage());
            // a size this large no longer makes a request; ArgumentValidationTest checks the latent grid limit
            e = assertThrows(IllegalArgumentException.class,
                    () -> GenerationRequest.builder("x").size(1 << 20, 1 << 20).videoLength(129).build());
            assertTrue(e.getMessage().startsWith("height:"), e.getMessage());
            IllegalStateException noText = assertThrows(IllegalStateException.class, () -> sampler.predict(req));
            assertTrue(noText.getMessage().contains("without text encoders"), noText.getMessage());
        }
    }
}
