package io.github.hunyuanvideo.core.bench;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GPU mains run end to end on the CPU with tiny sizes, so a GPU session does not die on a typo. */
class DitBenchSmokeTest {
    private static String capture(Runnable r) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        old.print(out);
        return out;
    }

    @Test
    void benchPrintsItsTable() {
        String out = capture(() -> DitBench.main(new String[]{"--device", "cpu", "--dtype", "fp32", "--config", "tiny",
                "--latents", "1x16x5x8x12,2x16x1x4x4", "--text-len", "12", "--text-valid", "5", "--runs", "1",
                "--breakdown", "true"}));
        assertTrue(out.contains("| DiT forward 64×96×17 | latent [1, 16, 5, 8, 12] |"), out);
        assertTrue(out.contains("| DiT forward 32×32×1 | latent [2, 16, 1, 4, 4] |"), out);
        assertTrue(out.contains("double blocks"), out);
    }

    @Test
    void gpuCheckPassesOnTheCpuInFloat32() {
        String out = capture(() -> {
            try {
                DitGpuCheck.main(new String[]{ReferenceCase.dir().toString(), "--device", "cpu", "--dtype", "fp32",
                        "--tol", "1e-4"});
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertTrue(out.contains("| batch of 2 |") && out.contains("| sample 1 alone |") && !out.contains("NO"), out);
    }

    @Test
    void badOptionsAreRejectedBeforeAnyWork() {
        assertThrows(IllegalArgumentException.class, () -> DitBench.main(new String[]{"--sdp", "fastest"}));
        assertThrows(IllegalArgumentException.class, () -> DitBench.main(new String[]{"--device", "cpu", "--config",
                "tiny", "--latents", "1x4x5x8x8"}));
        assertThrows(IllegalArgumentException.class, () -> DitBench.main(new String[]{"--runs"}));
    }
}
