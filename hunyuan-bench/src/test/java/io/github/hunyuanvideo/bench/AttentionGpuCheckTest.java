package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.io.testing.Stdout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link AttentionGpuCheck}'s host side on the CPU: the reference rows, the message that the kernel needs CUDA, and
 * the DiT rows, whose INT8 is SDPA here (and says so).
 */
class AttentionGpuCheckTest {
    @Test
    void cpuRunPrintsReferenceRowsOnly() {
        String out = Stdout.capture(() -> AttentionGpuCheck.run(new String[]{"--device", "cpu", "--cases",
                "1x2x100", "--reference-dir", ReferenceCase.dir().toString()}, System.out));
        assertTrue(out.contains("8-bit kernel needs CUDA: reference only"), out);
        assertTrue(out.contains("| 1×2×100 | Gaussian | – | – | 0.99"), out);
        assertTrue(out.contains("| 1×2×100 | K offset ×30 | – | – | 0.99"), out);
        long batch;
        try (ReferenceCase dit = ReferenceCase.load("dit_tiny")) {
            batch = dit.tensor("in.x").size(0);
        }
        String fallback = " | int8 | no (SDPA: no kernel on this device) | ";
        assertTrue(out.contains("| dit_tiny (Float) | batch of " + batch + fallback), out);
        assertTrue(out.contains("| dit_tiny (Float) | sample " + (batch - 1) + " alone" + fallback), out);
        // INT8 falls back to SDPA on the CPU: bit for bit the same output
        assertTrue(out.contains("| random, head dim 128 (float32) | batch of 2" + fallback + "0.000e+00 | its SDPA "
                + "output | yes |"), out);
        // (the reference rows miss the 3 % relative L1 bar on Gaussian inputs: docs/dit.md, "Known limit")
        assertFalse(out.lines().anyMatch(l -> (l.startsWith("| dit_tiny") || l.startsWith("| random"))
                && l.endsWith("| NO |")), out);
    }

    /** With {@code --values fp8}: the FP8 product's reference rows, its own bound, and the DiT rows with int8-fp8. */
    @Test
    void fp8ValuesRunTheFp8ReferenceAgainstItsBound() {
        String out = Stdout.capture(() -> AttentionGpuCheck.run(new String[]{"--device", "cpu", "--cases",
                "1x2x100", "--reference-dir", ReferenceCase.dir().toString(), "--values", "fp8"}, System.out));
        assertTrue(out.contains("P·V in FP8; bars: cosine ≥ 0.999, relative L1 ≤ 5 %"), out);
        assertTrue(out.contains("| 1×2×100 | Gaussian | – | – | 0.99"), out);
        assertTrue(out.contains(" | int8-fp8 | no (SDPA: no kernel on this device) | "), out);
        assertFalse(out.lines().anyMatch(l -> l.endsWith("| NO |")), out);
    }

    @Test
    void badValuesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttentionGpuCheck.run(
                new String[]{"--device", "cpu", "--values", "fp4"}, System.out));
        assertTrue(e.getMessage().startsWith("--values: "), e.getMessage());
    }

    @Test
    void badCaseIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> AttentionGpuCheck.run(new String[]{"--device", "cpu",
                "--cases", "2x100"}, System.out));
    }

    @Test
    void aFolderWithoutTheGoldenCaseIsRejectedFirst(@TempDir Path empty) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttentionGpuCheck.run(
                new String[]{"--device", "cpu", "--reference-dir", empty.toString()}, System.out));
        assertTrue(e.getMessage().startsWith("--reference-dir: ") && e.getMessage().contains("dit_tiny.json"),
                e.getMessage());
    }
}
