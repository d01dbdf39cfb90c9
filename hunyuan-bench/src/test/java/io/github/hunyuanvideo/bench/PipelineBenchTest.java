package io.github.hunyuanvideo.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark main runs end to end with its small configurations, so the GPU run cannot die on a typo. */
class PipelineBenchTest {
    @Test
    void smallRunReportsEveryStage() {
        List<String> summary = new ArrayList<>();
        List<String[]> rows = PipelineBench.run("cpu", 64, 64, 9, 2, 7, 2.0, false, true, 0, 1,
                false, summary);
        List<String> stages = rows.stream().map(r -> r[0]).toList();
        assertTrue(stages.contains("text encoding (LLM + CLIP, 2 prompts)"), stages.toString());
        assertTrue(stages.contains("denoising step 1 (includes warm-up)"), stages.toString());
        assertTrue(stages.contains("VAE decode + [0,1] mapping"), stages.toString());
        assertEquals("[1, 3, 9, 64, 64]", rows.get(rows.size() - 1)[1]);
        assertEquals(4, summary.size(), summary.toString());
        assertTrue(summary.get(0).startsWith("memory plan: no budget; DiT resident (2 blocks)"), summary.toString());
        assertTrue(summary.get(1).startsWith("DiT: ") && summary.get(1).contains("(median of 1 step after the first)")
                && summary.get(1).contains("TFLOP/s"), summary.toString());
        assertTrue(summary.get(2).startsWith("Projected 50-step run: "), summary.toString());
        assertTrue(summary.get(3).startsWith("Whole-pipeline peak: "), summary.toString());
    }
}
