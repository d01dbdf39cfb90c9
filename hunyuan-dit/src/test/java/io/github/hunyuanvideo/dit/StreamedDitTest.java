package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.StreamedWeights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Block streaming changes nothing but where the weights live: the tiny official DiT with some or all blocks streamed
 * through device slots gives bit-identical outputs to the resident model, call after call (the ring wraps between
 * steps), and under a step cache whose decisions use a streamed block; so does the FP8 checkpoint, whose blocks
 * stream in float8.
 */
class StreamedDitTest {
    private static ReferenceCase ref;
    private static DitConfig cfg;
    private static HunyuanVideoTransformer resident;
    private static Tensor expected;

    @BeforeAll
    static void load() {
        ref = ReferenceCase.load("dit_tiny");
        cfg = DitConfig.fromJson(ref.config());
        resident = DitCheckpoint.loadOfficial(ref.modelWeights(), cfg, new Device("cpu"), ScalarType.Float);
        expected = resident.forward(DitReferenceTest.inputs(ref));
        expected.retainReference();
    }

    @AfterAll
    static void close() {
        expected.releaseReference();
        resident.close();
        ref.close();
    }

    static Stream<Arguments> streamings() {
        int blocks;
        try (ReferenceCase c = ReferenceCase.load("dit_tiny")) {
            DitConfig tiny = DitConfig.fromJson(c.config());
            blocks = tiny.doubleBlocks() + tiny.singleBlocks();
        }
        List<Arguments> out = new ArrayList<>();
        for (int streamed : new TreeSet<>(List.of(1, Math.max(1, blocks / 2), Math.max(1, blocks - 1), blocks))) {
            for (int depth : new int[]{1, 3}) {
                out.add(Arguments.of(streamed, depth));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} blocks streamed, prefetch depth {1}")
    @MethodSource("streamings")
    void streamedOutputEqualsResidentBitForBit(int streamedBlocks, int depth) {
        try (HunyuanVideoTransformer streamed = DitCheckpoint.loadOfficial(ref.modelWeights(), cfg,
                new Device("cpu"), ScalarType.Float, LoraMerge.none(), new LayerStreaming(streamedBlocks, depth))) {
            assertEquals(new LayerStreaming(streamedBlocks, depth), streamed.streaming());
            assertTrue(streamed.streamingSlotBytes() > 0);
            for (int call = 0; call < 3; call++) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor out = streamed.forward(DitReferenceTest.inputs(ref));
                    assertTrue(torch.equal(out, expected), "call " + call + " differs from the resident model");
                }
            }
            assertTrue(streamed.streamedBytesCopied() > 0);
        }
    }

    @Test
    void streamedFp8BlocksEqualResidentFp8BitForBit() throws IOException {
        Path pt = ReferenceCase.dir().resolve("pt");
        int blocks = cfg.doubleBlocks() + cfg.singleBlocks();
        try (PointerScope scope = new PointerScope();
             Weights weights = Weights.open(pt.resolve("dit_tiny_fp8.pt"));
             Weights scales = Weights.open(pt.resolve("dit_tiny_fp8_map.pt"));
             HunyuanVideoTransformer fp8 = DitCheckpoint.loadFp8(weights, scales, cfg, new Device("cpu"),
                     ScalarType.Float)) {
            Tensor expectedFp8 = fp8.forward(DitReferenceTest.inputs(ref));
            long[] fp8Bytes = DitMemory.blockBytes(cfg, ScalarType.Float, true);
            long[] floatBytes = DitMemory.blockBytes(cfg, ScalarType.Float);
            for (LayerStreaming streaming : List.of(new LayerStreaming(blocks, 1),
                    new LayerStreaming(Math.max(1, blocks / 2), 3))) {
                try (HunyuanVideoTransformer streamed = DitCheckpoint.loadFp8(weights, scales, cfg,
                        new Device("cpu"), ScalarType.Float, LoraMerge.none(), streaming)) {
                    // The slots are sized by the FP8 figures: about a quarter of float32's.
                    long slots = StreamedWeights.slotsFor(streaming.streamedLayers(), streaming.prefetchDepth());
                    int first = blocks - streaming.streamedLayers();
                    long largest = Arrays.stream(fp8Bytes, first, blocks).max().orElseThrow();
                    assertEquals(slots * largest, streamed.streamingSlotBytes(), streaming.toString());
                    assertTrue(2 * largest < Arrays.stream(floatBytes, first, blocks).max().orElseThrow());
                    assertTrue(streamed.blockLinears().stream()
                            .allMatch(l -> l.weight().scalar_type().intern() == ScalarType.Float8_e4m3fn));
                    for (int call = 0; call < 2; call++) {
                        assertTrue(torch.equal(streamed.forward(DitReferenceTest.inputs(ref)), expectedFp8),
                                streaming + ", call " + call + " differs from the resident FP8 model");
                    }
                }
            }
        }
    }

    @Test
    void stepCacheDecisionsAndVelocitiesEqualResident() {
        try (TinyDenoiser plain = new TinyDenoiser();
             TinyDenoiser streamed = new TinyDenoiser(new LayerStreaming(cfg.doubleBlocks() + cfg.singleBlocks(), 1));
             PointerScope scope = new PointerScope()) {
            int steps = plain.steps();
            for (StepCache setting : List.of(StepCache.teaCache(0.1), StepCache.firstBlock(0.1))) {
                try (StepCacheState a = setting.start(steps); StepCacheState b = setting.start(steps)) {
                    List<Tensor> va = plain.velocities(steps, 1, null, a);
                    List<Tensor> vb = streamed.velocities(steps, 1, null, b);
                    for (int i = 0; i < steps; i++) {
                        assertTrue(torch.equal(va.get(i), vb.get(i)), setting + " step " + i);
                    }
                    assertEquals(a.decisions(), b.decisions());
                }
            }
        }
    }

    @Test
    void aCountBeyondTheModelStreamsEveryBlock() {
        int blocks = cfg.doubleBlocks() + cfg.singleBlocks();
        try (HunyuanVideoTransformer all = DitCheckpoint.loadOfficial(ref.modelWeights(), cfg, new Device("cpu"),
                ScalarType.Float, LoraMerge.none(), LayerStreaming.all(1));
             HunyuanVideoTransformer exact = DitCheckpoint.loadOfficial(ref.modelWeights(), cfg, new Device("cpu"),
                     ScalarType.Float, LoraMerge.none(), new LayerStreaming(blocks, 1));
             PointerScope scope = new PointerScope()) {
            assertEquals(exact.streamingSlotBytes(), all.streamingSlotBytes());
            assertTrue(torch.equal(all.forward(DitReferenceTest.inputs(ref)), expected));
        }
        assertThrows(IllegalArgumentException.class, () -> new LayerStreaming(-1, 1));
        assertThrows(IllegalArgumentException.class, () -> new LayerStreaming(1, 0));
    }
}
