package io.github.hunyuanvideo.core.dit;

import io.github.hunyuanvideo.core.rope.Rope3d;
import io.github.hunyuanvideo.io.nn.Linear;
import io.github.hunyuanvideo.io.nn.RmsNorm;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import io.github.hunyuanvideo.io.nn.Scopes;

/**
 * {@code MMSingleStreamBlock} (spec §6.7): one parallel attention + MLP block over the joined {@code [image; text]}
 * sequence. {@code linear1} is held as its q/k/v and MLP row blocks, so the MLP half is one GEMM with the GELU in its
 * epilogue on CUDA (see {@link Linear#forwardGeluTanh}) and comes out contiguous; {@code linear2} is held as its
 * attention and MLP column blocks, so {@code linear2(cat(attn, GELU(mlp)))} becomes two accumulating GEMMs and the
 * concatenated activation is never built. Splitting {@code linear1} by rows is exact: each output column depends only
 * on its own weight row. q and k come out in the halves layout of {@link Rope3d#applyHalves}.
 */
final class SingleStreamBlock implements AutoCloseable {
    private final Linear linear1Qkv;
    private final Linear linear1Mlp;
    private final Linear linear2Attn;
    private final Linear linear2Mlp;
    private final RmsNorm qNorm;
    private final RmsNorm kNorm;
    private final Modulation modulation;
    private final int heads;

    private SingleStreamBlock(Linear linear1Qkv, Linear linear1Mlp, Linear linear2Attn, Linear linear2Mlp,
                              RmsNorm qNorm, RmsNorm kNorm, Modulation modulation, int heads) {
        this.linear1Qkv = linear1Qkv;
        this.linear1Mlp = linear1Mlp;
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
        // q and k rows in the halves layout of Rope3d.applyHalves. Row blocks of one contiguous weight are views:
        // the split costs no memory.
        Tensor w1 = Rope3d.toHalves(p.get(prefix + ".linear1.weight", 3 * c + m, c), 2 * c, cfg.headDim());
        Tensor b1 = Rope3d.toHalves(p.get(prefix + ".linear1.bias", 3 * c + m), 2 * c, cfg.headDim());
        Linear qkv = new Linear(w1.narrow(0, 0, 3 * c), b1.narrow(0, 0, 3 * c));
        Linear mlpIn = new Linear(w1.narrow(0, 3 * c, m), b1.narrow(0, 3 * c, m));
        Tensor w2 = p.get(prefix + ".linear2.weight", c, c + m);
        Tensor b2 = p.get(prefix + ".linear2.bias", c);
        Linear attn = new Linear(w2.narrow(1, 0, c).contiguous(), b2);
        Linear mlp = new Linear(w2.narrow(1, c, m).contiguous(), null);
        RmsNorm qn = p.qkNorm(prefix + ".q_norm.weight", cfg.headDim(), cfg.qkNorm());
        RmsNorm kn = p.qkNorm(prefix + ".k_norm.weight", cfg.headDim(), cfg.qkNorm());
        Modulation mod = Modulation.load(p, prefix + ".modulation.linear", c, 3);
        return new SingleStreamBlock(qkv, mlpIn, attn, mlp, qn, kn, mod, cfg.headsNum());
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
            Tensor normed = Modulation.normModulate(x, mod[0], mod[1]);
            Tensor fused = Scopes.scoped(() -> linear1Qkv.forward(normed));
            Tensor mlp = Scopes.scoped(() -> linear1Mlp.forwardGeluTanh(normed));
            normed.close();
            Tensor attn = Scopes.scoped(() -> {
                // The text rows of the table are the identity: RoPE only moves the image tokens.
                Tensor q = Scopes.scoped(() -> Rope3d.applyHalves(norm(fused.narrow(2, 0, c).view(b, len, heads, d),
                        qNorm), rope));
                Tensor k = Scopes.scoped(() -> Rope3d.applyHalves(norm(fused.narrow(2, c, c).view(b, len, heads, d),
                        kNorm), rope));
                // A contiguous v gives all three operands the [B, L, H, D] layout that every SDPA kernel takes.
                Tensor v = fused.narrow(2, 2 * c, c).view(b, len, heads, d).contiguous();
                return JointAttention.attend(q, k, v, valid);
            });
            Modulation.addGated(x, attn, linear2Attn, mod[2]);
            Modulation.addGated(x, mlp, linear2Mlp, mod[2]);
        }
    }

    private static Tensor norm(Tensor x, RmsNorm n) {
        return n == null ? x : n.forwardFused(x);
    }

    @Override
    public void close() {
        Scopes.closeAll(linear1Qkv, linear1Mlp, linear2Attn, linear2Mlp, qNorm, kNorm, modulation);
    }
}
