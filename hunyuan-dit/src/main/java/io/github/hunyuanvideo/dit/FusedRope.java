package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.RmsNorm;
import io.github.hunyuanvideo.nn.TorchScript;
import org.bytedeco.pytorch.Function;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import io.github.hunyuanvideo.nn.Scopes;

/**
 * RoPE over q or k in the halves layout (each head's rotation pairs {@code (2i, 2i+1)} stored as
 * {@code [x_0, x_2, …, x_{D−2} | x_1, x_3, …, x_{D−1}]}, see {@code docs/dit.md}), optionally preceded by the QK
 * RMSNorm, written as TorchScript expressions. On CUDA libtorch's tensor-expression fuser compiles each into one
 * kernel after its first calls (RMSNorm's row norm stays a separate reduction): one read and one write of the
 * activation instead of the ≈ 10 passes of {@code rms_norm} followed by an op-by-op rotation, and one rounding into
 * x's dtype at the end. Elsewhere the same expressions run op by op. The arithmetic is the official one in float32:
 * {@code x·r·w} with {@code r = 1/√(mean(x²) + eps)}, then {@code y_a = a·cos − b·sin}, {@code y_b = b·cos + a·sin}.
 *
 * <p>Holds the tables of one token sequence ({@code cos}, {@code sin} of every token) until {@link #close}.
 */
public final class FusedRope implements AutoCloseable {
    /*
     * The halves are split off x before widening to float32 (QkPrepBench at 720p on an H100: 3.09 ms per call against
     * 3.86 ms when the float32 product is split; inside the DiT both forms take ≈ 4.0 ms).
     */
    private static final String RMS_NORM_ROPE = """
            def rms_norm_rope(x: Tensor, weight: Tensor, cos: Tensor, sin: Tensor, eps: float) -> Tensor:
                norm = torch.linalg_vector_norm(x, 2.0, [-1], True, dtype=6)
                r = torch.rsqrt(norm * norm / x.size(-1) + eps)
                wa, wb = weight.chunk(2, -1)
                xa, xb = x.chunk(2, -1)
                a = xa.float() * r * wa
                b = xb.float() * r * wb
                return torch.cat([a * cos - b * sin, b * cos + a * sin], -1).to(x.dtype)
            """;
    private static final String ROPE = """
            def rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
                xa, xb = x.chunk(2, -1)
                a = xa.float()
                b = xb.float()
                return torch.cat([a * cos - b * sin, b * cos + a * sin], -1).to(x.dtype)
            """;

    /** Compiled once per JVM; TorchScript functions may be called concurrently. */
    private static final class Script {
        static final Function RMS_NORM_ROPE = TorchScript.compile(FusedRope.RMS_NORM_ROPE, "rms_norm_rope");
        static final Function ROPE = TorchScript.compile(FusedRope.ROPE, "rope");
    }

    private final Tensor cos;
    private final Tensor sin;

    private FusedRope(Tensor cos, Tensor sin) {
        this.cos = cos;
        this.sin = sin;
    }

    /**
     * Tables for a sequence of S tokens.
     *
     * @param cos float32 {@code [S, D/2]}: {@code cos} of each token's rotation angles (1 for unrotated tokens)
     * @param sin float32 {@code [S, D/2]}, same device
     */
    public static FusedRope of(Tensor cos, Tensor sin) {
        if (cos.dim() != 2 || !Arrays.equals(Tensors.shape(cos), Tensors.shape(sin))
                || cos.scalar_type().intern() != ScalarType.Float || sin.scalar_type().intern() != ScalarType.Float) {
            throw new IllegalArgumentException("cos and sin must both be float32 [S, D/2], got "
                    + Arrays.toString(Tensors.shape(cos)) + " " + cos.scalar_type().intern() + " and "
                    + Arrays.toString(Tensors.shape(sin)) + " " + sin.scalar_type().intern());
        }
        // [S, 1, D/2]: broadcast over the heads of [B, S, H, D/2].
        Tensor c = Scopes.retained(cos.contiguous().view(cos.size(0), 1, cos.size(1)));
        Tensor s = Scopes.retained(sin.contiguous().view(sin.size(0), 1, sin.size(1)));
        return new FusedRope(c, s);
    }

    /**
     * The rotation of x.
     *
     * @param x {@code [B, S, H, D]} in the halves layout, any floating dtype
     * @return a new contiguous tensor of x's shape and dtype
     */
    public Tensor apply(Tensor x) {
        check(x);
        return Scopes.scoped(() -> TorchScript.call(Script.ROPE, new IValue(x), new IValue(cos), new IValue(sin)));
    }

    /**
     * {@code apply(norm.forward(x))} with a single rounding: the RMSNorm (its weight in the halves layout, as the DiT
     * reorders it at load time) and the rotation in float32.
     *
     * @param x {@code [B, S, H, D]} in the halves layout
     */
    public Tensor rmsNormApply(Tensor x, RmsNorm norm) {
        check(x);
        if (norm.weight().dim() != 1 || norm.weight().size(0) != x.size(3)) {
            throw new IllegalArgumentException("norm weight " + Arrays.toString(Tensors.shape(norm.weight()))
                    + " does not match the head dim " + x.size(3));
        }
        return Scopes.scoped(() -> TorchScript.call(Script.RMS_NORM_ROPE, new IValue(x),
                new IValue(norm.weight().to(ScalarType.Float)), new IValue(cos), new IValue(sin),
                new IValue(norm.eps())));
    }

    private void check(Tensor x) {
        if (x.dim() != 4 || x.size(1) != cos.size(0) || x.size(3) != 2 * cos.size(2)) {
            throw new IllegalArgumentException("x must be [B, " + cos.size(0) + ", H, " + 2 * cos.size(2)
                    + "], got " + Arrays.toString(Tensors.shape(x)));
        }
    }

    @Override
    public void close() {
        Scopes.release(cos);
        Scopes.release(sin);
    }
}
