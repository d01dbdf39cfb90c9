package io.github.hunyuanvideo.text;

import org.bytedeco.pytorch.Tensor;

import java.util.Objects;

/**
 * The CLIP text model's outputs. The caller owns both tensors; {@link #close()} frees them.
 *
 * @param pooled          {@code pooler_output} {@code [B, hidden]}: the final-normed state at the pooled token
 * @param lastHiddenState {@code [B, L, hidden]} after the final LayerNorm
 */
public record ClipOutput(Tensor pooled, Tensor lastHiddenState) implements AutoCloseable {
    public ClipOutput {
        Objects.requireNonNull(pooled, "pooled");
        Objects.requireNonNull(lastHiddenState, "lastHiddenState");
    }

    @Override
    public void close() {
        pooled.releaseReference();
        lastHiddenState.releaseReference();
    }
}
