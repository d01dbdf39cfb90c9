package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * {@code TimestepEmbedder} ({@code time_in}, {@code guidance_in}, {@code txt_in.t_embedder}): a 256-wide sinusoidal
 * embedding of the float timestep (cos half first, max period 10000, float32), cast to the compute dtype, then
 * Linear, SiLU, Linear.
 */
final class TimestepEmbedder implements AutoCloseable {
    static final int FREQUENCY_DIM = 256;
    private static final double MAX_PERIOD = 10000;

    private final MlpEmbedder mlp;

    private TimestepEmbedder(MlpEmbedder mlp) {
        this.mlp = mlp;
    }

    /** Binds {@code prefix.mlp.0} and {@code prefix.mlp.2}. */
    static TimestepEmbedder load(Parameters p, String prefix, long hidden) {
        return new TimestepEmbedder(MlpEmbedder.load(p, prefix + ".mlp.0", prefix + ".mlp.2", FREQUENCY_DIM,
                hidden));
    }

    /** The sinusoidal embedding {@code [B, 256]} (float32) of {@code t} {@code [B]}, on t's device. */
    static Tensor sinusoid(Tensor t) {
        int half = FREQUENCY_DIM / 2;
        // freq_j = exp(−ln(max_period)·j / half), built on the CPU in float32 like the original.
        Tensor freqs = torch.exp(torch.arange(new Scalar(half), new TensorOptions(ScalarType.Float))
                .mul(new Scalar(-Math.log(MAX_PERIOD))).div(new Scalar(half))).to(t.device(), ScalarType.Float);
        Tensor args = t.to(ScalarType.Float).unsqueeze(1).mul(freqs.unsqueeze(0));
        return torch.cat(new TensorArrayRef(new TensorVector(torch.cos(args), torch.sin(args))), -1);
    }

    /** {@code t} {@code [B]} (float timesteps, never rounded) → {@code [B, hidden]}. */
    Tensor forward(Tensor t) {
        return mlp.forward(sinusoid(t));
    }

    @Override
    public void close() {
        mlp.close();
    }
}
