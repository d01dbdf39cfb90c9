package io.github.hunyuanvideo.dit;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
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
 * The N-D rotary position embedding tables of HunyuanVideo: per-axis tables concatenated along the head dim, for
 * rotations of interleaved pairs {@code (2i, 2i+1)} (GPT-J / complex style, not NeoX half-split). The transformer
 * builds them from its token grid and applies them with {@link FusedRope}; see {@code docs/dit.md}.
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
}
