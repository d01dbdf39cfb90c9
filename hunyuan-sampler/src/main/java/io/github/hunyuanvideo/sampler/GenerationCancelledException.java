package io.github.hunyuanvideo.sampler;

/** Thrown by {@link HunyuanVideoSampler#predict} when its {@link CancellationToken} was cancelled. */
public final class GenerationCancelledException extends RuntimeException {
    public GenerationCancelledException(String message) {
        super(message);
    }
}
