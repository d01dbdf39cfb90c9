package io.github.hunyuanvideo.core.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark main runs end to end with its small configurations, so the GPU run cannot die on a typo. */
class PipelineBenchTest {
    @Test
    void smallRunReportsEveryStage() {
        List<String[]> rows = PipelineBench.run("cpu", 64, 64, 9, 1, 7, 2.0, false, true);
        List<String> stages = rows.stream().map(r -> r[0]).toList();
        assertTrue(stages.contains("text encoding (LLM + CLIP, 2 prompts)"), stages.toString());
        assertTrue(stages.contains("denoising step 1 (includes warm-up)"), stages.toString());
        assertTrue(stages.contains("VAE decode + [0,1] mapping"), stages.toString());
        assertEquals("[1, 3, 9, 64, 64]", rows.get(rows.size() - 1)[1]);
    }
}
