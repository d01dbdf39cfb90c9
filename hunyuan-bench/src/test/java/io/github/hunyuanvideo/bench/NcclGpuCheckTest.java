package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.io.testing.Stdout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link NcclGpuCheck} on the CPU machine: it says that it needs a GPU and fails, without touching NCCL. */
class NcclGpuCheckTest {
    @Test
    void withoutCudaItFailsWithTheReason() {
        boolean[] passed = {true};
        String out = Stdout.capture(() -> passed[0] = NcclGpuCheck.run(new String[0], System.out));
        assertFalse(passed[0]);
        assertTrue(out.contains("FAIL: CUDA is not available"), out);
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> NcclGpuCheck.run(new String[]{"--device"}, System.out));
    }
}
