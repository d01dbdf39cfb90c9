package io.github.hunyuanvideo.nn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class CudaMemoryTest {
    /**
     * Without CUDA every figure is 0 and a cap does nothing. The CPU build has no libjnitorch_cuda, so had any of
     * these calls touched {@code torch_cuda}, its class would have failed to load and the call would have thrown.
     */
    @Test
    void withoutCudaTheCapIsANoOpAndTheFiguresAreZero() {
        assumeFalse(CudaMemory.available(), "a CUDA device is present");
        assertDoesNotThrow(() -> CudaMemory.limitTo(24L << 30));
        assertDoesNotThrow(() -> CudaMemory.limitTo(Long.MAX_VALUE));
        assertEquals(0, CudaMemory.totalBytes());
        assertEquals(0, CudaMemory.freeBytes());
        assertEquals(0, CudaMemory.limit());
        assertEquals(0, CudaMemory.reservedBytes());
    }

    @Test
    void aCapBelowOneByteIsRefusedEverywhere() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaMemory.limitTo(0));
        assertTrue(e.getMessage().startsWith("bytes: "), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaMemory.limitTo(-1));
    }
}
