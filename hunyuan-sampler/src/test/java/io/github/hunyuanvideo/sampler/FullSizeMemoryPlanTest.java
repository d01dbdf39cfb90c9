package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.Attention;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.DitMemory;
import io.github.hunyuanvideo.text.ClipTextConfig;
import io.github.hunyuanvideo.text.LlamaConfig;
import io.github.hunyuanvideo.vae.TilingConfig;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Plans for the real model (the 13B DiT in bf16, Llama-3-8B and CLIP-L in fp16, the official VAE in fp16), from the
 * figures the models' own code gives for their configurations: the budgets of the issue plan within themselves, big
 * budgets stream nothing, small ones are refused naming a budget that plans.
 */
class FullSizeMemoryPlanTest {
    private static final long GIB = 1L << 30;

    private static MemoryPlan plan(long budgetGib, int height, int width, boolean cpuOffload) {
        SamplerConfig config = SamplerConfig.builder().device("cuda").deviceMemoryBudget(budgetGib * GIB)
                .largestRequest(new RequestSize(height, width, 129, 1)).useCpuOffload(cpuOffload).build();
        return MemoryPlanner.plan(config.deviceMemoryBudget(), 0, config.largestRequest(), sizes(config),
                MemoryPlan.TextPlacement.DEVICE, config.prefetchDepth(), cpuOffload);
    }

    private static MemoryPlanner.Sizes sizes(SamplerConfig config) {
        return MemoryPlanner.sizes(config, DitConfig.cfgDistill(), VaeConfig.official(), LlamaConfig.llama3_8b(),
                ClipTextConfig.clipL());
    }

    @ParameterizedTest(name = "{0} GiB at {1}x{2}")
    @CsvSource({"80, 720, 1280", "40, 720, 1280", "24, 720, 1280", "16, 720, 1280", "12, 720, 1280",
            "24, 544, 960", "12, 544, 960", "8, 544, 960"})
    void theIssuesBudgetsPlanWithinThemselves(long budgetGib, int height, int width) {
        MemoryPlan p = plan(budgetGib, height, width, false);
        assertTrue(p.peak() <= p.usable() && p.usable() < budgetGib * GIB, p.describe());
        assertEquals(60, p.residentBlocks() + p.streamedBlocks());
    }

    @Test
    void int8AttentionPlansForItsWorkspace() {
        SamplerConfig.Builder b = SamplerConfig.builder().device("cuda").deviceMemoryBudget(24 * GIB)
                .largestRequest(new RequestSize(720, 1280, 129, 1));
        SamplerConfig sdpa = b.build();
        SamplerConfig int8 = b.attention(Attention.INT8).build();
        long extra = sizes(int8).ditActivation() - sizes(sdpa).ditActivation();
        // 6.5 hidden widths of bf16 per token (118,800 image tokens + 256 text tokens): measured 4.08 GiB on an H100
        double expected = DitMemory.INT8_ATTENTION_WIDTHS_PER_TOKEN * 3072 * 2 * (118_800 + 256);
        assertEquals(expected, extra, 1e6);
        assertTrue(extra > 4.08 * GIB, "the plan keeps a margin over the measured 4.08 GiB");
        MemoryPlan p = MemoryPlanner.plan(int8.deviceMemoryBudget(), 0, int8.largestRequest(), sizes(int8),
                MemoryPlan.TextPlacement.DEVICE, int8.prefetchDepth(), false);
        assertTrue(p.peak() <= p.usable(), p.describe());
        assertTrue(p.streamedBlocks() >= plan(24, 720, 1280, false).streamedBlocks(), p.describe());
    }

    @Test
    void eightyGibKeepsEverythingAsWithoutABudget() {
        MemoryPlan p = plan(80, 720, 1280, false);
        assertEquals(0, p.streamedBlocks(), p.describe());
        assertEquals(0, p.streamedLlmLayers(), p.describe());
        assertEquals(TilingConfig.of(VaeConfig.official()), p.vaeTiling());
    }

    @Test
    void twelveGibStreamsTheDitAndTheLlm() {
        MemoryPlan p = plan(12, 720, 1280, false);
        assertTrue(p.streamedBlocks() >= 50, p.describe());
        assertTrue(p.streamedLlmLayers() > 0, p.describe());
    }

    @Test
    void cpuOffloadStreamsEveryLlmLayerAndTheVae() {
        MemoryPlan p = plan(40, 720, 1280, true);
        assertEquals(30, p.streamedLlmLayers(), p.describe());
        assertTrue(p.vaeStreamed() && p.describe().contains("VAE streamed, tiles 256 px × 64 frames"), p.describe());
        // the VAE's slots (108 MiB) instead of its weights (470 MiB) stay on the device throughout
        MemoryPlan resident = plan(40, 720, 1280, false);
        assertEquals(470.2 - 108.0, (resident.denoisePeak() - p.denoisePeak()) / (double) (1 << 20), 0.5);
    }

    @Test
    void tooSmallABudgetNamesOneThatPlans() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan(6, 720, 1280, false));
        assertTrue(e.getMessage().startsWith("deviceMemoryBudget: 6.00 GiB is too small for 720x1280x129 even with "
                + "every DiT block and LLM layer streamed and the smallest VAE tiles; the smallest budget that works "
                + "is "), e.getMessage());
        String named = e.getMessage().substring(e.getMessage().lastIndexOf(' ') + 1);
        String gib = e.getMessage().substring(e.getMessage().lastIndexOf("is ") + 3, e.getMessage().length()
                - " GiB".length());
        assertTrue(named.equals("GiB"), e.getMessage());
        long smallest = (long) Math.ceil(Double.parseDouble(gib) * GIB);
        SamplerConfig config = SamplerConfig.builder().device("cuda").deviceMemoryBudget(smallest).build();
        MemoryPlan p = MemoryPlanner.plan(smallest, 0, config.largestRequest(), sizes(config),
                MemoryPlan.TextPlacement.DEVICE, 1, false);
        assertEquals(60, p.streamedBlocks(), p.describe());
    }
}
