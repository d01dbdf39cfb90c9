package io.github.hunyuanvideo.dit;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.SafetensorsWriter;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parameter names and shapes, strict loading, and the other checkpoint layouts (diffusers names, official .pt). */
class DitWeightsTest {
    private static ReferenceCase ref;
    private static DitConfig tiny;

    @BeforeAll
    static void open() {
        ref = ReferenceCase.load("dit_tiny");
        tiny = DitConfig.fromJson(ref.config());
    }

    @AfterAll
    static void close() {
        ref.close();
    }

    @Test
    void fullConfigExpectsExactlyTheOfficialKeys() {
        try (ReferenceCase keys = ReferenceCase.load("keys_full")) {
            JsonNode dit = keys.json().get("dit");
            DitConfig cfg = DitConfig.fromJson(dit.get("config"));
            assertEquals(DitConfig.byName(dit.get("config_name").asText()), cfg);
            Map<String, long[]> expected = new LinkedHashMap<>();
            for (JsonNode k : dit.get("keys")) {
                long[] shape = new long[k.get("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = k.get("shape").get(i).asLong();
                }
                expected.put(k.get("key").asText(), shape);
            }
            Map<String, long[]> actual = HunyuanVideoTransformer.expectedShapes(cfg);
            assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(actual.keySet()));
            expected.forEach((name, shape) -> assertArrayEquals(shape, actual.get(name), name));
            assertEquals(dit.get("num_tensors").asInt(), actual.size());
            assertEquals(dit.get("num_elements").asLong(), actual.values().stream()
                    .mapToLong(s -> java.util.Arrays.stream(s).reduce(1, Math::multiplyExact)).sum());
        }
    }

    @Test
    void t2HasNoGuidanceEmbedder() {
        Map<String, long[]> distill = HunyuanVideoTransformer.expectedShapes(DitConfig.cfgDistill());
        Map<String, long[]> t2 = HunyuanVideoTransformer.expectedShapes(DitConfig.t2());
        List<String> dropped = new ArrayList<>(distill.keySet());
        dropped.removeAll(t2.keySet());
        assertEquals(List.of("guidance_in.mlp.0.weight", "guidance_in.mlp.0.bias", "guidance_in.mlp.2.weight",
                "guidance_in.mlp.2.bias"), dropped);
        assertEquals(distill.size() - 4, t2.size());
    }

