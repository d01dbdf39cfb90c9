package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.io.testing.Stdout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link AttentionGpuCheck}'s host side on the CPU: the reference rows, and the message that the kernel needs CUDA. */
class AttentionGpuCheckTest {
    @Test
    void cpuRunPrintsReferenceRowsOnly() {
        String out = Stdout.capture(() -> AttentionGpuCheck.run(new String[]{"--device", "cpu", "--cases",
                "1x2x100"}, System.out));
        assertTrue(out.contains("8-bit kernel needs CUDA: reference only"), out);
        assertTrue(out.contains("| 1×2×100 | Gaussian | – | – | 0.99"), out);
        assertTrue(out.contains("| 1×2×100 | K offset ×30 | – | – | 0.99"), out);
    }

    @Test
    void badCaseIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> AttentionGpuCheck.run(new String[]{"--device", "cpu",
                "--cases", "2x100"}, System.out));
    }
}
