package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;

/**
 * The test's reference forms of the official {@code apply_rotary_emb} (interleaved pairs, real and complex forms, and
 * the real form on the halves layout of {@link HalvesLayout}), against which the golden case and {@link FusedRope}
 * are checked.
 */
final class RopeReference {
    private RopeReference() {
    }

    /**
     * Rotates {@code x} like the official {@code apply_rotary_emb(..., head_first=False)}: {@code y = x·cos +
     * rot(x)·sin} with {@code rot(x)_{2i} = −x_{2i+1}}, {@code rot(x)_{2i+1} = x_{2i}}, in float32, cast back to
     * x's dtype.
     *
     * @param x   {@code [B, S, H, D]}
     * @param cos {@code [S, D]} table from {@link Rope3d#freqs} (entries {@code 2i} and {@code 2i+1} equal)
     * @param sin {@code [S, D]} table from {@link Rope3d#freqs}
     */
    static Tensor apply(Tensor x, Tensor cos, Tensor sin) {
        return applyTable(x, table(cos, sin));
    }

    /**
     * The cos/sin tables as one complex64 table {@code [S, D/2]} ({@code cos_{2i} + i·sin_{2i}}) on the tables'
     * device; {@link #applyTable} with it equals {@link #apply}.
     */
    static Tensor table(Tensor cos, Tensor sin) {
        if (cos.dim() != 2 || !Arrays.equals(Tensors.shape(cos), Tensors.shape(sin)) || cos.size(1) % 2 != 0) {
            throw new IllegalArgumentException("cos and sin must both be [S, D] with even D, got "
                    + Arrays.toString(Tensors.shape(cos)) + " and " + Arrays.toString(Tensors.shape(sin)));
        }
        Tensor t;
        try (PointerScope scope = new PointerScope()) {
            long d = cos.size(1);
            Tensor c = cos.to(ScalarType.Float).slice(1, new LongOptional(0), new LongOptional(d), 2);
            Tensor s = sin.to(ScalarType.Float).slice(1, new LongOptional(0), new LongOptional(d), 2);
            t = torch.stack(new TensorArrayRef(new TensorVector(c, s)), -1).view(ScalarType.ComplexFloat)
                    .squeeze(-1);
            t.retainReference();
        }
        return Scopes.handOut(t);
    }

    /**
     * Applies a complex table from {@link #table}: {@code (x_{2i} + i·x_{2i+1})·table_i} per token, in float32.
     * A float32 x takes the complex product; any other dtype takes the real form of {@link #applyHalves} on the
     * even/odd strided views of x.
     *
     * @param x     {@code [B, S, H, D]} of any floating dtype
     * @param table complex64 {@code [S, D/2]} on x's device
     * @return a new contiguous tensor of x's shape and dtype
     */
    static Tensor applyTable(Tensor x, Tensor table) {
        check(x, table);
        if (x.scalar_type().intern() != ScalarType.Float) {
            return rotate(x, table, false);
        }
        Tensor y;
        try (PointerScope scope = new PointerScope()) {
            y = x.contiguous().view(ScalarType.ComplexFloat).mul(factors(table)).view(ScalarType.Float);
            y.retainReference();
        }
        return Scopes.handOut(y);
    }

    /**
     * {@link #applyTable} for x whose head dim holds each rotation pair as halves, {@code [x_0, x_2, …, x_{D−2} |
     * x_1, x_3, …, x_{D−1}]} (what {@link HalvesLayout#toHalves} gives the q/k weights): {@code y_a = a·cos − b·sin},
     * {@code y_b = b·cos + a·sin} with a, b the two halves. The products and sums are those of the complex product,
     * in float32, and are rounded once into x's dtype by {@code addcmul}'s output cast; no float32 copy of x is made
     * and the halves are contiguous runs of D/2 elements, so the kernels read whole memory sectors.
     *
     * @param x     {@code [B, S, H, D]} in the halves layout, any floating dtype
     * @param table complex64 {@code [S, D/2]} on x's device
     * @return a new contiguous tensor of x's shape, dtype and layout
     */
    static Tensor applyHalves(Tensor x, Tensor table) {
        check(x, table);
        return rotate(x, table, true);
    }

    private static void check(Tensor x, Tensor table) {
        if (x.dim() != 4 || table.dim() != 2 || x.size(1) != table.size(0) || x.size(3) != 2 * table.size(1)) {
            throw new IllegalArgumentException("x must be [B, S, H, D] matching the table [S, D/2], got x "
                    + Arrays.toString(Tensors.shape(x)) + ", table " + Arrays.toString(Tensors.shape(table)));
        }
    }

    private static Tensor factors(Tensor table) {
        return table.view(1, table.size(0), 1, table.size(1));
    }

    /** The real-form rotation of the pair members {@code a}, {@code b}: halves, or even/odd strided views. */
    private static Tensor rotate(Tensor x, Tensor table, boolean halves) {
        Tensor y;
        try (PointerScope scope = new PointerScope()) {
            y = torch.empty(Tensors.shape(x), x.options(), new MemoryFormatOptional());
            rotateInto(y, x, table, halves);
            y.retainReference();
        }
        return Scopes.handOut(y);
    }

    private static void rotateInto(Tensor y, Tensor x, Tensor table, boolean halves) {
        try (PointerScope scope = new PointerScope()) {
            // Real and imaginary parts of the table as float32 views [1, S, 1, D/2] (no copy).
            Tensor parts = torch.view_as_real(factors(table));
            Tensor cos = parts.select(-1, 0);
            Tensor sin = parts.select(-1, 1);
            Tensor[] xs = members(x, halves);
            Tensor[] ys = members(y, halves);
            Tensor t = xs[0].mul(cos);
            torch.addcmul_out(ys[0], t, xs[1], sin, new Scalar(-1));
            torch.mul_out(t, xs[1], cos);
            torch.addcmul_out(ys[1], t, xs[0], sin, new Scalar(1));
        }
    }

    private static Tensor[] members(Tensor x, boolean halves) {
        long d = x.size(3);
        if (halves) {
            return new Tensor[]{x.narrow(3, 0, d / 2), x.narrow(3, d / 2, d / 2)};
        }
        return new Tensor[]{x.slice(3, new LongOptional(0), new LongOptional(d), 2),
                x.slice(3, new LongOptional(1), new LongOptional(d), 2)};
    }
}
