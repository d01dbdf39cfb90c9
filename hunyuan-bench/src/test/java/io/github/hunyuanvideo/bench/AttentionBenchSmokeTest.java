package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.io.testing.Stdout;
import io.github.hunyuanvideo.nn.CudaMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** {@link AttentionBench} on the CPU with tiny lengths (INT8 falls back to SDPA there), and its refusals. */
class AttentionBenchSmokeTest {
    @Test
    void cpuRunPrintsBothTables() {
        String out = Stdout.capture(() -> AttentionBench.run(new String[]{"--device", "cpu", "--length", "100,130",
                "--heads", "2", "--iters", "1", "--warmup", "0", "--accuracy-heads", "1"}, System.out));
        assertTrue(out.contains("INT8: unavailable here, the columns are its SDPA fallback"), out);
        for (String len : new String[]{"100", "130"}) {
            assertTrue(out.lines().anyMatch(l -> l.startsWith("| " + len + " | ") && l.contains(" | ×")), out);
            // INT8 and INT8-FP8 are SDPA here: all see the same bf16 inputs and give the same output
            String gaussian = out.lines().filter(l -> l.startsWith("| " + len + " | Gaussian | ")).findFirst()
                    .orElseThrow();
            String[] cells = gaussian.split("\\|");
            assertEquals(cells[3].trim(), cells[5].trim(), gaussian);
            assertEquals(cells[3].trim(), cells[7].trim(), gaussian);
            assertTrue(Double.parseDouble(cells[3].trim()) > 0.999, gaussian);
            assertTrue(out.contains("| " + len + " | K + 5·N(0,1) per channel | "), out);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--length 0", "--length 10.5", "--iters 0", "--warmup -1", "--heads 0",
            "--heads 2 --accuracy-heads 3", "--speed fast", "--iters"})
    void badOptionsAreRejectedBeforeAnyWork(String args) {
        assertThrows(IllegalArgumentException.class, () -> AttentionBench.run(("--device cpu " + args).split(" "),
                System.out));
    }

    @Test
    void withoutCudaTheDefaultDeviceFailsClearly() {
        assumeFalse(CudaMemory.available(), "a CUDA machine runs the benchmark");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttentionBench.run(new String[0], System.out));
        assertTrue(e.getMessage().startsWith("--device cuda: CUDA is not available"), e.getMessage());
    }
}
