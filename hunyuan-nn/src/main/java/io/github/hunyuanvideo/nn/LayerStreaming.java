package io.github.hunyuanvideo.nn;

/**
 * Which layers of a model keep their weights in host memory and are copied to the device just before they run
 * ({@link StreamedWeights}): the last {@code streamedLayers} of the layers the model runs in order (the DiT's blocks,
 * double then single; the LLM's decoder layers the encoder runs), so the resident layers run first and the copies of
 * the streamed ones overlap their compute. Each model documents what else streaming moves (the LLM's embedding table
 * stays in host memory too).
 *
 * @param streamedLayers layers streamed, counted back from the last that runs: 0 keeps every layer resident, a count
 *                       of at least the layers that run streams all of them ({@link #all})
 * @param prefetchDepth  streamed layers copied ahead of the one computing (device slots = depth + 1), at least 1
 */
public record LayerStreaming(int streamedLayers, int prefetchDepth) {
    /** Validates. */
    public LayerStreaming {
        if (streamedLayers < 0) {
            throw new IllegalArgumentException("streamedLayers must be >= 0, got " + streamedLayers);
        }
        if (prefetchDepth < 1) {
            throw new IllegalArgumentException("prefetchDepth must be >= 1, got " + prefetchDepth);
        }
    }

    /** Every layer resident on the device. */
    public static LayerStreaming none() {
        return new LayerStreaming(0, 1);
    }

    /** Every layer that runs streamed, whatever their number. */
    public static LayerStreaming all(int prefetchDepth) {
        return new LayerStreaming(Integer.MAX_VALUE, prefetchDepth);
    }

    /** Whether any layer is streamed. */
    public boolean enabled() {
        return streamedLayers > 0;
    }

    /** How many of {@code layersRun} layers are streamed: the last {@code min(streamedLayers, layersRun)}. */
    public int streamedOf(int layersRun) {
        return Math.min(streamedLayers, layersRun);
    }

    @Override
    public String toString() {
        return streamedLayers == Integer.MAX_VALUE ? "LayerStreaming[all, prefetchDepth=" + prefetchDepth + "]"
                : "LayerStreaming[streamedLayers=" + streamedLayers + ", prefetchDepth=" + prefetchDepth + "]";
    }
}
