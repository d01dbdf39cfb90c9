package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.io.testing.Stdout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The LoRA benchmark and GPU check run end to end on the CPU with tiny sizes, so a GPU session does not die on a typo. */
class LoraBenchSmokeTest {
    @Test
    void benchPrintsItsTableAndDeletesItsFile(@TempDir Path dir) throws Exception {
        String out = Stdout.capture(() -> LoraBench.main(new String[]{"--device", "cpu", "--dtype", "fp32",
                "--config", "tiny", "--rank", "4", "--latents", "1x16x5x8x12", "--text-len", "12", "--text-valid",
                "5", "--warmup", "0", "--runs", "1", "--dir", dir.toString()}));
        assertTrue(out.contains("| build the DiT (random weights; with: + read, resolve, merge) | ")
                && out.contains("| one step, latent [1, 16, 5, 8, 12], median of 1 | "), out);
        try (Stream<Path> left = Files.list(dir)) {
            assertTrue(left.findAny().isEmpty(), "the LoRA file was left behind");
        }
    }

    @Test
    void gpuCheckPassesOnTheCpuInFloat32() {
        String out = Stdout.capture(() -> LoraGpuCheck.main(new String[]{ReferenceCase.dir().toString(), "--device",
                "cpu", "--dtype", "fp32", "--tol", "1e-4"}));
        assertTrue(out.contains("(ORIGINAL) |") && out.contains("(KOHYA) |") && out.contains("(DIFFUSERS) |")
                && out.contains("each at half the scale |") && !out.contains("NO"), out);
    }

    @Test
    void badOptionsAreRejectedBeforeAnyWork() {
        assertThrows(IllegalArgumentException.class, () -> LoraBench.main(new String[]{"--rnak", "4"}));
        assertThrows(IllegalArgumentException.class, () -> LoraBench.main(new String[]{"--device", "cpu",
                "--config", "tiny", "--rank", "0"}));
        assertThrows(IllegalArgumentException.class, () -> LoraBench.main(new String[]{"--device", "cpu",
                "--config", "tiny", "--latents", "1x4x5x8x8"}));
    }
}
