package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.List;
import io.github.hunyuanvideo.nn.Scopes;

/**
 * {@code txt_in} ({@code SingleTokenRefiner}): projects the LLM states to the hidden width and refines them with
 * {@link TokenRefinerBlock}s conditioned on the timestep and the masked mean of the text states.
 */
final class SingleTokenRefiner implements AutoCloseable {
    private final Linear inputEmbedder;
    private final TimestepEmbedder tEmbedder;
    private final MlpEmbedder cEmbedder;
    private final List<TokenRefinerBlock> blocks;

    private SingleTokenRefiner(Linear inputEmbedder, TimestepEmbedder tEmbedder, MlpEmbedder cEmbedder,
                               List<TokenRefinerBlock> blocks) {
        this.inputEmbedder = inputEmbedder;
        this.tEmbedder = tEmbedder;
        this.cEmbedder = cEmbedder;
        this.blocks = blocks;
    }

    /** Binds {@code txt_in.*}. */
    static SingleTokenRefiner load(Parameters p, DitConfig cfg) {
        long c = cfg.hiddenSize();
        Linear input = p.linear("txt_in.input_embedder", c, cfg.textStatesDim(), true);
        TimestepEmbedder t = TimestepEmbedder.load(p, "txt_in.t_embedder", c);
        MlpEmbedder ce = MlpEmbedder.load(p, "txt_in.c_embedder.linear_1", "txt_in.c_embedder.linear_2",
                cfg.textStatesDim(), c);
        List<TokenRefinerBlock> blocks = new ArrayList<>();
        for (int i = 0; i < cfg.refinerDepth(); i++) {
            blocks.add(TokenRefinerBlock.load(p, "txt_in.individual_token_refiner.blocks." + i, cfg));
        }
        return new SingleTokenRefiner(input, t, ce, blocks);
    }

    /**
     * @param textStates {@code [B, L, text_states_dim]}
     * @param t          timesteps {@code [B]} (the DiT's t, not the guidance)
     * @param mask       {@code [B, L]} 1 = valid (right padded), on the model device
     * @param padded     whether any mask entry is 0 (else attention runs unmasked)
     * @param probe      receives the intermediates, or {@code null}
     * @return refined text tokens {@code [B, L, hidden]}
     */
    Tensor forward(Tensor textStates, Tensor t, Tensor mask, boolean padded, DitProbe probe) {
        Tensor tEmb = tEmbedder.forward(t);
        // Masked mean in float32 (the original multiplies by the float mask).
        Tensor maskF = mask.to(ScalarType.Float).unsqueeze(-1);
        Tensor pooled = textStates.to(ScalarType.Float).mul(maskF).sum(new long[]{1}, false,
                new org.bytedeco.pytorch.ScalarTypeOptional()).div(maskF.sum(new long[]{1}, false,
                new org.bytedeco.pytorch.ScalarTypeOptional()));
        Tensor cEmb = cEmbedder.forward(pooled);
        Tensor siluC = torch.silu(tEmb.add(cEmb));
        Tensor x = inputEmbedder.forward(textStates);
        DitProbe.emit(probe, "txt_in.t_embedder", tEmb);
        DitProbe.emit(probe, "txt_in.c_embedder", cEmb);
        DitProbe.emit(probe, "txt_in.input_embedder", x);
        Tensor attnMask = padded ? selfAttentionMask(mask) : null;
        for (int i = 0; i < blocks.size(); i++) {
            blocks.get(i).forward(x, siluC, attnMask);
            DitProbe.emit(probe, "txt_in.refiner_block." + i, x);
        }
        return x;
    }

    /** {@code A[b,0,i,j] = m_i ∧ m_j}, with column 0 forced true so that padded rows are never empty. */
    private static Tensor selfAttentionMask(Tensor mask) {
        long b = mask.size(0);
        long len = mask.size(1);
        Tensor m = mask.to(ScalarType.Bool).view(b, 1, 1, len).expand(b, 1, len, len);
        Tensor a = m.logical_and(m.transpose(2, 3));
        a.select(3, 0).fill_(new Scalar(1));
        return a;
    }

    @Override
    public void close() {
        Scopes.closeAll(inputEmbedder, tEmbedder, cEmbedder);
        blocks.forEach(TokenRefinerBlock::close);
    }
}
