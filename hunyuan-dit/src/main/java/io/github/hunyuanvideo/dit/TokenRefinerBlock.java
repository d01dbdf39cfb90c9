package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Linear;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import io.github.hunyuanvideo.nn.Scopes;

/**
 * {@code IndividualTokenRefinerBlock} (spec §6.5): gated self-attention and a SiLU MLP over the text tokens, with
 * affine LayerNorms and only gates (no shift/scale) from the conditioning vector.
 */
final class TokenRefinerBlock implements AutoCloseable {
    private final Tensor norm1Weight;
    private final Tensor norm1Bias;
    private final Linear qkv;
    private final Linear proj;
    private final Tensor norm2Weight;
    private final Tensor norm2Bias;
    private final Linear fc1;
    private final Linear fc2;
    private final Modulation adaLn;
    private final int heads;

    private TokenRefinerBlock(Tensor norm1Weight, Tensor norm1Bias, Linear qkv, Linear proj, Tensor norm2Weight,
                              Tensor norm2Bias, Linear fc1, Linear fc2, Modulation adaLn, int heads) {
        this.norm1Weight = norm1Weight;
        this.norm1Bias = norm1Bias;
        this.qkv = qkv;
        this.proj = proj;
        this.norm2Weight = norm2Weight;
        this.norm2Bias = norm2Bias;
        this.fc1 = fc1;
        this.fc2 = fc2;
        this.adaLn = adaLn;
        this.heads = heads;
        for (Tensor t : new Tensor[]{norm1Weight, norm1Bias, norm2Weight, norm2Bias}) {
            t.retainReference();
        }
    }

    /** Binds {@code prefix.*} (the official names under {@code txt_in.individual_token_refiner.blocks.N}). */
    static TokenRefinerBlock load(ParamSource p, String prefix, DitConfig cfg) {
        long c = cfg.hiddenSize();
        long m = cfg.mlpHidden();
        // Parameters are requested in the official state-dict order.
        Tensor n1w = p.get(prefix + ".norm1.weight", c);
        Tensor n1b = p.get(prefix + ".norm1.bias", c);
        Linear qkv = p.linear(prefix + ".self_attn_qkv", 3 * c, c, cfg.qkvBias());
        Linear proj = p.linear(prefix + ".self_attn_proj", c, c, cfg.qkvBias());
        Tensor n2w = p.get(prefix + ".norm2.weight", c);
        Tensor n2b = p.get(prefix + ".norm2.bias", c);
        Linear fc1 = p.linear(prefix + ".mlp.fc1", m, c, true);
        Linear fc2 = p.linear(prefix + ".mlp.fc2", c, m, true);
        Modulation ada = Modulation.load(p, prefix + ".adaLN_modulation.1", c, 2);
        return new TokenRefinerBlock(n1w, n1b, qkv, proj, n2w, n2b, fc1, fc2, ada, cfg.headsNum());
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
                Tensor h = torch.layer_norm(x, new long[]{c}, new TensorOptional(norm1Weight),
                        new TensorOptional(norm1Bias), Modulation.LN_EPS, false);
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
                Tensor h = fc1.forward(torch.layer_norm(x, new long[]{c}, new TensorOptional(norm2Weight),
                        new TensorOptional(norm2Bias), Modulation.LN_EPS, false));
                torch.silu_(h);
                return h;
            });
            Modulation.addGated(x, hidden, fc2, gates[1]);
        }
    }

    @Override
    public void close() {
        Scopes.closeAll(qkv, proj, fc1, fc2, adaLn);
        for (Tensor t : new Tensor[]{norm1Weight, norm1Bias, norm2Weight, norm2Bias}) {
            t.releaseReference();
        }
    }
}
