package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.StageTimer;
import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.RmsNorm;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import io.github.hunyuanvideo.nn.Scopes;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code MMDoubleStreamBlock}: image and text streams with their own weights and modulation, joined only in one
 * attention over {@code [image; text]}. q and k are computed in the halves layout of {@link HalvesLayout} (their
 * weights are reordered at load time).
 */
final class DoubleStreamBlock implements AutoCloseable {
    /** The weights of one stream ({@code img_*} or {@code txt_*}). */
    private record Stream(Modulation mod, Linear q, Linear k, Linear v, RmsNorm qNorm, RmsNorm kNorm, Linear proj,
                          Linear fc1, Linear fc2) implements AutoCloseable {
        static Stream load(Parameters p, String prefix, DitConfig cfg) {
            long c = cfg.hiddenSize();
            long m = cfg.mlpHidden();
            // Bound in the official key order.
            Modulation mod = Modulation.load(p, prefix + "_mod.linear", c, 6);
            Linear[] qkv = HalvesLayout.projections(p, prefix + "_attn_qkv", c, cfg.qkvBias(), cfg.headDim(), c, c, c);
            return new Stream(mod, qkv[0], qkv[1], qkv[2],
                    HalvesLayout.qkNorm(p, prefix + "_attn_q_norm.weight", cfg.headDim(), cfg.qkNorm()),
                    HalvesLayout.qkNorm(p, prefix + "_attn_k_norm.weight", cfg.headDim(), cfg.qkNorm()),
                    p.linear(prefix + "_attn_proj", c, c, cfg.qkvBias()),
                    p.linear(prefix + "_mlp.fc1", m, c, true),
                    p.linear(prefix + "_mlp.fc2", c, m, true));
        }

        @Override
        public void close() {
            Scopes.closeAll(mod, q, k, v, qNorm, kNorm, proj, fc1, fc2);
        }
    }

    private final Stream img;
    private final Stream txt;
    private final int heads;

    private DoubleStreamBlock(Stream img, Stream txt, int heads) {
        this.img = img;
        this.txt = txt;
        this.heads = heads;
    }

    /** Binds {@code prefix.img_*} and {@code prefix.txt_*} ({@code prefix} = {@code double_blocks.N}). */
    static DoubleStreamBlock load(Parameters p, String prefix, DitConfig cfg) {
        return new DoubleStreamBlock(Stream.load(p, prefix + ".img", cfg), Stream.load(p, prefix + ".txt", cfg),
                cfg.headsNum());
    }

    /**
     * Updates both streams in place.
     *
     * @param image   {@code [B, Li, hidden]}
     * @param text    {@code [B, Lt, hidden]}
     * @param siluVec {@code SiLU(vec)} {@code [B, hidden]}
     * @param rope    RoPE tables of the {@code Li + Lt} tokens, identity rows for the text tokens (which lets the
     *                text rows of q and k take their own stream's RMSNorm after the joined rotation)
     * @param attention the joint attention of these tokens (this rank's image shard and the text)
     */
    void forward(Tensor image, Tensor text, Tensor siluVec, FusedRope rope, ShardedAttention attention) {
        try (PointerScope scope = new PointerScope()) {
            Tensor[] im = img.mod.forward(siluVec);
            Tensor[] tm = txt.mod.forward(siluVec);
            StageTimer.lap("double: modulation vectors");
            long li = image.size(1);
            long lt = text.size(1);
            Tensor attn = attention(image, text, im, tm, rope, attention);
            try (PointerScope views = new PointerScope()) {
                Modulation.addGated(image, attn.narrow(1, 0, li), img.proj, im[2]);
                StageTimer.lap("double: attention proj (gated residual GEMM)");
                Modulation.addGated(text, attn.narrow(1, li, lt), txt.proj, tm[2]);
                StageTimer.lap("double: text attention proj");
            }
            attn.close();
            mlp(image, img, im);
            mlp(text, txt, tm);
        }
    }

