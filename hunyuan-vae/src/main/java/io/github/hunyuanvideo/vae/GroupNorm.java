package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * {@code nn.GroupNorm(groups, channels, eps=1e-6)}, optionally fused with the SiLU that follows it, with float32
 * statistics and arithmetic as CUDA autocast gives the official half-precision decoder. The result is stored in the
 * destination's dtype, which is where the official code's next convolution or linear would cast it.
 *
 * <p>libtorch's own group_norm kernel reduces each (sample, group) row in one thread block, which leaves an H100 almost
 * idle on the decoder's 32 huge groups (22× slower than this at 128×65×256×256), and its float32 input copy would
 * double the decoder's peak memory. So the per-group mean and mean square come from ordinary float32-accumulating
 * reductions, and normalisation + affine is one fused multiply-add per element written straight into the
 * destination, with no float32 copy of the activation.
 */
final class GroupNorm {
    static final double EPS = 1e-6;

    private final Tensor weight;
    private final Tensor bias;
    private final int groups;
    private final int channels;

    /** Takes float32 {@code weight} and {@code bias} [channels] (not retained: the caller owns them). */
    GroupNorm(Tensor weight, Tensor bias, int groups, int channels) {
        this.weight = weight;
        this.bias = bias;
        this.groups = groups;
        this.channels = channels;
    }

    /** Binds {@code name.weight} and {@code name.bias} {@code [channels]} (held by {@code p}). */
    static GroupNorm load(Parameters p, String name, int channels, int groups) {
        return new GroupNorm(p.floatTensor(name + ".weight", channels), p.floatTensor(name + ".bias", channels),
                groups, channels);
    }

    /** {@code silu?(norm(x))} as a new tensor in x's dtype. */
    Tensor forward(Tensor x, boolean silu) {
        Tensor out = torch.empty_like(x);
        forwardInto(x, silu, out);
        return out;
    }

    /**
     * {@code silu(norm(x))} written into the interior of a causal-padded buffer for a kernel-{@code k} convolution,
     * borders filled: the convolution's input without a separate unpadded copy.
     */
    Tensor siluPadded(Tensor x, int kernel) {
        Tensor padded = CausalPad.allocate(Tensors.shape(x), kernel, x.options());
        forwardInto(x, true, CausalPad.interior(padded, kernel));
        CausalPad.fillBorders(padded, kernel);
        return padded;
    }

    /** Writes {@code silu?(norm(x))} into {@code dst} (x's shape, possibly a strided view) in dst's dtype. */
    void forwardInto(Tensor x, boolean silu, Tensor dst) {
        if (x.size(1) != channels) {
            throw new IllegalArgumentException("GroupNorm over " + channels + " channels got " + x.size(1));
        }
        try (PointerScope ignored = new PointerScope()) {
            long batch = x.size(0);
            long[] affineShape = new long[(int) x.dim()];
            java.util.Arrays.fill(affineShape, 1);
            affineShape[0] = batch;
            affineShape[1] = channels;
            Tensor rows = x.reshape(batch, groups, -1);
            ScalarTypeOptional f32 = new ScalarTypeOptional(ScalarType.Float);
            Tensor mean = rows.mean(new long[]{-1}, false, f32);
            Tensor meanSquare = torch.linalg_vector_norm(rows, new Scalar(2.0), new long[]{-1}, false, f32)
                    .square().div_(new Scalar((double) rows.size(2)));
            // E[x²] − E[x]², clamped: float32 cancellation may leave a tiny negative for a near-constant group.
            Tensor rstd = meanSquare.sub_(mean.square()).clamp_min_(new Scalar(0.0)).add_(new Scalar(EPS)).rsqrt_();
            long perGroup = channels / groups;
            Tensor scale = perChannel(rstd, perGroup).mul_(weight.unsqueeze(0)); // [B, C]
            Tensor shift = bias.unsqueeze(0).sub(perChannel(mean, perGroup).mul_(scale));
            torch.addcmul_out(dst, shift.view(affineShape), x, scale.view(affineShape));
            if (silu) {
                torch.silu_(dst);
            }
        }
    }

    /** [B, G] → [B, G·perGroup], each group's value repeated for its channels. */
    private Tensor perChannel(Tensor perGroupValues, long perGroup) {
        long batch = perGroupValues.size(0);
        return perGroupValues.unsqueeze(2).expand(batch, groups, perGroup).reshape(batch, channels);
    }
}
