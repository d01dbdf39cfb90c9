package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import io.github.hunyuanvideo.nn.Scopes;

/**
 * Llama self-attention: q/k/v projections, RoPE on q and k, grouped-query attention (each k/v head serves
 * {@code heads / kvHeads} query heads), scaled dot-product attention under the given boolean mask, output
 * projection.
 */
final class LlamaAttention implements AutoCloseable {
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear o;
    private final int heads;
    private final int kvHeads;
    private final int headDim;

    private LlamaAttention(Linear q, Linear k, Linear v, Linear o, LlamaConfig c) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.o = o;
        this.heads = c.numHeads();
        this.kvHeads = c.numKvHeads();
        this.headDim = c.headDim();
    }

    /** Binds {@code prefix.q_proj}, {@code .k_proj}, {@code .v_proj} and {@code .o_proj}. */
    static LlamaAttention load(Parameters p, String prefix, LlamaConfig c) {
        long h = c.hiddenSize();
        long qd = (long) c.numHeads() * c.headDim();
        long kvd = (long) c.numKvHeads() * c.headDim();
        boolean b = c.attentionBias();
        return new LlamaAttention(p.linear(prefix + ".q_proj", qd, h, b), p.linear(prefix + ".k_proj", kvd, h, b),
                p.linear(prefix + ".v_proj", kvd, h, b), p.linear(prefix + ".o_proj", h, qd, b), c);
    }

    /**
     * @param x    {@code [B, L, hidden]}
     * @param cos  RoPE table {@code [1, 1, L, headDim]}
     * @param sin  RoPE table {@code [1, 1, L, headDim]}
     * @param mask boolean {@code [B, 1, L, L]}, true where a query may attend a key
     */
    Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask) {
        long b = x.size(0);
        long len = x.size(1);
        Tensor qs = LlamaRotaryEmbedding.apply(q.forward(x).view(b, len, heads, headDim).transpose(1, 2), cos, sin);
        Tensor ks = LlamaRotaryEmbedding.apply(k.forward(x).view(b, len, kvHeads, headDim).transpose(1, 2), cos, sin);
        Tensor vs = v.forward(x).view(b, len, kvHeads, headDim).transpose(1, 2);
        // transformers repeats k/v for SDPA when a mask is given (same math as enable_gqa, wider kernel choice)
        Tensor attn = torch.scaled_dot_product_attention(qs, repeatKv(ks, b, len), repeatKv(vs, b, len),
                new TensorOptional(mask), 0.0, false, new DoubleOptional(), false);
        return o.forward(attn.transpose(1, 2).reshape(b, len, (long) heads * headDim));
    }

    private Tensor repeatKv(Tensor t, long b, long len) {
        int rep = heads / kvHeads;
        if (rep == 1) {
            return t;
        }
        return t.unsqueeze(2).expand(b, kvHeads, rep, len, headDim).reshape(b, heads, len, headDim);
    }

    @Override
    public void close() {
        Scopes.closeAll(q, k, v, o);
    }
}
