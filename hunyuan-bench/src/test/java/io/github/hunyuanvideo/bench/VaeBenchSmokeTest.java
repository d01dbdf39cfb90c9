package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.io.testing.Stdout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark main runs end to end on the CPU with the small VAE, so the GPU run will not die on a typo. */
class VaeBenchSmokeTest {
    @Test
    void smallRunPrintsBothModes() {
        String out = Stdout.capture(() -> VaeBench.main(new String[]{"--device", "cpu", "--small", "--dtype", "fp32",
                "--shapes", "1x16x5x5x5", "--runs", "1", "--warmup", "0", "--modes", "buffer,sink"}));
        // 5 latent frames / 5×5 latent pixels with the small VAE's 4-latent tiles: tiled both ways, 17×40×40 out
        assertTrue(out.contains("| 1×16×5×5×5 | 17×40×40 | 32 / 16 | buffer |"), out);
        assertTrue(out.contains("| 1×16×5×5×5 | 17×40×40 | 32 / 16 | sink |"), out);
    }

    /** A budget that fits the small VAE's own tiles keeps them; one below its weights names the option. */
    @Test
    void memoryBudgetChoosesTheTiles() {
        String out = Stdout.capture(() -> VaeBench.main(new String[]{"--device", "cpu", "--small", "--dtype", "fp32",
                "--shapes", "1x16x5x5x5", "--runs", "1", "--warmup", "0", "--max-gpu-memory", "1GiB"}));
        assertTrue(out.contains("tiles fitting --max-gpu-memory 1.00 GiB"), out);
        assertTrue(out.contains("| 1×16×5×5×5 | 17×40×40 | 32 / 16 | buffer |"), out);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VaeBench.main(new String[]{
                "--device", "cpu", "--small", "--shapes", "1x16x5x5x5", "--max-gpu-memory", "1K"}));
        assertTrue(e.getMessage().startsWith("--max-gpu-memory: the VAE decode of 40x40x17 needs at least"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> VaeBench.main(new String[]{"--small", "--max-gpu-memory",
                "1G", "--tile-px", "64"}));
    }

    /** The sizes are the shared {@code MemorySize}'s (tested in hunyuan-nn); a bad one names the option. */
    @Test
    void badMemorySizeIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VaeBench.main(new String[]{
                "--device", "cpu", "--small", "--max-gpu-memory", "8X"}));
        assertTrue(e.getMessage().startsWith("--max-gpu-memory: '8X' is not a size"), e.getMessage());
    }

    /** One model per {@code --streamed} entry; the streamed one copies its weights to the device on every decode. */
    @Test
    void residentAndStreamedRowsFollowEachOther() {
        String out = Stdout.capture(() -> VaeBench.main(new String[]{"--device", "cpu", "--small", "--dtype", "fp32",
                "--shapes", "1x16x5x5x5", "--runs", "1", "--warmup", "0", "--streamed", "false,true"}));
        assertTrue(out.contains("fp32 weights resident on cpu"), out);
        assertTrue(out.contains("fp32 weights streamed on cpu"), out);
        assertTrue(out.contains("| 1×16×5×5×5 | 17×40×40 | 32 / 16 | buffer | resident |"), out);
        assertTrue(out.contains("| 1×16×5×5×5 | 17×40×40 | 32 / 16 | buffer | streamed |"), out);
        assertTrue(out.indexOf("| resident |") < out.indexOf("| streamed |"), out);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VaeBench.main(new String[]{
                "--device", "cpu", "--small", "--streamed", "yes"}));
        assertEquals("--streamed entries are true or false, got 'yes'", e.getMessage());
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
