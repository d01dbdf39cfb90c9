package io.github.hunyuanvideo.core.dit;

import io.github.hunyuanvideo.core.rope.Rope3d;
import io.github.hunyuanvideo.io.nn.Linear;
import io.github.hunyuanvideo.io.nn.RmsNorm;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import io.github.hunyuanvideo.io.nn.Scopes;

/**
 * {@code MMDoubleStreamBlock} (spec §6.6): image and text streams with their own weights and modulation, joined only
 * in one attention over {@code [image; text]}. q and k are computed in the halves layout of {@link Rope3d#applyHalves}
 * (their weights are reordered at load time).
 */
final class DoubleStreamBlock implements AutoCloseable {
    /** The weights of one stream ({@code img_*} or {@code txt_*}). */
    private record Stream(Modulation mod, Linear qkv, RmsNorm qNorm, RmsNorm kNorm, Linear proj, Linear fc1,
                          Linear fc2) implements AutoCloseable {
        static Stream load(ParamSource p, String prefix, DitConfig cfg) {
            long c = cfg.hiddenSize();
            long m = cfg.mlpHidden();
            return new Stream(Modulation.load(p, prefix + "_mod.linear", c, 6),
                    p.qkvLinear(prefix + "_attn_qkv", c, cfg.qkvBias(), cfg.headDim()),
                    p.qkNorm(prefix + "_attn_q_norm.weight", cfg.headDim(), cfg.qkNorm()),
                    p.qkNorm(prefix + "_attn_k_norm.weight", cfg.headDim(), cfg.qkNorm()),
                    p.linear(prefix + "_attn_proj", c, c, cfg.qkvBias()),
                    p.linear(prefix + "_mlp.fc1", m, c, true),
                    p.linear(prefix + "_mlp.fc2", c, m, true));
        }

        @Override
        public void close() {
            Scopes.closeAll(mod, qkv, qNorm, kNorm, proj, fc1, fc2);
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
    static DoubleStreamBlock load(ParamSource p, String prefix, DitConfig cfg) {
        return new DoubleStreamBlock(Stream.load(p, prefix + ".img", cfg), Stream.load(p, prefix + ".txt", cfg),
                cfg.headsNum());
    }

    /**
     * Updates both streams in place.
     *
     * @param image   {@code [B, Li, hidden]}
     * @param text    {@code [B, Lt, hidden]}
     * @param siluVec {@code SiLU(vec)} {@code [B, hidden]}
     * @param rope    complex RoPE table {@code [Li + Lt, D/2]} (identity rows for the text tokens)
     * @param valid   per-sample first attention segment length (see {@link JointAttention})
     */
    void forward(Tensor image, Tensor text, Tensor siluVec, Tensor rope, long[] valid) {
        try (PointerScope scope = new PointerScope()) {
            Tensor[] im = img.mod.forward(siluVec);
            Tensor[] tm = txt.mod.forward(siluVec);
            long li = image.size(1);
            long lt = text.size(1);
            Tensor attn = attention(image, text, im, tm, rope, valid);
            try (PointerScope views = new PointerScope()) {
                Modulation.addGated(image, attn.narrow(1, 0, li), img.proj, im[2]);
                Modulation.addGated(text, attn.narrow(1, li, lt), txt.proj, tm[2]);
            }
            attn.close();
            mlp(image, img, im);
            mlp(text, txt, tm);
        }
    }

    /** The joint attention output {@code [B, Li + Lt, hidden]}; q/k/v temporaries are freed on return. */
    private Tensor attention(Tensor image, Tensor text, Tensor[] im, Tensor[] tm, Tensor rope, long[] valid) {
        return Scopes.scoped(() -> {
            Tensor qkvI = Scopes.scoped(() -> img.qkv.forward(Modulation.normModulate(image, im[0], im[1])));
            Tensor qkvT = Scopes.scoped(() -> txt.qkv.forward(Modulation.normModulate(text, tm[0], tm[1])));
            // RoPE writes the joined q/k directly (the text rows of the table are the identity).
            Tensor q = Scopes.scoped(() -> Rope3d.applyHalves(norm(head(qkvI, 0), img.qNorm),
                    norm(head(qkvT, 0), txt.qNorm), rope));
            Tensor k = Scopes.scoped(() -> Rope3d.applyHalves(norm(head(qkvI, 1), img.kNorm),
                    norm(head(qkvT, 1), txt.kNorm), rope));
            Tensor v = cat(head(qkvI, 2), head(qkvT, 2));
            return JointAttention.attend(q, k, v, valid);
        });
    }

    /** Part {@code i} (0 = q, 1 = k, 2 = v) of a fused qkv output, as {@code [B, L, H, D]}. */
    private Tensor head(Tensor qkv, int i) {
        long c = qkv.size(2) / 3;
        return qkv.view(qkv.size(0), qkv.size(1), 3, heads, c / heads).select(2, i);
    }

    private static Tensor norm(Tensor x, RmsNorm n) {
        return n == null ? x : n.forwardFused(x);
    }

    private static Tensor cat(Tensor a, Tensor b) {
        return torch.cat(new TensorArrayRef(new TensorVector(a, b)), 1);
    }

    /** {@code x += g2 · fc2(GELU_tanh(fc1(modulate(LN(x), sh2, sc2))))}. */
    private static void mlp(Tensor x, Stream s, Tensor[] mod) {
        try (PointerScope scope = new PointerScope()) {
            Tensor hidden = Scopes.scoped(() -> s.fc1.forwardGeluTanh(Modulation.normModulate(x, mod[3], mod[4])));
            Modulation.addGated(x, hidden, s.fc2, mod[5]);
        }
    }

    @Override
    public void close() {
        Scopes.closeAll(img, txt);
    }
}
