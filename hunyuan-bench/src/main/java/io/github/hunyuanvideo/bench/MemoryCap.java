package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.MemorySize;
import org.bytedeco.pytorch.Device;

/**
 * {@code --max-gpu-memory SIZE} of the benchmark mains: the CUDA caching allocator is capped at SIZE before anything
 * loads ({@link CudaMemory#limitTo}), so a run that needs more fails with an out-of-memory error instead of reporting
 * figures no smaller GPU could reach.
 */
final class MemoryCap {
    static final String OPTION = "--max-gpu-memory";

    private MemoryCap() {
    }

    /** {@code text} in bytes; throws {@link IllegalArgumentException} naming the option and the accepted forms. */
    static long parse(String text) {
        return MemorySize.parse(OPTION, text);
    }

    /**
     * Caps device 0 at {@code bytes} (0: no cap) and returns the cap for the output's header.
     *
     * @throws IllegalArgumentException for a cap on a device other than CUDA device 0, or above its memory
     */
    static String apply(long bytes, Device device) {
        if (bytes == 0) {
            return "none";
        }
        if (!device.is_cuda()) {
            throw new IllegalArgumentException(OPTION + ": needs a CUDA device, got --device "
                    + device.str().getString());
        }
        if (device.index() > 0) {
            throw new IllegalArgumentException(OPTION + ": caps CUDA device 0 only, got --device "
                    + device.str().getString());
        }
        try {
            CudaMemory.limitTo(bytes);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(OPTION + ": " + e.getMessage().replaceFirst("^bytes: ", ""), e);
        }
        return MemorySize.format(bytes) + " of " + MemorySize.format(CudaMemory.totalBytes());
    }
}
