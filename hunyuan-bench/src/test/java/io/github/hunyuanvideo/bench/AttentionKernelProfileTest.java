package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.nn.CudaMemory;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** {@link AttentionKernelProfile} needs a CUDA device: without one it says so before any work. */
class AttentionKernelProfileTest {
    @Test
    void refusesToRunWithoutCuda() {
        assumeFalse(CudaMemory.available(), "a CUDA device is present: the profile would run");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> AttentionKernelProfile.main(new String[]{"--length", "300", "--heads", "2"}));
        assertTrue(e.getMessage().contains("needs a CUDA device"), e.getMessage());
    }
}
