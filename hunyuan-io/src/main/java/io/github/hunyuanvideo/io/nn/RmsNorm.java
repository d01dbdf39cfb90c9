package io.github.hunyuanvideo.io.nn;

import io.github.hunyuanvideo.io.Weights;
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

    /** Binds {@code name} (the weight tensor's full key) from {@code w}. */
    public static RmsNorm load(Weights w, String name, Device device, ScalarType dtype, double eps) {
        return new RmsNorm(w.get(name, device, dtype), eps);
    }

    public Tensor forward(Tensor x) {
        Tensor xf = x.to(ScalarType.Float);
        Tensor normed = xf.mul(torch.rsqrt(xf.pow(new org.bytedeco.pytorch.Scalar(2.0))
                .mean(new long[]{-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional())
                .add(new org.bytedeco.pytorch.Scalar(eps))));
        return normed.to(x.scalar_type()).mul(weight);
    }

    public Tensor weight() {
        return weight;
    }

    @Override
    public void close() {
        weight.releaseReference();
    }
}
