package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.io.testing.Stdout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link StepCacheBench} runs end to end on the CPU with the tiny DiT, so the GPU run does not die on a typo. */
class StepCacheBenchSmokeTest {
    @Test
    void benchPrintsARowPerCache() {
        String out = Stdout.capture(() -> StepCacheBench.main(new String[]{"--device", "cpu", "--dtype", "fp32",
                "--config", "tiny", "--latents", "1x16x5x8x12", "--text-len", "12", "--text-valid", "5", "--runs",
                "1"}));
        for (String cache : new String[]{"none", "TeaCache", "First-Block Cache"}) {
            assertTrue(out.contains("| " + cache + " | [1, 16, 5, 8, 12] | "), cache + " missing from\n" + out);
        }
        assertTrue(out.contains(" ms | "), out);
    }

    @Test
    void badOptionsAreRejectedBeforeAnyWork() {
        assertThrows(IllegalArgumentException.class, () -> StepCacheBench.main(new String[]{"--caches", "deepcache"}));
        assertThrows(IllegalArgumentException.class, () -> StepCacheBench.main(new String[]{"--device", "cpu",
                "--config", "tiny", "--latents", "1x4x5x8x8"}));
        assertThrows(IllegalArgumentException.class, () -> StepCacheBench.main(new String[]{"--runs"}));
    }
}