    private static void assertLoadFails(Function<String, String> renamer, String expectedInMessage) {
        Weights w = DitReferenceTest.weightsOnly(ref.tensors()).rename(renamer);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DitCheckpoint.loadOfficial(w, tiny, new Device("cpu"), ScalarType.Float));
        assertTrue(e.getMessage().contains(expectedInMessage), e.getMessage());
    }

    @Test
    void strictLoadingNamesTheOffendingTensor() {
        List<String> names = new ArrayList<>(HunyuanVideoTransformer.expectedShapes(tiny).keySet());
        String dropped = names.get(names.size() / 2);
        assertLoadFails(n -> n.equals(dropped) ? null : n, "lacks tensor '" + dropped + "'");
        assertLoadFails(n -> n.equals("time_in.mlp.0.weight") ? "time_in.mlp.0.bias"
                        : n.equals("time_in.mlp.0.bias") ? "time_in.mlp.0.weight" : n,
                "tensor 'time_in.mlp.0.weight' has shape");
        assertLoadFails(n -> n.equals("final_layer.linear.bias") ? "final_layer.linear.extra" : n,
                "lacks tensor 'final_layer.linear.bias'");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DitCheckpoint.loadOfficial(ref.tensors(), tiny, new Device("cpu"), ScalarType.Float));
        assertTrue(e.getMessage().contains("unexpected tensor"), e.getMessage());
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
                () -> DitCheckpoint.loadDiffusers(DitReferenceTest.weightsOnly(ref.tensors()), tiny,
                        new Device("cpu"), ScalarType.Float));
        assertTrue(d.getMessage().contains("diffusers DiT checkpoint lacks tensor 'x_embedder.proj.weight'"),
                d.getMessage());
    }

    /** out.x of the golden inputs through {@code model}. */
    private static Tensor run(HunyuanVideoTransformer model) {
        return model.forward(DitReferenceTest.inputs(ref));
    }

    @Test
    void diffusersNamesGiveTheSameOutput(@TempDir Path dir) throws IOException {
        try (PointerScope scope = new PointerScope();
             Weights diffusers = Weights.of(List.of(OfficialToDiffusers.convert(
                     DitReferenceTest.weightsOnly(ref.tensors()), tiny.hiddenSize())));
             HunyuanVideoTransformer fromDiffusers = DitCheckpoint.loadDiffusers(diffusers, tiny,
                     new Device("cpu"), ScalarType.Float);
             HunyuanVideoTransformer fromOfficial = DitCheckpoint.loadOfficial(
                     DitReferenceTest.weightsOnly(ref.tensors()), tiny, new Device("cpu"), ScalarType.Float)) {
            // Each fused q/k/v tensor becomes 3 tensors (q, k, v), each single-block linear1 tensor 4 (+ MLP input).
            Set<String> official = HunyuanVideoTransformer.expectedShapes(tiny).keySet();
            long extra = official.stream().mapToLong(n -> n.matches(".*_attn_qkv\\.(weight|bias)") ? 2
                    : n.matches(".*\\.linear1\\.(weight|bias)") ? 3 : 0).sum();
            assertEquals(official.size() + extra, diffusers.names().size());
            Tensor out = run(fromDiffusers);
            ref.assertClose("out.x", out, DitReferenceTest.TOL);
            assertEquals(0, Tensors.relativeError(out, run(fromOfficial)), 1e-6);
            // From a file, the diffusers names are recognised.
            Path file = dir.resolve("diffusion_pytorch_model.safetensors");
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            diffusers.names().forEach(n -> tensors.put(n, diffusers.get(n)));
            SafetensorsWriter.write(file, tensors, Map.of());
            try (HunyuanVideoTransformer fromFile = DitCheckpoint.load(file, tiny, new Device("cpu"),
                    ScalarType.Float, "module")) {
                assertEquals(0, Tensors.relativeError(run(fromFile), out), 0);
            }
        }
    }

    @Test
    void officialFp8CheckpointMatchesTheOfficialFp8Forward() throws IOException {
        Path pt = ReferenceCase.dir().resolve("pt");
        try (PointerScope scope = new PointerScope(); ReferenceCase fp8 = ReferenceCase.load("pt/dit_tiny_fp8");
             Weights weights = Weights.open(pt.resolve("dit_tiny_fp8.pt"));
             Weights scales = Weights.open(pt.resolve("dit_tiny_fp8_map.pt"));
             HunyuanVideoTransformer model = DitCheckpoint.loadFp8(weights, scales, tiny,
                     new Device("cpu"), ScalarType.Float)) {
            long fp8Layers = weights.names().stream()
                    .filter(n -> weights.info(n).dtype() == io.github.hunyuanvideo.io.DType.F8_E4M3).count();
            assertEquals(fp8.json().get("fp8_layers").asLong(), fp8Layers);
            Tensor out = run(model);
            fp8.assertClose("out.x", out, DitReferenceTest.TOL);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DitCheckpoint.loadOfficial(weights, tiny, new Device("cpu"), ScalarType.Float));
            assertTrue(e.getMessage().contains("loadFp8"), e.getMessage());
            List<String> layers = new ArrayList<>(scales.names());
            String lastLayer = layers.get(layers.size() - 1);
            Weights missing = scales.rename(n -> n.equals(lastLayer) ? null : n);
            e = assertThrows(IllegalArgumentException.class, () -> DitCheckpoint.loadFp8(weights, missing,
                    tiny, new Device("cpu"), ScalarType.Float));
            assertTrue(e.getMessage().contains("lacks the scale of '" + lastLayer + "'"), e.getMessage());
            try (HunyuanVideoTransformer fromFiles = DitCheckpoint.loadFp8(pt.resolve("dit_tiny_fp8.pt"),
                    pt.resolve("dit_tiny_fp8_map.pt"), tiny, new Device("cpu"), ScalarType.Float, "module")) {
                assertEquals(0, Tensors.relativeError(run(fromFiles), out), 0);
            }
            e = assertThrows(IllegalArgumentException.class, () -> DitCheckpoint.load(pt.resolve("dit_tiny_fp8.pt"),
                    tiny, new Device("cpu"), ScalarType.Float, "module"));
            assertTrue(e.getMessage().startsWith(pt.resolve("dit_tiny_fp8.pt") + ": ")
                    && e.getMessage().contains("loadFp8"), e.getMessage());
        }
    }

    /**
     * The FP8 checkpoint's weights dequantised as {@code --use-fp8} computes them in float32
     * ({@code weight.to(float32) · scale.to(float32)}), the rest as stored: the checkpoint that dequantising at load
     * time bound. Close it after the models built from it.
     */
    static MemorySource dequantised(Weights fp8, Weights scales) {
        MemorySource out = new MemorySource();
        try (PointerScope scope = new PointerScope()) {
            for (String name : fp8.names()) {
                Tensor w = fp8.get(name).to(ScalarType.Float);
                String layer = name.substring(0, name.length() - ".weight".length());
                out.put(name, scales.contains(layer) ? w.mul(scales.get(layer).reshape().to(ScalarType.Float)) : w);
            }
        }
        return out;
    }

    @Test
    void fp8WeightsStayFp8AndComputeAsDequantisedAtLoad() throws IOException {
        Path pt = ReferenceCase.dir().resolve("pt");
        try (PointerScope scope = new PointerScope(); ReferenceCase fp8 = ReferenceCase.load("pt/dit_tiny_fp8");
             Weights weights = Weights.open(pt.resolve("dit_tiny_fp8.pt"));
             Weights scales = Weights.open(pt.resolve("dit_tiny_fp8_map.pt"));
             MemorySource plain = dequantised(weights, scales);
             HunyuanVideoTransformer kept = DitCheckpoint.loadFp8(weights, scales, tiny, new Device("cpu"),
                     ScalarType.Float);
             HunyuanVideoTransformer atLoad = DitCheckpoint.loadOfficial(Weights.of(List.of(plain)), tiny,
                     new Device("cpu"), ScalarType.Float)) {
            for (Linear l : kept.blockLinears()) {
                assertEquals(ScalarType.Float8_e4m3fn, l.weight().scalar_type().intern());
                assertEquals(0, l.scale().dim());
                assertEquals(ScalarType.Float, l.dtype());
            }
            assertTrue(atLoad.blockLinears().stream().allMatch(l -> l.scale() == null
                    && l.weight().scalar_type().intern() == ScalarType.Float));
            Tensor out = run(kept);
            fp8.assertClose("out.x", out, DitReferenceTest.TOL);
            assertTrue(torch.equal(out, run(atLoad)), "FP8 kept differs from FP8 dequantised at load");
        }
    }

    @Test
    void officialPtCheckpointLoads() throws IOException {
        try (PointerScope scope = new PointerScope();
             HunyuanVideoTransformer model = DitCheckpoint.load(ReferenceCase.dir().resolve("pt/dit_tiny_module.pt"),
                     tiny, new Device("cpu"), ScalarType.Float, "module")) {
            ref.assertClose("out.x", run(model), DitReferenceTest.TOL);
        }
    }
}
