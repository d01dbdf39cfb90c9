package io.github.hunyuanvideo.core.pipeline;

/** Thrown by {@link HunyuanVideoSampler#predict} when its {@link CancellationToken} was cancelled. */
public final class GenerationCancelledException extends RuntimeException {
    public GenerationCancelledException(String message) {
        super(message);
    }
}
