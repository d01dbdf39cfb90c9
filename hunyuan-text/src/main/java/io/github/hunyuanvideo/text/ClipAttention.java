package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import io.github.hunyuanvideo.nn.Scopes;

/** CLIP's multi-head self-attention (q/k/v/out projections with biases) under a boolean mask. */
final class ClipAttention implements AutoCloseable {
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear out;
    private final int heads;

    private ClipAttention(Linear q, Linear k, Linear v, Linear out, int heads) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.out = out;
        this.heads = heads;
    }

    /** Binds {@code prefix.q_proj}, {@code .k_proj}, {@code .v_proj} and {@code .out_proj}. */
    static ClipAttention load(Parameters p, String prefix, ClipTextConfig c) {
        long h = c.hiddenSize();
        return new ClipAttention(p.linear(prefix + ".q_proj", h, h, true), p.linear(prefix + ".k_proj", h, h, true),
                p.linear(prefix + ".v_proj", h, h, true), p.linear(prefix + ".out_proj", h, h, true), c.numHeads());
    }

    /** {@code x [B, L, hidden]}, {@code mask [B, 1, L, L]} bool (true = may attend). */
    Tensor forward(Tensor x, Tensor mask) {
        long b = x.size(0);
        long len = x.size(1);
        long width = x.size(2);
        long headDim = width / heads;
        Tensor attn = torch.scaled_dot_product_attention(split(q.forward(x), b, len, headDim),
                split(k.forward(x), b, len, headDim), split(v.forward(x), b, len, headDim),
                new TensorOptional(mask), 0.0, false, new DoubleOptional(), false);
        return out.forward(attn.transpose(1, 2).reshape(b, len, width));
    }

    private Tensor split(Tensor t, long b, long len, long headDim) {
        return t.view(b, len, heads, headDim).transpose(1, 2);
    }

    @Override
    public void close() {
        Scopes.closeAll(q, k, v, out);
    }
}
