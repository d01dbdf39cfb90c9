package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.RmsNorm;
import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import java.util.function.UnaryOperator;

/**
 * The head-dim layout in which the blocks hold q and k: each rotation pair {@code (2i, 2i+1)} of the official
 * interleaved RoPE stored as halves, {@code [x_0, x_2, …, x_{D−2} | x_1, x_3, …, x_{D−1}]}, so that {@link FusedRope}
 * reads each pair member as one contiguous run of D/2 elements. The q and k rows of every projection and the QK
 * RMSNorm weights are reordered once, at load time: that relabels the head dim of q and k alike, which changes neither
 * the per-head RMSNorm nor the attention scores {@code q·k}. Only the reordered tensors are kept.
 */
final class HalvesLayout {
    /** eps of the DiT's QK RMSNorm. */
    private static final double QK_NORM_EPS = 1e-6;

    private HalvesLayout() {
    }

    /**
     * The fused projection {@code prefix} ({@code .weight [Σ rows, in]}, {@code .bias [Σ rows]} if {@code bias}) as one
     * Linear per row block of {@code rows}, each a view of the one weight (the split costs no memory); the first two
     * blocks are q and k and come out in the halves layout, heads of {@code headDim}.
     */
    static Linear[] projections(Parameters p, String prefix, long in, boolean bias, long headDim, long... rows) {
        long total = Arrays.stream(rows).sum();
        long qk = rows[0] + rows[1];
        Tensor w = p.tensor(prefix + ".weight", new long[]{total, in}, t -> toHalves(t, qk, headDim));
        Tensor scale = p.scale(prefix + ".weight");
        Tensor b = bias ? p.tensor(prefix + ".bias", new long[]{total}, t -> toHalves(t, qk, headDim)) : null;
        Linear[] out = new Linear[rows.length];
        long start = 0;
        for (int i = 0; i < rows.length; i++) {
            // An FP8 weight's row blocks share its per-tensor scale.
            out[i] = new Linear(w.narrow(0, start, rows[i]), b == null ? null : b.narrow(0, start, rows[i]), scale);
            start += rows[i];
        }
        return out;
    }

    /** The QK RMSNorm {@code name [dim]}, its weight in the halves layout, or {@code null} if not {@code enabled}. */
    static RmsNorm qkNorm(Parameters p, String name, long dim, boolean enabled) {
        return enabled ? new RmsNorm(p.tensor(name, new long[]{dim}, t -> toHalves(t, dim, dim)), QK_NORM_EPS) : null;
    }

    /**
     * Reorders the first {@code rows} entries of dim 0 of {@code t} (a weight {@code [N, in]} or a vector {@code [N]}),
     * blocks of {@code headDim} each, from interleaved pairs to halves; the other entries are kept.
     *
     * @return a new contiguous tensor of t's shape
     */
    static Tensor toHalves(Tensor t, long rows, long headDim) {
        if (headDim <= 0 || headDim % 2 != 0 || rows % headDim != 0 || rows > t.size(0)) {
            throw new IllegalArgumentException("rows " + rows + " must be a multiple of the even head dim " + headDim
                    + " and at most " + t.size(0));
        }
        return movingBytes(t, v -> reorder(v, rows, headDim));
    }

    /**
     * {@code move(t)} for a {@code move} that only moves elements (copies, concatenations, views): a float8_e4m3fn
     * tensor is moved as its uint8 view, whose copy and concatenation kernels every libtorch build and device has
     * (their float8 dispatch varies across builds), and the result viewed back as float8.
     */
    static Tensor movingBytes(Tensor t, UnaryOperator<Tensor> move) {
        if (t.scalar_type().intern() != ScalarType.Float8_e4m3fn) {
            return move.apply(t);
        }
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            out = move.apply(t.view(ScalarType.Byte)).view(ScalarType.Float8_e4m3fn);
            out.retainReference();
        }
        return Scopes.handOut(out);
    }

    private static Tensor reorder(Tensor t, long rows, long headDim) {
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            long[] shape = Tensors.shape(t);
            long[] split = new long[shape.length + 2];
            split[0] = rows / headDim;
            split[1] = headDim / 2;
            split[2] = 2;
            System.arraycopy(shape, 1, split, 3, shape.length - 1);
            long[] qk = shape.clone();
            qk[0] = rows;
            Tensor halves = t.narrow(0, 0, rows).contiguous().view(split).transpose(1, 2).reshape(qk);
            out = rows == shape[0] ? halves : torch.cat(new TensorArrayRef(new TensorVector(halves,
                    t.narrow(0, rows, shape[0] - rows))), 0);
            out.retainReference();
        }
        return Scopes.handOut(out);
    }
}
