package io.github.hunyuanvideo.text;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import io.github.hunyuanvideo.nn.Scopes;

/**
 * Llama's rotary position embedding (half-split "rotate_half" form), with positions {@code 0..L-1} (right padding
 * never shifts them). Frequencies and angles are computed in float32 like transformers, then cast to the
 * activations' dtype.
 */
final class LlamaRotaryEmbedding implements AutoCloseable {
    private final Tensor invFreq;
    private final int headDim;

    LlamaRotaryEmbedding(LlamaConfig config) {
        this.headDim = config.headDim();
        this.invFreq = Scopes.retainedResult(() -> inverseFrequencies(config));
    }

    /** {@code 1 / θ^(2i/d)} in float32, then the Llama-3.1 scaling if configured. */
    static Tensor inverseFrequencies(LlamaConfig config) {
        int d = config.headDim();
        Tensor exponent = torch.arange(new Scalar(0), new Scalar(d), new Scalar(2)).to(ScalarType.Float)
                .div(new Scalar((float) d));
        Tensor inv = torch.pow(new Scalar(config.ropeTheta()), exponent).reciprocal();
        LlamaConfig.Llama3RopeScaling s = config.ropeScaling();
        if (s == null) {
            return inv;
        }
        double lowFreqWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
        double highFreqWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
        Tensor wavelen = inv.reciprocal().mul(new Scalar(2 * Math.PI));
        Tensor scaled = torch.where(wavelen.gt(new Scalar(lowFreqWavelen)), inv.div(new Scalar(s.factor())), inv);
        Tensor smooth = wavelen.reciprocal().mul(new Scalar((double) s.originalMaxPositionEmbeddings()))
                .sub(new Scalar(s.lowFreqFactor())).div(new Scalar(s.highFreqFactor() - s.lowFreqFactor()));
        Tensor smoothed = smooth.neg().add(new Scalar(1.0)).mul(scaled).div(new Scalar(s.factor()))
                .add(smooth.mul(scaled));
        Tensor medium = wavelen.lt(new Scalar(highFreqWavelen)).logical_not()
                .logical_and(wavelen.gt(new Scalar(lowFreqWavelen)).logical_not());
        return torch.where(medium, smoothed, scaled);
    }

    /** {@code cos} and {@code sin} tables {@code [1, 1, L, headDim]} in {@code dtype} on {@code device}. */
    Tensor[] cosSin(long length, Device device, ScalarType dtype) {
        Tensor pos = torch.arange(new Scalar(length)).to(device, ScalarType.Float);
        Tensor freqs = pos.unsqueeze(1).mul(invFreq.to(device, ScalarType.Float).unsqueeze(0));
        Tensor emb = torch.cat(new TensorArrayRef(new TensorVector(freqs, freqs)), -1)
                .view(1, 1, length, headDim);
        return new Tensor[]{emb.cos().to(dtype), emb.sin().to(dtype)};
    }

    /** {@code x·cos + rotate_half(x)·sin} for {@code x [B, heads, L, headDim]}. */
    static Tensor apply(Tensor x, Tensor cos, Tensor sin) {
        long half = x.size(-1) / 2;
        Tensor rotated = torch.cat(new TensorArrayRef(new TensorVector(x.narrow(-1, half, half).neg(),
                x.narrow(-1, 0, half))), -1);
        return x.mul(cos).add(rotated.mul(sin));
    }

    @Override
    public void close() {
        invFreq.releaseReference();
    }
}
