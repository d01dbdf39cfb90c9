package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.LayerNorm;
import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import io.github.hunyuanvideo.nn.Scopes;

/**
 * {@code IndividualTokenRefinerBlock}: gated self-attention and a SiLU MLP over the text tokens, with affine
 * LayerNorms and only gates (no shift/scale) from the conditioning vector.
 */
final class TokenRefinerBlock implements AutoCloseable {
    private final LayerNorm norm1;
    private final Linear qkv;
    private final Linear proj;
    private final LayerNorm norm2;
    private final Linear fc1;
    private final Linear fc2;
    private final Modulation adaLn;
    private final int heads;

    private TokenRefinerBlock(LayerNorm norm1, Linear qkv, Linear proj, LayerNorm norm2, Linear fc1, Linear fc2,
                              Modulation adaLn, int heads) {
        this.norm1 = norm1;
        this.qkv = qkv;
        this.proj = proj;
        this.norm2 = norm2;
        this.fc1 = fc1;
        this.fc2 = fc2;
        this.adaLn = adaLn;
        this.heads = heads;
    }

    /** Binds {@code prefix.*} (the official names under {@code txt_in.individual_token_refiner.blocks.N}). */
    static TokenRefinerBlock load(Parameters p, String prefix, DitConfig cfg) {
        long c = cfg.hiddenSize();
        long m = cfg.mlpHidden();
        // Parameters are requested in the official state-dict order.
        LayerNorm norm1 = p.layerNorm(prefix + ".norm1", c, Modulation.LN_EPS);
        Linear qkv = p.linear(prefix + ".self_attn_qkv", 3 * c, c, cfg.qkvBias());
        Linear proj = p.linear(prefix + ".self_attn_proj", c, c, cfg.qkvBias());
        LayerNorm norm2 = p.layerNorm(prefix + ".norm2", c, Modulation.LN_EPS);
        Linear fc1 = p.linear(prefix + ".mlp.fc1", m, c, true);
        Linear fc2 = p.linear(prefix + ".mlp.fc2", c, m, true);
        Modulation ada = Modulation.load(p, prefix + ".adaLN_modulation.1", c, 2);
        return new TokenRefinerBlock(norm1, qkv, proj, norm2, fc1, fc2, ada, cfg.headsNum());
    }

    /**
     * Updates {@code x} in place.
     *
     * @param x     text tokens {@code [B, L, hidden]}
     * @param siluC {@code SiLU(t_emb + c_emb)} {@code [B, hidden]}
     * @param mask  boolean {@code [B, 1, L, L]} (true = may attend), or {@code null} when no token is padded
     */
    void forward(Tensor x, Tensor siluC, Tensor mask) {
        try (PointerScope scope = new PointerScope()) {
            Tensor[] gates = adaLn.forward(siluC);
            long b = x.size(0);
            long len = x.size(1);
            long c = x.size(2);
            Tensor attn = Scopes.scoped(() -> {
                Tensor h = norm1.forward(x);
                Tensor qkvOut = qkv.forward(h).view(b, len, 3, heads, c / heads);
                Tensor q = qkvOut.select(2, 0).transpose(1, 2);
                Tensor k = qkvOut.select(2, 1).transpose(1, 2);
                Tensor v = qkvOut.select(2, 2).transpose(1, 2);
                TensorOptional m = mask == null ? new TensorOptional() : new TensorOptional(mask);
                return torch.scaled_dot_product_attention(q, k, v, m, 0.0, false, new DoubleOptional(), false)
                        .transpose(1, 2).reshape(b, len, c);
            });
            Modulation.addGated(x, attn, proj, gates[0]);
            Tensor hidden = Scopes.scoped(() -> {
                Tensor h = fc1.forward(norm2.forward(x));
                torch.silu_(h);
                return h;
            });
            Modulation.addGated(x, hidden, fc2, gates[1]);
        }
    }

    @Override
    public void close() {
        Scopes.closeAll(norm1, qkv, proj, norm2, fc1, fc2, adaLn);
    }
}
