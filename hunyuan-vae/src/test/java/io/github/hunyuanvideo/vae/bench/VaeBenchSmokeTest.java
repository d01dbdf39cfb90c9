package io.github.hunyuanvideo.vae.bench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark main runs end to end on the CPU with the small VAE, so the GPU run will not die on a typo. */
class VaeBenchSmokeTest {
    @Test
    void smallRunPrintsBothModes() {
        String out = capture(() -> VaeBench.main(new String[]{"--device", "cpu", "--small", "--dtype", "fp32",
                "--shapes", "1x16x5x5x5", "--runs", "1", "--warmup", "0", "--modes", "buffer,sink"}));
        // 5 latent frames / 5×5 latent pixels with the small VAE's 4-latent tiles: tiled both ways, 17×40×40 out
        assertTrue(out.contains("| 1×16×5×5×5 | 17×40×40 | buffer |"), out);
        assertTrue(out.contains("| 1×16×5×5×5 | 17×40×40 | sink |"), out);
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VaeBench.main(new String[]{"--device", "cpu", "--small", "--shapes", "1x4x5x5x5"}));
        assertTrue(e.getMessage().contains("--shapes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> VaeBench.main(new String[]{"--runs", "0"}));
    }

    private static String capture(Runnable r) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
