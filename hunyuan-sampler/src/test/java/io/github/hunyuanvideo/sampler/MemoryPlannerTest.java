package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.vae.TilingConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The planner's decisions over a table of budgets and model figures: every plan fits its usable budget at every
 * stage, more budget never makes a slower plan, the ring's streamed count is a multiple of its slots, and a
 * budget below the smallest plan is refused with the smallest budget that works (which then plans).
 */
class MemoryPlannerTest {
    private static final long GIB = 1L << 30;
    private static final long MIB = 1L << 20;
    private static final MemoryPlan.TextPlacement DEVICE = MemoryPlan.TextPlacement.DEVICE;

    /** A VAE whose working memory halves with each smaller tiling, from {@code official} down to 4 steps. */
    private record FakeVae(long official) implements MemoryPlanner.VaeDecodeMemory {
        private static final int[] SIZES = {256, 192, 128, 96, 64};

        @Override
        public TilingConfig preferred() {
            return TilingConfig.official();
        }

        @Override
        public long workingBytes(TilingConfig tiling) {
            int i = Arrays.stream(SIZES).boxed().toList().indexOf(tiling.spatialTileSize());
            return official >> i;
        }

        @Override
        public TilingConfig fitting(long bytes) {
            for (int size : SIZES) {
                TilingConfig t = new TilingConfig(size, 64, 0.25, true, true);
                if (workingBytes(t) <= bytes) {
                    return t;
                }
            }
            return null;
        }

        @Override
        public long minimumBytes() {
            return official >> (SIZES.length - 1);
        }
    }

    /** Figures shaped like the full model's: 20 double blocks twice the size of 40 single ones, a 30-layer LLM. */
    private static MemoryPlanner.Sizes sizes(long activation, long vaeOfficial, boolean text) {
        long[] blocks = new long[60];
        for (int b = 0; b < blocks.length; b++) {
            blocks[b] = b < 20 ? 680 * MIB : 340 * MIB;
        }
        long[] llm = new long[0];
        if (text) {
            llm = new long[31];
            for (int n = 0; n <= 30; n++) {
                // the embedding leaves the device once a layer streams; slots are min(2, n) layers
                llm[n] = (n == 0 ? 1000 * MIB : 0) + (30 - n + Math.min(2, n)) * 416 * MIB;
            }
        }
        return new MemoryPlanner.Sizes(700 * MIB, blocks, activation, llm, text ? 500 * MIB : 0, 470 * MIB,
                new FakeVae(vaeOfficial));
    }

