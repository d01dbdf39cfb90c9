package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.LayerStreaming;
import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.io.SafetensorsWriter;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code lora_tiny} case: one LoRA on every block Linear of the {@code dit_tiny} DiT in three key formats, each
 * merged at the case's scale. Merged weights (official layout, before the halves reorder) within 1e-6 relative of
 * {@code merged.*}, the DiT output within 1e-4 of {@code out.x}; two adapters whose scales sum to the case's scale
 * merge like one; unmatched keys, shape mismatches and non-finite scales are refused before any copy.
 */
class LoraReferenceTest {
    private static final double MERGED_TOL = 1e-6;
    private static final Device CPU = new Device("cpu");
    private static ReferenceCase lora;
    private static ReferenceCase base;
    private static Weights baseWeights;
    private static DitConfig cfg;
    private static double scale;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        lora = ReferenceCase.load("lora_tiny");
        base = ReferenceCase.load("dit_tiny");
        baseWeights = base.modelWeights();
        cfg = DitConfig.fromJson(base.config());
        scale = lora.config().get("scale").asDouble();
    }

    @AfterAll
    static void close() {
        base.close();
        lora.close();
    }

    /** The adapter files of the case, from its {@code config.formats}. */
    static List<Path> adapterFiles() {
        try (ReferenceCase c = ReferenceCase.load("lora_tiny")) {
            List<Path> files = new ArrayList<>();
            c.config().get("formats").fieldNames().forEachRemaining(f -> files.add(ReferenceCase.dir().resolve(f)));
            return files;
        }
    }

    /** The official weight names the case's LoRA targets ({@code config.targets} are module names). */
    private static Set<String> targets() {
        Set<String> t = new LinkedHashSet<>();
        lora.config().get("targets").forEach(m -> t.add(m.asText() + ".weight"));
        return t;
    }

    /** The case's base weights with {@code merge} applied, as the Source hands them to the layouts. */
    private static Parameters.Source merged(LoraMerge merge) {
        return merge.over((name, shape, dev, dt) -> Parameters.copy(baseWeights, name, shape, dev, dt));
    }

    /** Every target of {@code merge} within 1e-6 relative of the case's {@code merged.*}. */
    private static void assertMergedWeights(LoraMerge merge) {
        assertEquals(targets(), merge.targets());
        Parameters.Source source = merged(merge);
        for (String name : targets()) {
            try (PointerScope scope = new PointerScope()) {
                Tensor w = source.create(name, baseWeights.shape(name), CPU, ScalarType.Float);
                double err = Tensors.relativeError(w, lora.tensor("merged." + name));
                assertTrue(err <= MERGED_TOL, name + ": merged weight relative error " + err);
            }
        }
    }

    @Test
    void theThreeFilesHaveTheThreeFormats() throws IOException {
        Set<LoraAdapter.Format> formats = EnumSet.noneOf(LoraAdapter.Format.class);
        for (Path f : adapterFiles()) {
            try (LoraAdapter a = LoraAdapter.read(f, scale)) {
                formats.add(a.format());
            }
        }
        assertEquals(EnumSet.allOf(LoraAdapter.Format.class), formats);
    }

    @ParameterizedTest
    @MethodSource("adapterFiles")
    void mergedWeightsMatchTheCase(Path file) throws IOException {
        try (LoraAdapter a = LoraAdapter.read(file, scale)) {
            assertMergedWeights(LoraMerge.of(cfg, List.of(a), false));
        }
    }

    @ParameterizedTest
    @MethodSource("adapterFiles")
    void ditOutputMatchesTheCase(Path file) throws IOException {
        try (PointerScope scope = new PointerScope(); LoraAdapter a = LoraAdapter.read(file, scale);
             HunyuanVideoTransformer dit = DitCheckpoint.loadOfficial(baseWeights, cfg, CPU, ScalarType.Float,
                     LoraMerge.of(cfg, List.of(a), false))) {
            lora.assertClose("out.x", dit.forward(DitReferenceTest.inputs(lora)), DitReferenceTest.TOL);
        }
    }

    @Test
    void withoutAdaptersTheOutputIsTheBaseOutput() {
        try (PointerScope scope = new PointerScope();
             HunyuanVideoTransformer dit = DitCheckpoint.loadOfficial(baseWeights, cfg, CPU, ScalarType.Float,
                     LoraMerge.of(cfg, List.of(), false))) {
            lora.assertClose("out.x_base", dit.forward(DitReferenceTest.inputs(lora)), DitReferenceTest.TOL);
        }
    }

    @Test
    void twoAdaptersAddUp() throws IOException {
        List<Path> files = adapterFiles();
        double first = 0.3 * scale;
        try (LoraAdapter a = LoraAdapter.read(files.get(1), first);
             LoraAdapter b = LoraAdapter.read(files.get(2), scale - first)) {
            assertMergedWeights(LoraMerge.of(cfg, List.of(a, b), false));
        }
    }

    @Test
    void fp8WeightsMergeAfterDequantisation() throws IOException {
        Path pt = ReferenceCase.dir().resolve("pt");
        try (PointerScope scope = new PointerScope(); LoraAdapter a = LoraAdapter.read(adapterFiles().get(0), scale);
             Weights fp8 = Weights.open(pt.resolve("dit_tiny_fp8.pt"));
             Weights scales = Weights.open(pt.resolve("dit_tiny_fp8_map.pt"));
             MemorySource dequantised = DitWeightsTest.dequantised(fp8, scales)) {
            LoraMerge merge = LoraMerge.of(cfg, List.of(a), false);
            try (HunyuanVideoTransformer fromFp8 = DitCheckpoint.loadFp8(fp8, scales, cfg, CPU, ScalarType.Float,
                    merge);
                 HunyuanVideoTransformer fromDequantised = DitCheckpoint.loadOfficial(
                         Weights.of(List.of(dequantised)), cfg, CPU, ScalarType.Float, merge)) {
                DitInputs in = DitReferenceTest.inputs(lora);
                double err = Tensors.relativeError(fromFp8.forward(in), fromDequantised.forward(in));
                assertTrue(err <= MERGED_TOL, "FP8 + LoRA vs dequantised + LoRA: " + err);
            }
        }
    }

    @Test
    void onFp8OnlyTheLayersALoraTargetsAreHeldDequantised() throws IOException {
        String doubleBlock = "diffusion_model.double_blocks.0.";
        String singleBlock = "diffusion_model.single_blocks.1.";
        Path partial = rewrite(adapterFiles().get(0), t -> {
            t.keySet().removeIf(k -> !k.startsWith(doubleBlock) && !k.startsWith(singleBlock));
            return t;
        });
        Path pt = ReferenceCase.dir().resolve("pt");
        int blocks = cfg.doubleBlocks() + cfg.singleBlocks();
        try (PointerScope scope = new PointerScope(); LoraAdapter a = LoraAdapter.read(partial, scale);
             Weights fp8 = Weights.open(pt.resolve("dit_tiny_fp8.pt"));
             Weights scales = Weights.open(pt.resolve("dit_tiny_fp8_map.pt"));
             MemorySource dequantised = DitWeightsTest.dequantised(fp8, scales)) {
            LoraMerge merge = LoraMerge.of(cfg, List.of(a), false);
            try (HunyuanVideoTransformer fromFp8 = DitCheckpoint.loadFp8(fp8, scales, cfg, CPU, ScalarType.Float,
                    merge);
                 HunyuanVideoTransformer streamed = DitCheckpoint.loadFp8(fp8, scales, cfg, CPU, ScalarType.Float,
                         merge, new LayerStreaming(blocks, 1));
                 HunyuanVideoTransformer fromDequantised = DitCheckpoint.loadOfficial(
                         Weights.of(List.of(dequantised)), cfg, CPU, ScalarType.Float, merge)) {
                // Execution order: double block 0's 14 Linears (both streams) come first, single block 1's 7 last.
                List<Linear> linears = fromFp8.blockLinears();
                int n = linears.size();
                for (int i = 0; i < n; i++) {
                    boolean merged = i < 14 || i >= n - 7;
                    assertEquals(merged, linears.get(i).scale() == null, "Linear " + i);
                    assertEquals(merged ? ScalarType.Float : ScalarType.Float8_e4m3fn,
                            linears.get(i).weight().scalar_type().intern(), "Linear " + i);
                }
                DitInputs in = DitReferenceTest.inputs(lora);
                Tensor out = fromFp8.forward(in);
                assertTrue(torch.equal(out, fromDequantised.forward(in)), "FP8 + LoRA vs dequantised + LoRA");
                // Streaming slots fit the larger merged blocks.
                assertTrue(torch.equal(out, streamed.forward(in)), "streamed FP8 + LoRA vs resident");
            }
        }
    }

    @Test
    void keysThatMatchNoWeightAreListedAndRefusedUnlessIgnored() throws IOException {
        Path original = adapterFiles().get(0);
        String stray = "diffusion_model.double_blocks." + cfg.doubleBlocks() + ".img_attn_qkv";
        String unknown = "diffusion_model.double_blocks.0.img_attn_qkv.dora_scale";
        Path file = rewrite(original, t -> {
            String any = t.keySet().iterator().next();
            String pair = any.substring(0, any.lastIndexOf(".lora_"));
            t.put(stray + ".lora_A.weight", t.get(pair + ".lora_A.weight"));
            t.put(stray + ".lora_B.weight", t.get(pair + ".lora_B.weight"));
            t.put(unknown, t.get(pair + ".lora_A.weight"));
            return t;
        });
        try (LoraAdapter a = LoraAdapter.read(file, scale)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LoraMerge.of(cfg, List.of(a), false));
            for (String key : List.of(stray + ".lora_A.weight", stray + ".lora_B.weight", unknown)) {
                assertTrue(e.getMessage().contains(key), e.getMessage());
            }
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
            assertMergedWeights(LoraMerge.of(cfg, List.of(a), true));
        }
    }

    @ParameterizedTest
    @MethodSource("adapterFiles")
    void shapeMismatchNamesTheKeyAndBothShapes(Path adapter) throws IOException {
        String[] up = new String[1];
        long[][] shapes = new long[2][];
        Path file = rewrite(adapter, t -> {
            up[0] = t.keySet().stream().filter(k -> k.contains(".lora_B.") || k.contains(".lora_up.")).findFirst()
                    .orElseThrow();
            String down = up[0].replace(".lora_B.", ".lora_A.").replace(".lora_up.", ".lora_down.");
            shapes[0] = Tensors.shape(t.get(up[0]));
            shapes[1] = Tensors.shape(t.get(down));
            t.put(up[0], withOneMoreRow(t.get(up[0])));
            return t;
        });
        try (LoraAdapter a = LoraAdapter.read(file, scale)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LoraMerge.of(cfg, List.of(a), false));
            long[] grown = {shapes[0][0] + 1, shapes[0][1]};
            long[] weightRows = {shapes[0][0], shapes[1][1]};
            assertTrue(e.getMessage().contains("'" + up[0] + "' has shape " + Arrays.toString(grown))
                    && e.getMessage().contains("shape " + Arrays.toString(weightRows)), e.getMessage());
        }
    }

    @Test
    void aScaleThatIsNotFiniteIsRefused() {
        Path file = adapterFiles().get(0);
        for (double bad : new double[]{Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LoraAdapter.read(file, bad));
            assertTrue(e.getMessage().contains("finite") && e.getMessage().contains(String.valueOf(bad)),
                    e.getMessage());
        }
    }

    @Test
    void malformedFilesAreRefusedNamingTheKey() throws IOException {
        Path original = adapterFiles().get(0);
        String[] dropped = new String[1];
        Path lonely = rewrite(original, t -> {
            dropped[0] = t.keySet().stream().filter(k -> k.endsWith(".lora_B.weight")).findFirst().orElseThrow();
            t.remove(dropped[0]);
            return t;
        });
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraAdapter.read(lonely, 1));
        assertTrue(e.getMessage().contains("'" + dropped[0] + "'"), e.getMessage());

        Path mixed = rewrite(original, t -> {
            t.put("lora_unet_x.lora_down.weight", t.values().iterator().next());
            return t;
        });
        e = assertThrows(IllegalArgumentException.class, () -> LoraAdapter.read(mixed, 1));
        assertTrue(e.getMessage().contains("mix") && e.getMessage().contains("KOHYA"), e.getMessage());

        Path foreign = rewrite(original, t -> {
            Map<String, Tensor> renamed = new LinkedHashMap<>();
            t.forEach((k, v) -> renamed.put("model." + k, v));
            return renamed;
        });
        e = assertThrows(IllegalArgumentException.class, () -> LoraAdapter.read(foreign, 1));
        assertTrue(e.getMessage().contains("known LoRA format"), e.getMessage());
    }

    /** {@code source}'s tensors, changed by {@code edit}, written to a new file. */
    private Path rewrite(Path source, UnaryOperator<Map<String, Tensor>> edit) throws IOException {
        Path out = tmp.resolve("edited-" + System.nanoTime() + ".safetensors");
        try (PointerScope scope = new PointerScope(); Weights w = Weights.open(source)) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            for (String n : w.names()) {
                t.put(n, w.get(n).clone());
            }
            SafetensorsWriter.write(out, edit.apply(t), Map.of());
        }
        return out;
    }

    /** {@code b} with a row of zeros appended. */
    private static Tensor withOneMoreRow(Tensor b) {
        long[] shape = Tensors.shape(b);
        shape[0]++;
        Tensor grown = torch.zeros(shape, new TensorOptions(b.scalar_type()));
        grown.narrow(0, 0, b.size(0)).copy_(b);
        return grown;
    }
}
