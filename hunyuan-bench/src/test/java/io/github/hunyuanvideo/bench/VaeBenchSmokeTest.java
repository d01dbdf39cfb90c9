package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.io.testing.Stdout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark main runs end to end on the CPU with the small VAE, so the GPU run will not die on a typo. */
class VaeBenchSmokeTest {
    @Test
    void smallRunPrintsBothModes() {
        String out = Stdout.capture(() -> VaeBench.main(new String[]{"--device", "cpu", "--small", "--dtype", "fp32",
                "--shapes", "1x16x5x5x5", "--runs", "1", "--warmup", "0", "--modes", "buffer,sink"}));
        // 5 latent frames / 5×5 latent pixels with the small VAE's 4-latent tiles: tiled both ways, 17×40×40 out
        assertTrue(out.contains("| 1×16×5×5×5 | 17×40×40 | buffer |"), out);
        assertTrue(out.contains("| 1×16×5×5×5 | 17×40×40 | sink |"), out);
    }

    @Test
    void gpuCheckPassesOnTheCpuInFloat32() {
        String out = Stdout.capture(() -> VaeGpuCheck.main(new String[]{ReferenceCase.dir().toString(), "--device",
                "cpu", "--dtype", "fp32", "--tol", "1e-4"}));
        assertTrue(out.contains("| out.tiled_decode |") && out.contains("PASS") && !out.contains("over tolerance"),
                out);
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VaeBench.main(new String[]{"--device", "cpu", "--small", "--shapes", "1x4x5x5x5"}));
        assertTrue(e.getMessage().contains("--shapes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> VaeBench.main(new String[]{"--runs", "0"}));
    }
}
