package io.github.hunyuanvideo.nn;

import org.bytedeco.pytorch.cuda.DeviceStats;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * Reads the CUDA caching allocator's statistics (the numbers behind {@code torch.cuda.max_memory_allocated}) so that
 * benchmarks can report peak memory, and caps what the allocator may take ({@link #limitTo}). Every method is a
 * no-op / zero when CUDA is not available.
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

    /** The number of CUDA devices this process sees (0 without CUDA). */
    public static int deviceCount() {
        return available() ? torch.cuda_device_count() : 0;
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

    /**
     * Total memory of device 0 as the driver reports it ({@code cudaMemGetInfo}, the figure {@code nvidia-smi} shows
     * in MiB); 0 without CUDA.
     */
    public static long totalBytes() {
        if (!available()) {
            return 0;
        }
        ensureInitialized();
        return torch.getMemoryInfo((byte) 0).second();
    }

    /**
     * Memory of device 0 that no process holds ({@code cudaMemGetInfo}); what this process's allocator has cached
     * counts as used. 0 without CUDA.
     */
    public static long freeBytes() {
        if (!available()) {
            return 0;
        }
        ensureInitialized();
        return torch.getMemoryInfo((byte) 0).first();
    }

    /**
     * Caps this process's CUDA caching allocator at {@code bytes} on device 0 (torch's per-process memory fraction,
     * {@code torch.cuda.set_per_process_memory_fraction(bytes / total)}), so that a run which needs more fails with
     * an out-of-memory error instead of quietly taking more; the allocator first frees its cached blocks and retries,
     * as it does at the device's end. The cap counts what the allocator reserves (tensors, their cache, cuBLAS
     * workspaces); the CUDA context and kernels (a few hundred MiB, outside the allocator) are not in it. A later call
     * replaces the cap. Without CUDA it does nothing.
     *
     * @param bytes the cap, at least 1 and at most {@link #totalBytes()}
     * @throws IllegalArgumentException if {@code bytes} is below 1 or, on CUDA, above the device's total memory
     */
    public static void limitTo(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("bytes: must be >= 1, got " + bytes);
        }
        if (!available()) {
            return;
        }
        long total = totalBytes();
        if (bytes > total) {
            throw new IllegalArgumentException("bytes: " + MemorySize.format(bytes) + " is more than device 0 has ("
                    + MemorySize.format(total) + ")");
        }
        CudaAllocator.setFraction(bytes / (double) total);
    }

    /**
     * The current cap of this process's CUDA caching allocator on device 0 ({@link #limitTo}), in bytes: the
     * device's total memory when none was set; 0 without CUDA. Pass it to {@link #limitTo} to restore it.
     */
    public static long limit() {
        if (!available()) {
            return 0;
        }
        return (long) Math.floor(CudaAllocator.fraction() * totalBytes());
    }

    /**
     * The one place that touches {@code torch_cuda}: its class loads libjnitorch_cuda, which CPU-only builds lack, so
     * it must stay unloaded unless {@link #available()}; a nested class is loaded only when first called.
     */
    private static final class CudaAllocator {
        static void setFraction(double fraction) {
            torch_cuda.getAllocator().setMemoryFraction(fraction, (byte) 0);
        }

        static double fraction() {
            return torch_cuda.getAllocator().getMemoryFraction((byte) 0);
        }
    }

    /** {@code bytes} in GiB. */
    public static double gib(long bytes) {
        return bytes / (double) (1L << 30);
    }
}
