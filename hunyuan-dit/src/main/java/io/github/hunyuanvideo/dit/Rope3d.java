package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import io.github.hunyuanvideo.nn.Scopes;

/**
 * N-D rotary position embedding of HunyuanVideo (spec §7): per-axis tables concatenated along the head dim, applied
 * to interleaved pairs {@code (2i, 2i+1)} (GPT-J / complex style, not NeoX half-split).
 */
public final class Rope3d {
    private Rope3d() {
    }

    /**
     * The official {@code get_nd_rotary_pos_embed(dims, sizes, theta, use_real=True)} tables, built on the CPU in
     * float32 like the original.
     *
     * @param dims  head-dim share of each axis (even; for HunyuanVideo {@code [16, 56, 56]})
     * @param sizes token-grid size of each axis, in (t, h, w) order
     * @param theta RoPE base (256 for HunyuanVideo)
     * @return {@code {cos, sin}}, each float32 {@code [Π sizes, Σ dims]}; rows in row-major grid order, each axis'
     *         values repeat-interleaved ×2
     */
    public static Tensor[] freqs(long[] dims, long[] sizes, double theta) {
        if (dims.length == 0 || dims.length != sizes.length) {
            throw new IllegalArgumentException("dims " + Arrays.toString(dims) + " and sizes "
                    + Arrays.toString(sizes) + " must be non-empty and of equal length");
        }
        if (Arrays.stream(dims).anyMatch(d -> d <= 0 || d % 2 != 0) || Arrays.stream(sizes).anyMatch(s -> s <= 0)) {
            throw new IllegalArgumentException("dims must be positive and even, sizes positive: dims "
                    + Arrays.toString(dims) + ", sizes " + Arrays.toString(sizes));
        }
        if (!(theta > 0)) {
            throw new IllegalArgumentException("theta must be > 0, got " + theta);
        }
        long total = Arrays.stream(sizes).reduce(1, Math::multiplyExact);
        long headDim = Arrays.stream(dims).sum();
        Tensor cos;
        Tensor sin;
        try (PointerScope scope = new PointerScope()) {
            TensorOptions f32 = new TensorOptions(ScalarType.Float);
            TensorVector cosParts = new TensorVector();
            TensorVector sinParts = new TensorVector();
            for (int a = 0; a < dims.length; a++) {
                long d = dims[a];
                // ω_j = 1 / θ^(2j/d): the exponent is an int64 arange cast to float32, divided in float32.
                Tensor exponent = torch.arange(new Scalar(0), new Scalar(d), new Scalar(2))
                        .to(ScalarType.Float).div(new Scalar(d));
                Tensor omega = torch.pow(new Scalar(theta), exponent).reciprocal();
                Tensor pos = torch.arange(new Scalar(sizes[a]), f32);
                Tensor angle = torch.outer(pos, omega);
                // Broadcast the axis' [n_a, d] table over the grid: shape 1 on every other axis.
                long[] view = new long[dims.length + 1];
                Arrays.fill(view, 1);
                view[a] = sizes[a];
                view[dims.length] = d;
                long[] full = Arrays.copyOf(sizes, dims.length + 1);
                full[dims.length] = d;
                cosParts.push_back(angle.cos().repeat_interleave(2, new LongOptional(1), new LongOptional())
                        .view(view).expand(full));
                sinParts.push_back(angle.sin().repeat_interleave(2, new LongOptional(1), new LongOptional())
                        .view(view).expand(full));
            }
            cos = torch.cat(new TensorArrayRef(cosParts), -1).reshape(total, headDim);
            sin = torch.cat(new TensorArrayRef(sinParts), -1).reshape(total, headDim);
            cos.retainReference();
            sin.retainReference();
        }
        return new Tensor[]{Scopes.handOut(cos), Scopes.handOut(sin)};
    }

    /**
     * Rotates {@code x} like the official {@code apply_rotary_emb(..., head_first=False)}: {@code y = x·cos +
     * rot(x)·sin} with {@code rot(x)_{2i} = −x_{2i+1}}, {@code rot(x)_{2i+1} = x_{2i}}, in float32, cast back to
     * x's dtype.
     *
     * @param x   {@code [B, S, H, D]}
     * @param cos {@code [S, D]} table from {@link #freqs} (entries {@code 2i} and {@code 2i+1} equal)
     * @param sin {@code [S, D]} table from {@link #freqs}
     */
    public static Tensor apply(Tensor x, Tensor cos, Tensor sin) {
        return applyTable(x, table(cos, sin));
    }

    /**
     * The cos/sin tables as one complex64 table {@code [S, D/2]} ({@code cos_{2i} + i·sin_{2i}}) on the tables'
     * device; {@link #applyTable} with it equals {@link #apply}. Build it once per forward pass and reuse it.
     */
    public static Tensor table(Tensor cos, Tensor sin) {
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
    public static Tensor applyTable(Tensor x, Tensor table) {
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
     * x_1, x_3, …, x_{D−1}]} (what {@link #toHalves} gives the q/k weights): {@code y_a = a·cos − b·sin},
     * {@code y_b = b·cos + a·sin} with a, b the two halves. The products and sums are those of the complex product,
     * in float32, and are rounded once into x's dtype by {@code addcmul}'s output cast; no float32 copy of x is made
     * and the halves are contiguous runs of D/2 elements, so the kernels read whole memory sectors.
     *
     * @param x     {@code [B, S, H, D]} in the halves layout, any floating dtype
     * @param table complex64 {@code [S, D/2]} on x's device
     * @return a new contiguous tensor of x's shape, dtype and layout
     */
    public static Tensor applyHalves(Tensor x, Tensor table) {
        check(x, table);
        return rotate(x, table, true);
    }

    /**
     * Reorders the first {@code rows} entries of dim 0 of {@code t} (a weight {@code [N, in]} or a vector
     * {@code [N]}), blocks of {@code headDim} each, from interleaved pairs to the halves layout of
     * {@link #applyHalves}; the other entries are kept. Applied to the q and k rows of a projection (and to the q/k
     * RMSNorm weights), it relabels the head dim of q and k alike, which changes neither the per-head RMSNorm nor
     * the attention scores {@code q·k}.
     *
     * @return a new contiguous tensor of t's shape
     */
    public static Tensor toHalves(Tensor t, long rows, long headDim) {
        if (headDim <= 0 || headDim % 2 != 0 || rows % headDim != 0 || rows > t.size(0)) {
            throw new IllegalArgumentException("rows " + rows + " must be a multiple of the even head dim " + headDim
                    + " and at most " + t.size(0));
        }
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
