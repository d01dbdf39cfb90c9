package io.github.hunyuanvideo.nn;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * RMSNorm over the last dimension as both the official DiT and Llama compute it: normalise in float32, cast back to
 * the input dtype, then multiply by the learnable weight.
 */
public final class RmsNorm implements AutoCloseable {
    private final Tensor weight;
    private final double eps;

    public RmsNorm(Tensor weight, double eps) {
        this.weight = weight;
        this.eps = eps;
        weight.retainReference();
    }


    public Tensor forward(Tensor x) {
        Tensor xf = x.to(ScalarType.Float);
        Tensor normed = xf.mul(torch.rsqrt(xf.pow(new org.bytedeco.pytorch.Scalar(2.0))
                .mean(new long[]{-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional())
                .add(new org.bytedeco.pytorch.Scalar(eps))));
        return normed.to(x.scalar_type()).mul(weight);
    }

    /**
     * The same normalisation through libtorch's {@code rms_norm}, a single fused kernel on CUDA (float32 inside) instead
     * of {@link #forward}'s seven passes with float32 temporaries. The weight is applied before the one rounding to
     * x's dtype, so in half precision the result may differ from {@link #forward} by one rounding step; in float32
     * they agree to rounding.
     */
    public Tensor forwardFused(Tensor x) {
        return torch.rms_norm(x, new long[]{weight.size(0)}, new org.bytedeco.pytorch.TensorOptional(weight),
                new org.bytedeco.pytorch.DoubleOptional(eps));
    }

    public Tensor weight() {
        return weight;
    }

    /** The epsilon added to the mean square. */
    public double eps() {
        return eps;
    }

    @Override
    public void close() {
        weight.releaseReference();
    }
}
