package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * Text conditioning of one prompt as the DiT takes it: what the two text encoders return (the original's {@code encode_prompt}). Use it to
 * generate from precomputed embeddings. The caller keeps ownership of the tensors; the sampler only reads them.
 *
 * @param states LLM hidden states {@code [1, textLen, textStatesDim]} after the template crop; their dtype is also the
 *               dtype of the initial noise, as in the original (fp16 for the official setup)
 * @param mask {@code [1, textLen]} integer attention mask, 1 for valid tokens (right padded)
 * @param pooled CLIP pooled output {@code [1, textStatesDim2]}
 */
public record PromptEmbeddings(Tensor states, Tensor mask, Tensor pooled) {
    /** @throws IllegalArgumentException naming the tensor whose rank or shape does not fit the others */
    public PromptEmbeddings {
        Objects.requireNonNull(states, "states");
        Objects.requireNonNull(mask, "mask");
        Objects.requireNonNull(pooled, "pooled");
        long[] s = Tensors.shape(states);
        long[] m = Tensors.shape(mask);
        long[] p = Tensors.shape(pooled);
        if (s.length != 3) {
            throw new IllegalArgumentException("states: expected [1, textLen, dim], got " + Arrays.toString(s));
        }
        if (m.length != 2 || m[0] != s[0] || m[1] != s[1]) {
            throw new IllegalArgumentException("mask: expected [" + s[0] + ", " + s[1] + "] to match states, got "
                    + Arrays.toString(m));
        }
        if (p.length != 2 || p[0] != s[0]) {
            throw new IllegalArgumentException("pooled: expected [" + s[0] + ", dim2], got " + Arrays.toString(p));
        }
        if (s[0] != 1) {
            throw new IllegalArgumentException("states: one prompt per PromptEmbeddings (batch 1), got batch " + s[0]);
        }
    }

    /** Number of text tokens. */
    public long textLen() {
        return states.size(1);
    }
}
