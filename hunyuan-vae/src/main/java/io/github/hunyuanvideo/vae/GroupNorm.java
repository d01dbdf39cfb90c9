package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.io.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * {@code nn.GroupNorm(groups, channels, eps=1e-6)}, optionally fused with the SiLU that follows it, computed in float32
 * as CUDA autocast does for half-precision inputs. The result is stored in the input's dtype, which is where the
 * official code's next convolution or linear would cast it. Half inputs are normalised a few groups at a time so that
 * the float32 temporaries stay small.
 */
final class GroupNorm {
    static final double EPS = 1e-6;
    /** Budget for the float32 temporaries of one chunk of groups. */
    private static final long CHUNK_BYTES = 256L << 20;

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

    /** Binds {@code name.weight} and {@code name.bias} {@code [channels]}. */
    static GroupNorm load(Params p, String name, int channels, int groups) {
        return new GroupNorm(p.floatTensor(name + ".weight", Params.Role.NORM_WEIGHT, channels),
                p.floatTensor(name + ".bias", Params.Role.NORM_BIAS, channels), groups, channels);
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
        forwardInto(x, silu, dst, CHUNK_BYTES);
    }

    /** As {@link #forwardInto(Tensor, boolean, Tensor)} with a float32 temporary budget of {@code chunkBytes}. */
    void forwardInto(Tensor x, boolean silu, Tensor dst, long chunkBytes) {
        if (x.size(1) != channels) {
            throw new IllegalArgumentException("GroupNorm over " + channels + " channels got " + x.size(1));
        }
        int perGroup = channels / groups;
        long groupBytes = 8L * x.numel() / groups; // float32 input copy plus float32 output
        int chunk = (int) Math.max(1, Math.min(groups, chunkBytes / Math.max(1, groupBytes)));
        for (int g0 = 0; g0 < groups; g0 += chunk) {
            int g = Math.min(chunk, groups - g0);
            long c0 = (long) g0 * perGroup;
            long c = (long) g * perGroup;
            try (PointerScope ignored = new PointerScope()) {
                Tensor xs = x.narrow(1, c0, c);
                if (xs.scalar_type().intern() != ScalarType.Float) {
                    xs = xs.to(ScalarType.Float);
                }
                Tensor y = torch.group_norm(xs, g, new TensorOptional(weight.narrow(0, c0, c)),
                        new TensorOptional(bias.narrow(0, c0, c)), EPS, false);
                if (silu) {
                    torch.silu_(y);
                }
                dst.narrow(1, c0, c).copy_(y);
            }
        }
    }
}
