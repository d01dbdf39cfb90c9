package io.github.hunyuanvideo.text;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** LayerNorm with weight and bias over the last dimension, in the activations' dtype (CLIP runs in pure fp16). */
final class LayerNorm implements AutoCloseable {
    private final Tensor weight;
    private final Tensor bias;
    private final double eps;

    LayerNorm(Tensor weight, Tensor bias, double eps) {
        this.weight = weight.retainReference();
        this.bias = bias.retainReference();
        this.eps = eps;
    }

    /** Binds {@code prefix.weight} and {@code prefix.bias} of width {@code dim}. */
    static LayerNorm load(TensorLoader l, String prefix, long dim, double eps) {
        return new LayerNorm(l.load(prefix + ".weight", dim), l.load(prefix + ".bias", dim), eps);
    }

    Tensor forward(Tensor x) {
        return torch.layer_norm(x, new long[]{weight.size(0)}, new TensorOptional(weight), new TensorOptional(bias),
                eps, false);
    }

    @Override
    public void close() {
        weight.releaseReference();
        bias.releaseReference();
    }
}
