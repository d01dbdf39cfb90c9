package io.github.hunyuanvideo.sampler;

/**
 * The largest generation a sampler's device-memory plan must serve: output size, frames and the DiT's batch (videos
 * per prompt, doubled under true classifier-free guidance). Under a budget, {@code predict} refuses a bigger request
 * instead of overrunning the budget.
 *
 * @param height      pixels, at most 4096
 * @param width       pixels, at most 4096
 * @param videoLength frames, {@code 4k + 1}
 * @param batch       samples in one DiT forward, at least 1
 */
public record RequestSize(int height, int width, int videoLength, int batch) {
    /** The official largest setting: 720×1280, 129 frames, one video, no true CFG. */
    public static final RequestSize OFFICIAL_720P = new RequestSize(720, 1280, 129, 1);

    /** Validates; throws {@link IllegalArgumentException} starting with {@code largestRequest:}. */
    public RequestSize {
        if (height < 16 || width < 16 || height > 4096 || width > 4096) {
            throw new IllegalArgumentException("largestRequest: height and width must be 16 to 4096, got " + height
                    + "x" + width);
        }
        if (videoLength < 1 || videoLength > 1025 || (videoLength - 1) % 4 != 0) {
            throw new IllegalArgumentException("largestRequest: videoLength must be 4k + 1 frames, 1 to 1025, got "
                    + videoLength);
        }
        if (batch < 1 || batch > 128) {
            throw new IllegalArgumentException("largestRequest: batch must be 1 to 128, got " + batch);
        }
    }

    /** The latent shape {@code [batch, channels, T, h, w]} of this size (8× spatial, 4× temporal compression). */
    long[] latentShape(int channels, int spatialRatio, int temporalRatio) {
        return new long[]{batch, channels, (videoLength - 1) / temporalRatio + 1, height / spatialRatio,
                width / spatialRatio};
    }

    /** Whether a request of this size, frames and batch fits: no more latent tokens and no more pixels. */
    boolean covers(int h, int w, int frames, int requestBatch) {
        long tokens = (long) height * width * ((videoLength - 1) / 4 + 1) * batch;
        long pixels = (long) height * width * videoLength * batch;
        return (long) h * w * ((frames - 1) / 4 + 1) * requestBatch <= tokens
                && (long) h * w * frames * requestBatch <= pixels;
    }

    @Override
    public String toString() {
        return height + "x" + width + "x" + videoLength + (batch > 1 ? " (batch " + batch + ")" : "");
    }
}
