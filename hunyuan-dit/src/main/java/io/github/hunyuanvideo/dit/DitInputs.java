package io.github.hunyuanvideo.dit;

import org.bytedeco.pytorch.Tensor;

/**
 * The inputs of one {@link HunyuanVideoTransformer#forward} call: one denoising step of a batch of B samples. They may
 * live on any device; the transformer moves them to its own. The RoPE tables are no input: the transformer builds
 * them from the token grid of {@code latents}.
 *
 * @param latents    latents {@code [B, C_in, T, H, W]}, T/H/W divisible by the patch
 * @param timesteps  timesteps {@code [B]} (0…1000, float)
 * @param textStates LLM states {@code [B, L_txt, text_states_dim]}
 * @param textMask   {@code [B, L_txt]}, 1 for valid tokens, right padded, at least one valid token per row
 * @param pooledText pooled CLIP states {@code [B, text_states_dim_2]}
 * @param guidance   embedded guidance {@code [B]} (scale·1000); required iff the config embeds guidance, else
 *                   ignored as in the original (may be {@code null})
 * @param attention  the blocks' attention backend for this call (not null; {@link Attention#SDPA} unless chosen)
 */
public record DitInputs(Tensor latents, Tensor timesteps, Tensor textStates, Tensor textMask, Tensor pooledText,
                        Tensor guidance, Attention attention) {
    /** Validates the backend; the tensors are checked by the forward, against the model's configuration. */
    public DitInputs {
        if (attention == null) {
            throw new IllegalArgumentException("attention: must not be null");
        }
    }

    /** The inputs with {@link Attention#SDPA}, the official attention. */
    public DitInputs(Tensor latents, Tensor timesteps, Tensor textStates, Tensor textMask, Tensor pooledText,
                     Tensor guidance) {
        this(latents, timesteps, textStates, textMask, pooledText, guidance, Attention.SDPA);
    }

    /** The same inputs, attended with {@code backend}. */
    public DitInputs withAttention(Attention backend) {
        return new DitInputs(latents, timesteps, textStates, textMask, pooledText, guidance, backend);
    }

    /**
     * Samples [from, from + count) of every input (views, along the batch dim), e.g. to run one sample of a batch
     * alone; the same backend.
     */
    public DitInputs samples(long from, long count) {
        return new DitInputs(latents.narrow(0, from, count), timesteps.narrow(0, from, count),
                textStates.narrow(0, from, count), textMask.narrow(0, from, count), pooledText.narrow(0, from, count),
                guidance == null ? null : guidance.narrow(0, from, count), attention);
    }
}