    /** The joint attention output {@code [B, Li + Lt, hidden]}; q/k/v temporaries are freed on return. */
    private Tensor attention(Tensor image, Tensor text, Tensor[] im, Tensor[] tm, FusedRope rope,
                             ShardedAttention attention) {
        return Scopes.scoped(() -> {
            Tensor normedI = attentionInput(image, im);
            Tensor normedT = attentionInput(text, tm);
            StageTimer.lap("double: LN + modulate (attention)");
            Tensor q = Scopes.scoped(() -> queryKey(img.q, txt.q, normedI, normedT, img.qNorm, txt.qNorm, rope));
            Tensor k = Scopes.scoped(() -> queryKey(img.k, txt.k, normedI, normedT, img.kNorm, txt.kNorm, rope));
            Tensor v = joined(img.v, normedI, txt.v, normedT);
            StageTimer.lap("double: q/k/v GEMMs");
            normedI.close();
            normedT.close();
            Tensor out = attention.attend(q, k, v);
            StageTimer.lap("double: attention");
            return out;
        });
    }

    /**
     * The image stream's attention input {@code modulate(img_norm1(image), shift1, scale1)} with this block's
     * {@code img_mod}: what TeaCache compares between steps (at double block 0). Belongs to the caller's scope.
     */
    Tensor modulatedImage(Tensor image, Tensor siluVec) {
        return Scopes.scoped(() -> attentionInput(image, img.mod.forward(siluVec)));
    }

    /** {@code modulate(LN(x), shift1, scale1)} of one stream, from its six modulation vectors. */
    private static Tensor attentionInput(Tensor x, Tensor[] mod) {
        return Modulation.normModulate(x, mod[0], mod[1]);
    }

    /**
     * The joined q (or k) of both streams: projections written straight into one tensor, RMSNorm and RoPE in one
     * pass with the image stream's norm, then the text rows (unrotated) normalised again with the text stream's.
     */
    private Tensor queryKey(Linear projI, Linear projT, Tensor normedI, Tensor normedT, RmsNorm normI, RmsNorm normT,
                            FusedRope rope) {
        Tensor raw = joined(projI, normedI, projT, normedT);
        StageTimer.lap("double: q/k/v GEMMs");
        Tensor out = normI == null ? rope.apply(raw) : rope.rmsNormApply(raw, normI);
        if (normI != null) {
            long li = normedI.size(1);
            long lt = normedT.size(1);
            try (PointerScope scope = new PointerScope()) {
                out.narrow(1, li, lt).copy_(normT.forwardFused(raw.narrow(1, li, lt)));
            }
        }
        StageTimer.lap("double: q/k RMSNorm + RoPE");
        return out;
    }

    /** {@code [image; text]} projections {@code [B, Li + Lt, H, D]}, each GEMM writing its own rows. */
    private Tensor joined(Linear projI, Tensor normedI, Linear projT, Tensor normedT) {
        long b = normedI.size(0);
        long li = normedI.size(1);
        long lt = normedT.size(1);
        long c = projI.outFeatures();
        Tensor out = torch.empty(new long[]{b, li + lt, c},
                new TensorOptions(projI.weight().device()).dtype(new ScalarTypeOptional(projI.dtype())),
                new MemoryFormatOptional());
        projI.forwardInto(out.narrow(1, 0, li), normedI);
        projT.forwardInto(out.narrow(1, li, lt), normedT);
        return out.view(b, li + lt, heads, c / heads);
    }

    /** {@code x += g2 · fc2(GELU_tanh(fc1(modulate(LN(x), sh2, sc2))))}. */
    private static void mlp(Tensor x, Stream s, Tensor[] mod) {
        try (PointerScope scope = new PointerScope()) {
            Tensor normed = Modulation.normModulate(x, mod[3], mod[4]);
            StageTimer.lap("double: LN + modulate (MLP)");
            Tensor hidden = Scopes.scoped(() -> s.fc1.forwardGeluTanh(normed));
            StageTimer.lap("double: fc1 GEMM + GELU");
            normed.close();
            Modulation.addGated(x, hidden, s.fc2, mod[5]);
            StageTimer.lap("double: fc2 (gated residual GEMM)");
        }
    }

    /** Every Linear of the block, image stream first (q, k and v are row blocks of one weight). */
    List<Linear> linears() {
        List<Linear> all = new ArrayList<>();
        for (Stream s : List.of(img, txt)) {
            all.addAll(List.of(s.mod.linear(), s.q, s.k, s.v, s.proj, s.fc1, s.fc2));
        }
        return all;
    }

    @Override
    public void close() {
        Scopes.closeAll(img, txt);
    }
}
