package io.github.hunyuanvideo.nn;

import org.bytedeco.pytorch.cuda.DeviceStats;
import org.bytedeco.pytorch.global.torch;

/**
 * Reads the CUDA caching allocator's statistics (the numbers behind {@code torch.cuda.max_memory_allocated}) so that
 * benchmarks can report peak memory. Every method is a no-op / zero when CUDA is not available.
 */
public final class CudaMemory {
    private static volatile boolean initialized;

    private CudaMemory() {
    }

    /**
     * The caching allocator answers "invalid device argument" until CUDA is initialised in this process, so the
     * first query makes one tiny allocation on device 0.
     */
    private static void ensureInitialized() {
        if (!initialized) {
            synchronized (CudaMemory.class) {
                if (!initialized) {
                    try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
                        torch.empty(new long[]{1}, new org.bytedeco.pytorch.TensorOptions(
                                new org.bytedeco.pytorch.Device("cuda:0")), new org.bytedeco.pytorch.MemoryFormatOptional());
                    }
                    initialized = true;
                }
            }
        }
    }

    /** Whether a CUDA device can be used. */
    public static boolean available() {
        try {
            return torch.cuda_is_available();
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    /** Waits for all queued CUDA work, so wall-clock timings are honest. */
    public static void synchronize() {
        if (available()) {
            torch.cuda_synchronize();
        }
    }

    /** Bytes currently held by tensors on device 0. */
    public static long allocatedBytes() {
        if (!available()) {
            return 0;
        }
        ensureInitialized();
        DeviceStats s = torch.getDeviceStats((byte) 0);
        return s.allocated_bytes().current();
    }

    /** Peak bytes held by tensors on device 0 since the last {@link #resetPeak()}. */
    public static long peakAllocatedBytes() {
        if (!available()) {
            return 0;
        }
        ensureInitialized();
        DeviceStats s = torch.getDeviceStats((byte) 0);
        return s.allocated_bytes().peak();
    }

    /** Bytes reserved by the caching allocator on device 0 (allocated plus cached). */
    public static long reservedBytes() {
        if (!available()) {
            return 0;
        }
        ensureInitialized();
        return torch.getDeviceStats((byte) 0).reserved_bytes().current();
    }

    /** Starts a new peak measurement window. */
    public static void resetPeak() {
        if (available()) {
            ensureInitialized();
            torch.resetPeakStats((byte) 0);
        }
    }

    /** Returns cached, unused blocks to the driver. */
    public static void emptyCache() {
        if (available()) {
            torch.emptyCache();
        }
    }

    /** {@code bytes} in GiB. */
    public static double gib(long bytes) {
        return bytes / (double) (1L << 30);
    }
}
