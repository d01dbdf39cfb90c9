package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
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

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Block streaming changes nothing but where the weights live: the tiny official DiT with some or all blocks streamed
 * through device slots gives bit-identical outputs to the resident model, call after call (the ring wraps between
 * steps), and under a step cache whose decisions use a streamed block.
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
                new Device("cpu"), ScalarType.Float, LoraMerge.none(), new BlockStreaming(streamedBlocks, depth))) {
            assertEquals(new BlockStreaming(streamedBlocks, depth), streamed.streaming());
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
    void stepCacheDecisionsAndVelocitiesEqualResident() {
        try (TinyDenoiser plain = new TinyDenoiser();
             TinyDenoiser streamed = new TinyDenoiser(new BlockStreaming(cfg.doubleBlocks() + cfg.singleBlocks(), 1));
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
    void moreBlocksThanTheModelHasAreRefused() {
        int blocks = cfg.doubleBlocks() + cfg.singleBlocks();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DitCheckpoint.loadOfficial(
                ref.modelWeights(), cfg, new Device("cpu"), ScalarType.Float, LoraMerge.none(),
                new BlockStreaming(blocks + 1, 1)));
        assertTrue(e.getMessage().startsWith("streamedBlocks: the model has " + blocks + " blocks"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BlockStreaming(-1, 1));
        assertThrows(IllegalArgumentException.class, () -> new BlockStreaming(1, 0));
    }
}
