package io.github.hunyuanvideo.text;

/**
 * Which of the LLM's decoder layers keep their weights in host memory and are copied to the device just before they
 * run ({@link io.github.hunyuanvideo.nn.StreamedWeights}): the last {@code streamedLayers} of the layers the encoder
 * runs (30 of 32 with the default skip), so the resident layers run first and the copies of the streamed ones overlap
 * their compute. When any layer is streamed, the token embedding table (1 GB for Llama-3-8B in fp16) stays in host
 * memory as well: the lookup runs there and only the looked-up rows go to the device. The final norm, when used, and
 * the RoPE tables always stay on the device (a few KB).
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

    /** Every layer and the embedding table resident on the device. */
    public static LayerStreaming none() {
        return new LayerStreaming(0, 1);
    }

    /** Every layer that runs streamed, whatever the skip makes their number. */
    public static LayerStreaming all(int prefetchDepth) {
        return new LayerStreaming(Integer.MAX_VALUE, prefetchDepth);
    }

    /** Whether any layer is streamed (and the embedding table kept in host memory). */
    public boolean enabled() {
        return streamedLayers > 0;
    }

    /** How many of {@code layersRun} layers are streamed: the last {@code min(streamedLayers, layersRun)}. */
    public int streamedOf(int layersRun) {
        return Math.min(streamedLayers, layersRun);
    }
}
