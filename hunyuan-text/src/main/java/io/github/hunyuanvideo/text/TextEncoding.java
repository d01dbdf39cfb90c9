package io.github.hunyuanvideo.text;

import org.bytedeco.pytorch.Tensor;

import java.util.Objects;

/**
 * The LLM encoder's output after the template crop.
 *
 * <p>The caller owns both tensors: {@link #close()} frees them (they are not attached to any {@code PointerScope}).
 *
 * @param states hidden states {@code [B, T, H]} in the encoder's dtype, on its device
 * @param mask   {@code [B, T]} int64, 1 for the prompt tokens and the trailing {@code <|eot_id|>}, 0 for padding
 */
public record TextEncoding(Tensor states, Tensor mask) implements AutoCloseable {
    public TextEncoding {
        Objects.requireNonNull(states, "states");
        Objects.requireNonNull(mask, "mask");
    }

    /** Releases the caller's reference to both tensors. */
    @Override
    public void close() {
        states.releaseReference();
        mask.releaseReference();
    }
}
