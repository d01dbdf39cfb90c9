package io.github.hunyuanvideo.sampler;

import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.util.List;

/**
 * Receives the videos of a generation chunk by chunk, each as soon as the VAE has made its frames final
 * ({@link HunyuanVideoSampler#predict(GenerationRequest, ProgressListener, CancellationToken, DecodedFrameSink)}): with
 * temporal VAE tiling one chunk per temporal tile (49, 48, 48, … frames with the official tiles), else the whole video
 * at once. So an application can write the videos while they are decoded, without the whole float32 video in memory
 * (1.4 GB at 720×1280×129). Called on the generating thread: {@link #begin} once, then {@link #accept} for the chunks
 * in order, without gaps or overlap, unless the generation fails or is cancelled first (cancellation is honoured
 * between VAE tiles, so a cancelled generation hands out no further chunk).
 */
public interface DecodedFrameSink {
    /**
     * What the chunks make up, known before the first one.
     *
     * @param count   number of videos N
     * @param frames  frames per video
     * @param height  frame height (the request's, rounded up to a multiple of 16)
     * @param width   frame width, likewise
     * @param seeds   the seed of each video
     * @param prompts the prompt of each video (stripped)
     */
    record Videos(int count, int frames, int height, int width, List<Long> seeds, List<String> prompts) {
        /** Copies the lists. */
        public Videos {
            seeds = List.copyOf(seeds);
            prompts = List.copyOf(prompts);
        }
    }

    /**
     * Called once, when decoding starts, before the first chunk. The default does nothing.
     *
     * @throws IOException to stop the generation; {@code predict} then throws it
     */
    default void begin(Videos videos) throws IOException {
    }

    /**
     * Takes the next frames of every video.
     *
     * @param frames     float32 {@code [N, 3, t, H, W]} in [0, 1] on the CPU: frames {@code firstFrame} to
     *                   {@code firstFrame + t − 1} of each video, bit for bit those of
     *                   {@link SamplerResult#videos()} when the same generation runs without a sink. Freed once this
     *                   call returns: copy what must be kept
     * @param firstFrame index of the chunk's first frame in the videos
     * @throws IOException to stop the generation; {@code predict} then throws it
     */
    void accept(Tensor frames, int firstFrame) throws IOException;
}
