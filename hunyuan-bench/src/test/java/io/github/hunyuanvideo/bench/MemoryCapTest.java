package io.github.hunyuanvideo.bench;

import org.bytedeco.pytorch.Device;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmarks' --max-gpu-memory: parsed and checked before any work, on machines without a GPU too. */
class MemoryCapTest {
    @Test
    void noCapIsNone() {
        assertEquals("none", MemoryCap.apply(0, new Device("cpu")));
        assertEquals(24L << 30, MemoryCap.parse("24G"));
    }

    @Test
    void aCapNeedsCudaDeviceZero() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MemoryCap.apply(24L << 30, new Device("cpu")));
        assertTrue(e.getMessage().startsWith("--max-gpu-memory: needs a CUDA device"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MemoryCap.apply(24L << 30, new Device("cuda:1")));
        assertTrue(e.getMessage().startsWith("--max-gpu-memory: caps CUDA device 0 only"), e.getMessage());
    }

    @Test
    void bothMainsRefuseABadCapBeforeAnyWork() {
        for (String[] args : new String[][]{{"--max-gpu-memory", "24X"}, {"--device", "cpu", "--max-gpu-memory",
                "24G"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DitBench.main(args));
            assertTrue(e.getMessage().startsWith("--max-gpu-memory: "), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> PipelineBench.main(args));
            assertTrue(e.getMessage().startsWith("--max-gpu-memory: "), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> PipelineBench.main(new String[]{"--max-gpu-memory"}));
    }
}
