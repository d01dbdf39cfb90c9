package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * Token ids of a batch of texts, right padded to one length, as the official tokenizer call returns them
 * ({@code padding="max_length", truncation=True}).
 *
 * @param inputIds        {@code [B][maxLength]} token ids (special tokens included)
 * @param attentionMask   {@code [B][maxLength]} 1 for real tokens, 0 for padding
 * @param truncatedTokens per text, how many tokens were cut from its end to fit (0 if none)
 */
public record TokenizedPrompts(long[][] inputIds, long[][] attentionMask, int[] truncatedTokens) {
    /** Number of texts. */
    public int batchSize() {
        return inputIds.length;
    }

    /** Padded length of every row. */
    public int length() {
        return inputIds.length == 0 ? 0 : inputIds[0].length;
    }

    /** Real (unmasked) tokens of row {@code i}. */
    public int validTokens(int i) {
        int n = 0;
        for (long m : attentionMask[i]) {
            n += (int) m;
        }
        return n;
    }

    /** Whether any text lost tokens to truncation. */
    public boolean anyTruncated() {
        for (int t : truncatedTokens) {
            if (t > 0) {
                return true;
            }
        }
        return false;
    }

    /** The ids as a new int64 CPU tensor {@code [B, length]}. */
    public Tensor inputIdsTensor() {
        return toTensor(inputIds);
    }

    /** The mask as a new int64 CPU tensor {@code [B, length]}. */
    public Tensor attentionMaskTensor() {
        return toTensor(attentionMask);
    }

    private Tensor toTensor(long[][] rows) {
        int len = length();
        long[] flat = new long[rows.length * len];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * len, len);
        }
        return Tensors.fromLongs(flat, rows.length, len);
    }
}
