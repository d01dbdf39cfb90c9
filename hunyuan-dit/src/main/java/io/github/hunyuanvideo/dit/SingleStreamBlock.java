package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.StageTimer;
import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.RmsNorm;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import io.github.hunyuanvideo.nn.Scopes;

import java.util.List;

/**
 * {@code MMSingleStreamBlock}: one parallel attention + MLP block over the joined {@code [image; text]} sequence.
 * {@code linear1} is held as its q, k, v and MLP row blocks, so each comes out of its own GEMM contiguous (the MLP one
 * with the GELU in its epilogue on CUDA, see {@link Linear#forwardGeluTanh}); {@code linear2} is held as its attention
 * and MLP column blocks, so {@code linear2(cat(attn, GELU(mlp)))} becomes two accumulating GEMMs and the concatenated
 * activation is never built. Splitting {@code linear1} by rows is exact: each output column depends only on its own
 * weight row. q and k come out in the halves layout of {@link HalvesLayout}.
 */
final class SingleStreamBlock implements AutoCloseable {
    private final Linear linear1Q;
    private final Linear linear1K;
    private final Linear linear1V;
    private final Linear linear1Mlp;
    private final Linear linear2Attn;
    private final Linear linear2Mlp;
    private final RmsNorm qNorm;
    private final RmsNorm kNorm;
    private final Modulation modulation;
    private final int heads;

    private SingleStreamBlock(Linear[] linear1, Linear linear2Attn, Linear linear2Mlp, RmsNorm qNorm, RmsNorm kNorm,
                              Modulation modulation, int heads) {
        this.linear1Q = linear1[0];
        this.linear1K = linear1[1];
        this.linear1V = linear1[2];
        this.linear1Mlp = linear1[3];
        this.linear2Attn = linear2Attn;
        this.linear2Mlp = linear2Mlp;
        this.qNorm = qNorm;
        this.kNorm = kNorm;
        this.modulation = modulation;
        this.heads = heads;
    }

    /** Binds {@code prefix.*} ({@code prefix} = {@code single_blocks.N}). */
    static SingleStreamBlock load(Parameters p, String prefix, DitConfig cfg) {
        long c = cfg.hiddenSize();
        long m = cfg.mlpHidden();
        Linear[] linear1 = HalvesLayout.projections(p, prefix + ".linear1", c, true, cfg.headDim(), c, c, c, m);
        Tensor w2 = p.tensor(prefix + ".linear2.weight", new long[]{c, c + m},
                w -> HalvesLayout.movingBytes(w, all -> columnBlocks(all, c)));
        Tensor scale2 = p.scale(prefix + ".linear2.weight");
        Tensor b2 = p.tensor(prefix + ".linear2.bias", c);
        Linear attn = new Linear(w2.narrow(0, 0, c * c).view(c, c), b2, scale2);
        Linear mlp = new Linear(w2.narrow(0, c * c, c * m).view(c, m), null, scale2);
        RmsNorm qn = HalvesLayout.qkNorm(p, prefix + ".q_norm.weight", cfg.headDim(), cfg.qkNorm());
        RmsNorm kn = HalvesLayout.qkNorm(p, prefix + ".k_norm.weight", cfg.headDim(), cfg.qkNorm());
        Modulation mod = Modulation.load(p, prefix + ".modulation.linear", c, 3);
        return new SingleStreamBlock(linear1, attn, mlp, qn, kn, mod, cfg.headsNum());
    }

    /**
     * {@code w [out, first + rest]} as its column blocks {@code [out, first]} and {@code [out, rest]}, each row-major,
     * one after the other in one flat tensor: both Linears of {@code linear2} are views of it, so the weight is held
     * once.
     */
    private static Tensor columnBlocks(Tensor w, long first) {
        long out = w.size(0);
        long rest = w.size(1) - first;
        Tensor flat = torch.empty(new long[]{out * (first + rest)}, w.options(), new MemoryFormatOptional());
        flat.narrow(0, 0, out * first).view(out, first).copy_(w.narrow(1, 0, first));
        flat.narrow(0, out * first, out * rest).view(out, rest).copy_(w.narrow(1, first, rest));
        return flat;
    }

    /**
     * Updates {@code x} in place.
     *
     * @param x       {@code [B, Li + Lt, hidden]}, image tokens first
     * @param siluVec {@code SiLU(vec)} {@code [B, hidden]}
     * @param rope    RoPE tables of the {@code Li + Lt} tokens (identity rows for the text tokens)
     * @param attention the joint attention of these tokens (this rank's image shard and the text)
     */
    void forward(Tensor x, Tensor siluVec, FusedRope rope, ShardedAttention attention) {
        try (PointerScope scope = new PointerScope()) {
            Tensor[] mod = modulation.forward(siluVec);
            StageTimer.lap("single: modulation vectors");
            Tensor normed = Modulation.normModulate(x, mod[0], mod[1]);
            StageTimer.lap("single: LN + modulate");
            Tensor mlp = Scopes.scoped(() -> linear1Mlp.forwardGeluTanh(normed));
            StageTimer.lap("single: linear1 MLP GEMM + GELU");
            Tensor attn = Scopes.scoped(() -> {
                Tensor q = Scopes.scoped(() -> queryKey(linear1Q, normed, qNorm, rope));
                Tensor k = Scopes.scoped(() -> queryKey(linear1K, normed, kNorm, rope));
                Tensor v = heads(linear1V.forward(normed));
                StageTimer.lap("single: linear1 q/k/v GEMMs");
                normed.close();
                Tensor out = attention.attend(q, k, v);
                StageTimer.lap("single: attention");
                return out;
            });
            Modulation.addGated(x, attn, linear2Attn, mod[2]);
            StageTimer.lap("single: linear2 attention part (gated residual GEMM)");
            Modulation.addGated(x, mlp, linear2Mlp, mod[2]);
            StageTimer.lap("single: linear2 MLP part (gated residual GEMM)");
        }
    }

    /** q or k: projection, QK RMSNorm and RoPE. */
    private Tensor queryKey(Linear proj, Tensor normed, RmsNorm norm, FusedRope rope) {
        Tensor raw = heads(proj.forward(normed));
        StageTimer.lap("single: linear1 q/k/v GEMMs");
        Tensor out = norm == null ? rope.apply(raw) : rope.rmsNormApply(raw, norm);
        StageTimer.lap("single: q/k RMSNorm + RoPE");
        return out;
    }

    /** {@code [B, L, hidden]} as {@code [B, L, H, D]}. */
    private Tensor heads(Tensor t) {
        return t.view(t.size(0), t.size(1), heads, t.size(2) / heads);
    }

    /** Every Linear of the block ({@code linear1}'s and {@code linear2}'s are blocks of one weight each). */
    List<Linear> linears() {
        return List.of(linear1Q, linear1K, linear1V, linear1Mlp, linear2Attn, linear2Mlp, modulation.linear());
    }

    @Override
    public void close() {
        Scopes.closeAll(linear1Q, linear1K, linear1V, linear1Mlp, linear2Attn, linear2Mlp, qNorm, kNorm, modulation);
    }
}
