package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import io.github.hunyuanvideo.nn.Scopes;

/**
 * Linear, SiLU, Linear: {@code vector_in} ({@code in_layer}/{@code out_layer}), the refiner's {@code c_embedder}
 * ({@code linear_1}/{@code linear_2}) and the MLP of every timestep embedder ({@code mlp.0}/{@code mlp.2}).
 */
final class MlpEmbedder implements AutoCloseable {
    private final Linear in;
    private final Linear out;

    private MlpEmbedder(Linear in, Linear out) {
        this.in = in;
        this.out = out;
    }

    /** Binds {@code first} ({@code [hidden, inDim]}) and {@code second} ({@code [hidden, hidden]}). */
    static MlpEmbedder load(Parameters p, String first, String second, long inDim, long hidden) {
        return new MlpEmbedder(p.linear(first, hidden, inDim, true), p.linear(second, hidden, hidden, true));
    }

    /** {@code [B, inDim]} (any float dtype) → {@code [B, hidden]} in the compute dtype. */
    Tensor forward(Tensor x) {
        return out.forward(torch.silu(in.forward(x)));
    }

    @Override
    public void close() {
        Scopes.closeAll(in, out);
    }
}
