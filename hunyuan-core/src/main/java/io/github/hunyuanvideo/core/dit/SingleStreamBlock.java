package io.github.hunyuanvideo.core.dit;

import io.github.hunyuanvideo.core.rope.Rope3d;
import io.github.hunyuanvideo.io.nn.Linear;
import io.github.hunyuanvideo.io.nn.RmsNorm;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import io.github.hunyuanvideo.io.nn.Scopes;

/**
 * {@code MMSingleStreamBlock} (spec §6.7): one parallel attention + MLP block over the joined {@code [image; text]}
 * sequence. {@code linear2} is held as its attention and MLP column blocks, so
 * {@code linear2(cat(attn, GELU(mlp)))} becomes two accumulating GEMMs and the concatenated activation is never built.
 */
final class SingleStreamBlock implements AutoCloseable {
    private final Linear linear1;
    private final Linear linear2Attn;
    private final Linear linear2Mlp;
    private final RmsNorm qNorm;
    private final RmsNorm kNorm;
    private final Modulation modulation;
    private final int heads;

    private SingleStreamBlock(Linear linear1, Linear linear2Attn, Linear linear2Mlp, RmsNorm qNorm, RmsNorm kNorm,
                              Modulation modulation, int heads) {
        this.linear1 = linear1;
        this.linear2Attn = linear2Attn;
        this.linear2Mlp = linear2Mlp;
        this.qNorm = qNorm;
        this.kNorm = kNorm;
        this.modulation = modulation;
        this.heads = heads;
    }

    /** Binds {@code prefix.*} ({@code prefix} = {@code single_blocks.N}). */
    static SingleStreamBlock load(ParamSource p, String prefix, DitConfig cfg) {
        long c = cfg.hiddenSize();
        long m = cfg.mlpHidden();
        Linear l1 = p.linear(prefix + ".linear1", 3 * c + m, c, true);
        Tensor w2 = p.get(prefix + ".linear2.weight", c, c + m);
        Tensor b2 = p.get(prefix + ".linear2.bias", c);
        Linear attn = new Linear(w2.narrow(1, 0, c).contiguous(), b2);
        Linear mlp = new Linear(w2.narrow(1, c, m).contiguous(), null);
        RmsNorm qn = p.qkNorm(prefix + ".q_norm.weight", cfg.headDim(), cfg.qkNorm());
        RmsNorm kn = p.qkNorm(prefix + ".k_norm.weight", cfg.headDim(), cfg.qkNorm());
        Modulation mod = Modulation.load(p, prefix + ".modulation.linear", c, 3);
        return new SingleStreamBlock(l1, attn, mlp, qn, kn, mod, cfg.headsNum());
    }

    /**
     * Updates {@code x} in place.
     *
     * @param x       {@code [B, Li + Lt, hidden]}, image tokens first
     * @param siluVec {@code SiLU(vec)} {@code [B, hidden]}
     * @param rope    complex RoPE table {@code [Li + Lt, D/2]} (identity rows for the text tokens)
     * @param valid   per-sample first attention segment length (see {@link JointAttention})
     */
    void forward(Tensor x, Tensor siluVec, Tensor rope, long[] valid) {
        try (PointerScope scope = new PointerScope()) {
            Tensor[] mod = modulation.forward(siluVec);
            long b = x.size(0);
            long len = x.size(1);
            long c = x.size(2);
            long d = c / heads;
            Tensor fused = Scopes.scoped(() -> linear1.forward(Modulation.normModulate(x, mod[0], mod[1])));
            Tensor attn = Scopes.scoped(() -> {
                // The text rows of the table are the identity: RoPE only moves the image tokens.
                Tensor q = Scopes.scoped(() -> Rope3d.applyTable(norm(fused.narrow(2, 0, c).view(b, len, heads, d),
                        qNorm), rope));
                Tensor k = Scopes.scoped(() -> Rope3d.applyTable(norm(fused.narrow(2, c, c).view(b, len, heads, d),
                        kNorm), rope));
                // A contiguous v gives all three operands the [B, L, H, D] layout that every SDPA kernel takes.
                Tensor v = fused.narrow(2, 2 * c, c).view(b, len, heads, d).contiguous();
                return JointAttention.attend(q, k, v, valid);
            });
            Tensor mlp = fused.narrow(2, 3 * c, fused.size(2) - 3 * c);
            torch.gelu_(mlp, "tanh");
            Modulation.addGated(x, attn, linear2Attn, mod[2]);
            Modulation.addGated(x, mlp, linear2Mlp, mod[2]);
        }
    }

    private static Tensor norm(Tensor x, RmsNorm n) {
        return n == null ? x : n.forwardFused(x);
    }

    @Override
    public void close() {
        Scopes.closeAll(linear1, linear2Attn, linear2Mlp, qNorm, kNorm, modulation);
    }
}
