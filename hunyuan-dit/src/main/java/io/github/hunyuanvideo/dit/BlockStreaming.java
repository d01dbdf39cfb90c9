package io.github.hunyuanvideo.dit;

/**
 * Which of the DiT's blocks keep their weights in host memory and are copied to the device just before they run
 * ({@link io.github.hunyuanvideo.nn.StreamedWeights}): the last {@code streamedBlocks} in execution order (double
 * blocks, then single blocks), so a model that streams some blocks runs its resident ones first and the copies of the
 * streamed ones overlap their compute. The embedders, the token refiner and the final layer always stay on the device.
 *
 * @param streamedBlocks blocks streamed, from 0 (every block resident) to all of them
 * @param prefetchDepth  streamed blocks copied ahead of the one computing (device slots = depth + 1), at least 1
 */
public record BlockStreaming(int streamedBlocks, int prefetchDepth) {
    /** Validates; the upper bound on {@code streamedBlocks} is checked against the model when it loads. */
    public BlockStreaming {
        if (streamedBlocks < 0) {
            throw new IllegalArgumentException("streamedBlocks must be >= 0, got " + streamedBlocks);
        }
        if (prefetchDepth < 1) {
            throw new IllegalArgumentException("prefetchDepth must be >= 1, got " + prefetchDepth);
        }
    }

    /** Every block resident on the device. */
    public static BlockStreaming none() {
        return new BlockStreaming(0, 1);
    }

    /** Whether any block is streamed. */
    public boolean enabled() {
        return streamedBlocks > 0;
    }
}
