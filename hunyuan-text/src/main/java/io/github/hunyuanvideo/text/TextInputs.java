package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import java.util.Objects;

/** The encoders' id/mask inputs: validation before any model work, and the attention mask. */
final class TextInputs {
    private TextInputs() {
    }

    /**
     * Checks that {@code ids} and {@code mask} are integer {@code [B, L]} tensors with ids in {@code [0, vocab)} and
     * a right-padded 0/1 mask whose first position is set.
     *
     * @return {@code L}
     * @throws IllegalArgumentException naming the parameter and the problem
     */
    static long check(Tensor ids, Tensor mask, long vocab) {
        Objects.requireNonNull(ids, "inputIds");
        Objects.requireNonNull(mask, "attentionMask");
        long[] shape = Tensors.shape(ids);
        if (shape.length != 2 || shape[0] < 1 || shape[1] < 1) {
            throw new IllegalArgumentException("inputIds must be a non-empty [B, L] tensor, got shape "
                    + Arrays.toString(shape));
        }
        if (!Arrays.equals(shape, Tensors.shape(mask))) {
            throw new IllegalArgumentException("attentionMask shape " + Arrays.toString(Tensors.shape(mask))
                    + " differs from inputIds shape " + Arrays.toString(shape));
        }
        requireInteger("inputIds", ids);
        requireInteger("attentionMask", mask);
        long[] idv = Tensors.toLongArray(ids);
        for (int i = 0; i < idv.length; i++) {
            if (idv[i] < 0 || idv[i] >= vocab) {
                throw new IllegalArgumentException("inputIds[" + i / shape[1] + ", " + i % shape[1] + "] = "
                        + idv[i] + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        long[] mv = Tensors.toLongArray(mask);
        for (int r = 0; r < shape[0]; r++) {
            for (int c = 0; c < shape[1]; c++) {
                long m = mv[(int) (r * shape[1] + c)];
                long prev = c == 0 ? 1 : mv[(int) (r * shape[1] + c - 1)];
                if (m != 0 && m != 1 || m > prev || c == 0 && m != 1) {
                    throw new IllegalArgumentException("attentionMask row " + r + " must be 1s then 0s (right "
                            + "padding, first token real), found " + m + " at position " + c);
                }
            }
        }
        return shape[1];
    }

    private static void requireInteger(String name, Tensor t) {
        ScalarType s = t.scalar_type().intern();
        if (s != ScalarType.Long && s != ScalarType.Int) {
            throw new IllegalArgumentException(name + " must be int64 or int32, got " + s);
        }
    }

    /** Query i may attend key j iff j ≤ i and key j is a real token: {@code [B, 1, L, L]} bool. */
    static Tensor causalPaddingMask(Tensor mask) {
        long b = mask.size(0);
        long len = mask.size(1);
        Tensor causal = torch.ones(new long[]{len, len}, new TensorOptions(ScalarType.Bool)).tril()
                .to(mask.device(), ScalarType.Bool);
        return causal.view(1, 1, len, len).logical_and(mask.to(ScalarType.Bool).view(b, 1, 1, len));
    }
}
