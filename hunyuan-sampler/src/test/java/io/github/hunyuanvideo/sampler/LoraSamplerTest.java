package io.github.hunyuanvideo.sampler;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.io.SafetensorsWriter;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LoRA adapters in {@link SamplerConfig} and {@link HunyuanVideoSampler#fromPretrained}: entries are validated when
 * they are added, the adapters are merged into the loaded DiT (two at half the case's scale generate what one at the
 * case's scale does), and a file that does not fit is refused naming it, before any model loads.
 */
class LoraSamplerTest {
    private static final double TOL = 1e-5;
    @TempDir
    static Path root;
    private static List<Path> adapters;
    private static double scale;
    private static PipelineCase pipeline;

    /** The official {@code ckpts/} layout holding the case's DiT and VAE, and the LoRA case's adapter files. */
    @BeforeAll
    static void layout() throws IOException {
        Path model = root.resolve("hunyuan-video-t2v-720p");
        try (ReferenceCase dit = ReferenceCase.load("dit_tiny"); ReferenceCase vae = ReferenceCase.load("vae_tiny");
             ReferenceCase lora = ReferenceCase.load("lora_tiny")) {
            write(dit.modelWeights(), model.resolve("transformers/mp_rank_00_model_states.safetensors"));
            write(vae.modelWeights(), model.resolve("vae/pytorch_model.safetensors"));
            new ObjectMapper().writeValue(model.resolve("vae/config.json").toFile(), vae.config());
            adapters = new ArrayList<>();
            lora.config().get("formats").fieldNames().forEachRemaining(f -> adapters.add(ReferenceCase.dir()
                    .resolve(f)));
            scale = lora.config().get("scale").asDouble();
        }
        pipeline = PipelineCase.load(ReferenceCase.dir());
    }

    private static void write(Weights w, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Map<String, Tensor> tensors = new TreeMap<>();
        w.names().forEach(n -> tensors.put(n, w.get(n)));
        SafetensorsWriter.write(file, tensors, Map.of());
    }

    private static SamplerConfig.Builder config() {
        return pipeline.config("cpu", Precision.FP32, Precision.FP32).toBuilder();
    }

    @Test
    void entriesAreValidatedAndKeptInOrder() {
        assertEquals(List.of(), SamplerConfig.defaults().loras());
        for (double bad : new double[]{Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SamplerConfig.builder().lora(Path.of("a.safetensors"), bad));
            assertTrue(e.getMessage().startsWith("lora: a.safetensors: ") && e.getMessage().contains("finite"),
                    e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SamplerConfig.builder().lora(null, 1))
                .getMessage().startsWith("lora: "));
        SamplerConfig c = SamplerConfig.builder().lora(Path.of("a"), 0.5).lora(Path.of("b"), -1)
                .loraIgnoreUnmatched(true).build();
        assertEquals(List.of(new SamplerConfig.Lora(Path.of("a"), 0.5), new SamplerConfig.Lora(Path.of("b"), -1)),
                c.loras());
        assertEquals(c, c.toBuilder().build());
        assertEquals(3, c.toBuilder().lora(Path.of("c"), 1).build().loras().size());
        assertThrows(UnsupportedOperationException.class, () -> c.loras().add(new SamplerConfig.Lora(Path.of("d"),
                1)));
        assertTrue(c.toString().contains("loras="), c.toString());
    }

    @Test
    void fromPretrainedMergesTheAdapters() throws IOException {
        Tensor one = latents(config().lora(adapters.get(0), scale).build());
        Tensor halves = latents(config().lora(adapters.get(1), scale / 2).lora(adapters.get(2), scale / 2).build());
        Tensor none = latents(config().build());
        double err = Tensors.relativeError(halves, one);
        assertTrue(err <= TOL, "two adapters at half the scale vs one: " + err);
        assertTrue(Tensors.relativeError(none, one) > 100 * TOL, "the adapter changed nothing");
        for (Tensor t : new Tensor[]{one, halves, none}) {
            Scopes.release(t);
        }
    }

    @Test
    void aFileThatDoesNotFitIsRefusedNamingIt() throws IOException {
        Path foreign = root.resolve("foreign.safetensors");
        try (PointerScope scope = new PointerScope(); Weights w = Weights.open(adapters.get(0))) {
            Map<String, Tensor> t = new TreeMap<>();
            w.names().forEach(n -> t.put(n, w.get(n)));
            // img_in is a Conv3d: no Linear to update
            String key = "diffusion_model.img_in.proj.lora_A.weight";
            t.put(key, w.get(w.names().iterator().next()));
            t.put(key.replace("lora_A", "lora_B"), w.get(w.names().iterator().next()).t());
            SafetensorsWriter.write(foreign, t, Map.of());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> HunyuanVideoSampler.fromPretrained(root, config().lora(foreign, 1).build()));
            assertTrue(e.getMessage().startsWith("lora: " + foreign + ": ") && e.getMessage().contains(key),
                    e.getMessage());
        }
        Path missing = root.resolve("missing.safetensors");
        IOException e = assertThrows(IOException.class,
                () -> HunyuanVideoSampler.fromPretrained(root, config().lora(missing, 1).build()));
        assertTrue(e.getMessage().startsWith("lora: ") && e.getMessage().contains(missing.toString()),
                e.getMessage());
    }

    /** The case's latents generated by a sampler loaded with {@code config}, retained by the caller. */
    private static Tensor latents(SamplerConfig config) throws IOException {
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); PointerScope scope = new PointerScope();
             HunyuanVideoSampler sampler = HunyuanVideoSampler.fromPretrained(root, config);
             SamplerResult r = sampler.predict(pipeline.request(), PipelineCase.embeddings(c.tensors()), null,
                     ProgressListener.NONE, CancellationToken.NONE)) {
            Tensor out = r.latents().clone();
            out.retainReference();
            return out;
        }
    }
}
