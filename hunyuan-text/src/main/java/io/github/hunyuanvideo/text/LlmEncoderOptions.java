package io.github.hunyuanvideo.text;

/**
 * Settings of the LLM text encoder, with the official defaults in {@link #defaults()}.
 *
 * <p>The tokenizer's {@code max_length} is always {@code textLen + 95} (the video template's crop), also for the
 * image template: this is the official behaviour, so one-frame generation gets {@code 351 - 36 = 315} text tokens.
 *
 * @param textLen              text tokens kept after the crop for the video template ({@code --text-len}, 256)
 * @param hiddenStateSkipLayer which hidden state is taken: {@code hidden_states[-(skip + 1)]}; 2 = the residual
 *                             stream after layer 30 of 32 ({@code --hidden-state-skip-layer}, 2)
 * @param applyFinalNorm       apply the model's final RMSNorm to the chosen state when skip &gt; 0
 *                             ({@code --apply-final-norm}, false); with skip 0 the state is normed anyway
 */
public record LlmEncoderOptions(int textLen, int hiddenStateSkipLayer, boolean applyFinalNorm) {
    /** @throws IllegalArgumentException if textLen &lt; 1 or the skip is negative */
    public LlmEncoderOptions {
        if (textLen < 1) {
            throw new IllegalArgumentException("textLen must be >= 1, got " + textLen);
        }
        if (hiddenStateSkipLayer < 0) {
            throw new IllegalArgumentException("hiddenStateSkipLayer must be >= 0, got " + hiddenStateSkipLayer);
        }
    }

    /** The official defaults: text_len 256, skip 2, no final norm. */
    public static LlmEncoderOptions defaults() {
        return new LlmEncoderOptions(256, 2, false);
    }

    /** The tokenizer's max_length: {@code textLen + 95}, whichever template is used (official quirk). */
    public int maxLength() {
        return textLen + PromptTemplate.VIDEO.cropStart();
    }

    /**
     * Decoder layers that have to run for a model of {@code numLayers} layers.
     *
     * @throws IllegalArgumentException if the skip exceeds the model's depth
     */
    public int layersToRun(int numLayers) {
        if (hiddenStateSkipLayer > numLayers) {
            throw new IllegalArgumentException("hiddenStateSkipLayer " + hiddenStateSkipLayer
                    + " exceeds the model's " + numLayers + " layers");
        }
        return numLayers - hiddenStateSkipLayer;
    }

    /** Whether the final RMSNorm is applied to the chosen state: hidden_states[-1] is normed by the model. */
    public boolean usesFinalNorm() {
        return hiddenStateSkipLayer == 0 || applyFinalNorm;
    }
}