    static Stream<Arguments> table() {
        List<Arguments> out = new ArrayList<>();
        Random random = new Random(12);
        long[] budgets = {6 * GIB, 8 * GIB, 10 * GIB, 12 * GIB, 16 * GIB, 24 * GIB, 40 * GIB, 80 * GIB};
        for (long budget : budgets) {
            for (int depth = 1; depth <= 3; depth++) {
                // 720p-like and 544p-like activations, text on the device or not
                out.add(Arguments.of(budget, 8800 * MIB, 10 * GIB, true, depth));
                out.add(Arguments.of(budget, 5000 * MIB, 9 * GIB, false, depth));
            }
        }
        for (int i = 0; i < 24; i++) {
            out.add(Arguments.of((long) (2 + random.nextInt(90)) * GIB, (long) (500 + random.nextInt(12000)) * MIB,
                    (long) (1 + random.nextInt(12)) * GIB, random.nextBoolean(), 1 + random.nextInt(4)));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "budget {0}, activation {1}, vae {2}, text {3}, depth {4}")
    @MethodSource("table")
    void everyPlanFitsItsBudgetOrTheRefusalNamesOneThatDoes(long budget, long activation, long vae, boolean text,
                                                           int depth) {
        MemoryPlanner.Sizes s = sizes(activation, vae, text);
        MemoryPlan plan;
        try {
            plan = MemoryPlanner.plan(budget, 0, RequestSize.OFFICIAL_720P, s, DEVICE, depth, false);
        } catch (IllegalArgumentException e) {
            long smallest = MemoryPlanner.smallestBudget(s, depth);
            assertTrue(budget < smallest, "refused " + budget + " though " + smallest + " is enough");
            assertTrue(e.getMessage().startsWith("deviceMemoryBudget: "), e.getMessage());
            assertTrue(e.getMessage().contains("the smallest budget that works is "), e.getMessage());
            // the smallest budget, as the message rounds it up, plans
            long rounded = (smallest + GIB / 10 - 1) / (GIB / 10) * (GIB / 10);
            assertNotNull(MemoryPlanner.plan(rounded, 0, RequestSize.OFFICIAL_720P, s, DEVICE, depth, false));
            return;
        }
        long usable = MemoryPlanner.usable(budget);
        assertEquals(usable, plan.usable());
        assertTrue(plan.denoisePeak() <= usable && plan.textPeak() <= usable && plan.decodePeak() <= usable,
                plan.describe());
        assertEquals(60, plan.residentBlocks() + plan.streamedBlocks());
        if (plan.streamedBlocks() > 0) {
            int slots = Math.min(depth + 1, plan.streamedBlocks());
            assertTrue(plan.streamedBlocks() % slots == 0 || plan.streamedBlocks() == 60, plan.describe());
        }
        if (!text) {
            assertEquals(0, plan.streamedLlmLayers());
        }
        // one more GiB never makes a slower plan: no smaller VAE tiles, no more LLM layers streamed, and with those
        // the same, no fewer resident blocks
        MemoryPlan more = MemoryPlanner.plan(budget + GIB, 0, RequestSize.OFFICIAL_720P, s, DEVICE, depth, false);
        String both = more.describe() + " vs " + plan.describe();
        assertTrue(more.vaeTiling().spatialTileSize() >= plan.vaeTiling().spatialTileSize()
                && more.vaeTiling().temporalTileFrames() >= plan.vaeTiling().temporalTileFrames(), both);
        assertTrue(more.streamedLlmLayers() <= plan.streamedLlmLayers(), both);
        if (more.vaeTiling().equals(plan.vaeTiling()) && more.streamedLlmLayers() == plan.streamedLlmLayers()) {
            assertTrue(more.residentBlocks() >= plan.residentBlocks(), both);
        }
    }

    @Test
    void aBudgetThatHoldsEverythingStreamsNothing() {
        MemoryPlan plan = MemoryPlanner.plan(80 * GIB, 0, RequestSize.OFFICIAL_720P, sizes(8800 * MIB, 10 * GIB,
                true), DEVICE, 1, false);
        assertEquals(0, plan.streamedBlocks());
        assertEquals(0, plan.streamedLlmLayers());
        assertEquals(TilingConfig.official(), plan.vaeTiling());
        assertTrue(plan.describe().contains("DiT resident (60 blocks)"), plan.describe());
    }

    @Test
    void theDevicesFreeMemoryBoundsTheBudget() {
        MemoryPlanner.Sizes s = sizes(8800 * MIB, 10 * GIB, true);
        MemoryPlan plan = MemoryPlanner.plan(80 * GIB, 20 * GIB, RequestSize.OFFICIAL_720P, s, DEVICE, 1, false);
        assertEquals(MemoryPlanner.usable(20 * GIB), plan.usable());
        assertTrue(plan.streamedBlocks() > 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemoryPlanner.plan(24 * GIB,
                4 * GIB, RequestSize.OFFICIAL_720P, s, DEVICE, 1, false));
        assertTrue(e.getMessage().startsWith("deviceMemoryBudget: 24.00 GiB (4.00 GiB free on the device) is too "
                + "small for 720x1280x129"), e.getMessage());
    }

    @Test
    void streamedCountsRoundUpToTheRing() {
        assertEquals(0, MemoryPlanner.roundedStreamed(60, 60, 1));
        assertEquals(1, MemoryPlanner.roundedStreamed(60, 59, 1));
        assertEquals(4, MemoryPlanner.roundedStreamed(60, 57, 1));
        assertEquals(6, MemoryPlanner.roundedStreamed(60, 55, 2));
        assertEquals(60, MemoryPlanner.roundedStreamed(60, 1, 2));
    }
}
