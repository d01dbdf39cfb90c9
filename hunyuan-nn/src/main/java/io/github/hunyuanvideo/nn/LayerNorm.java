package io.github.hunyuanvideo.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** LayerNorm with weight and bias over the last dimension, in the activations' dtype (CLIP runs in pure fp16). */
public final class LayerNorm implements AutoCloseable {
    private final Tensor weight;
    private final Tensor bias;
    private final double eps;

    /** Takes (and retains) {@code weight} and {@code bias} {@code [dim]}. */
    public LayerNorm(Tensor weight, Tensor bias, double eps) {
        this.weight = weight.retainReference();
        this.bias = bias.retainReference();
        this.eps = eps;
    }


    /** Normalises {@code x} over its last dimension. */
    public Tensor forward(Tensor x) {
        return torch.layer_norm(x, new long[]{weight.size(0)}, new TensorOptional(weight), new TensorOptional(bias),
                eps, false);
    }

    @Override
    public void close() {
        weight.releaseReference();
        bias.releaseReference();
    }
}
