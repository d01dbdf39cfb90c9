package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NoiseParityCheckTest {
    @Test
    void cpuNoiseEqualsPyTorchForEveryCpuCase() throws Exception {
        List<NoiseParityCheck.Outcome> out = NoiseParityCheck.run(ReferenceCase.dir().resolve("noise.json"), "cpu");
        assertFalse(out.isEmpty(), "noise.json has no cpu case");
        for (NoiseParityCheck.Outcome o : out) {
            assertTrue(o.ran() && o.passed(), o.toString());
        }
    }
}
