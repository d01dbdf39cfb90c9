package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Cancellation;
import io.github.hunyuanvideo.nn.CancelledException;
import io.github.hunyuanvideo.nn.LayerNorm;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Scopes;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * CLIP's text transformer ({@code CLIPTextTransformer}): token + position embeddings, pre-norm encoder layers under
 * a causal and padding mask, final LayerNorm, and the pooled token. Parameter names are those without the
 * {@code text_model.} prefix ({@code embeddings.*}, {@code encoder.layers.N.*}, {@code final_layer_norm.*}).
 */
final class ClipTextModel implements AutoCloseable {
    private final ClipTextConfig config;
    private final Tensor tokenEmbedding;
    private final Tensor positionEmbedding;
    private final List<ClipEncoderLayer> layers;
    private final LayerNorm finalNorm;

    /** Takes the layers and the norm, and retains the two embedding tables. */
    private ClipTextModel(ClipTextConfig config, Tensor tokenEmbedding, Tensor positionEmbedding,
                          List<ClipEncoderLayer> layers, LayerNorm finalNorm) {
        this.config = config;
        this.tokenEmbedding = tokenEmbedding.retainReference();
        this.positionEmbedding = positionEmbedding.retainReference();
        this.layers = layers;
        this.finalNorm = finalNorm;
    }

    /** Binds every parameter of the model; it retains what it keeps, so {@code p} may be closed afterwards. */
    static ClipTextModel load(ClipTextConfig c, Parameters p) {
        Tensor tok = p.tensor("embeddings.token_embedding.weight", c.vocabSize(), c.hiddenSize());
        Tensor pos = p.tensor("embeddings.position_embedding.weight", c.maxPositions(), c.hiddenSize());
        List<ClipEncoderLayer> loaded = new ArrayList<>(c.numLayers());
        try {
            for (int i = 0; i < c.numLayers(); i++) {
                loaded.add(ClipEncoderLayer.load(p, "encoder.layers." + i, c));
            }
            LayerNorm norm = p.layerNorm("final_layer_norm", c.hiddenSize(), c.layerNormEps());
            return new ClipTextModel(c, tok, pos, loaded, norm);
        } catch (RuntimeException e) {
            loaded.forEach(ClipEncoderLayer::close);
            throw e;
        }
    }

    /**
     * @param ids  {@code [B, L]} int64 on the model's device, {@code L ≤ maxPositions}
     * @param mask {@code [B, L]} right-padded 1/0 mask on the same device
     * @param cancelled asked before the first layer and after each one
     * @return the pooled output and the last hidden state, each with one reference owned by the caller
     * @throws CancelledException naming the layers done once {@code cancelled} returns true
     */
    ClipOutput forward(Tensor ids, Tensor mask, BooleanSupplier cancelled) {
        long len = ids.size(1);
        Tensor attnMask;
        Tensor h;
        try (PointerScope scope = new PointerScope()) {
            attnMask = TextInputs.causalPaddingMask(mask).retainReference();
            h = torch.embedding(tokenEmbedding, ids).add(positionEmbedding.narrow(0, 0, len)).retainReference();
        }
        try {
            for (int i = 0; i < layers.size(); i++) {
                // h is released by the finally below when the check throws
                Cancellation.check(cancelled, "CLIP layers", i, layers.size());
                ClipEncoderLayer layer = layers.get(i);
                Tensor in = h;
                h = null;
                try {
                    h = Scopes.retainedResult(() -> layer.forward(in, attnMask));
                } finally {
                    in.releaseReference();
                }
            }
            Cancellation.check(cancelled, "CLIP layers", layers.size(), layers.size());
            Tensor x = h;
            Tensor last = Scopes.retainedResult(() -> finalNorm.forward(x));
            try {
                Tensor pooled = Scopes.retainedResult(() -> {
                    Tensor idx = pooledPositions(ids).to(ids.device(), ScalarType.Long);
                    long b = last.size(0);
                    long width = last.size(2);
                    return last.gather(1, idx.view(b, 1, 1).expand(b, 1, width)).squeeze(1);
                });
                return new ClipOutput(pooled, last);
            } catch (RuntimeException e) {
                last.releaseReference();
                throw e;
            }
        } finally {
            if (h != null) {
                h.releaseReference();
            }
            attnMask.releaseReference();
        }
    }

    /**
     * The pooled position of each row: the first {@code eos_token_id}, or, for the legacy id 2, the first position
     * of the largest id (both pick CLIP's first {@code <|endoftext|>}).
     */
    Tensor pooledPositions(Tensor ids) {
        if (config.eosTokenId() == ClipTextConfig.LEGACY_EOS_TOKEN_ID) {
            return ids.to(ScalarType.Int).argmax(new org.bytedeco.pytorch.LongOptional(-1), false);
        }
        return ids.eq(new Scalar(config.eosTokenId())).to(ScalarType.Int)
                .argmax(new org.bytedeco.pytorch.LongOptional(-1), false);
    }

    @Override
    public void close() {
        layers.forEach(ClipEncoderLayer::close);
        finalNorm.close();
        tokenEmbedding.releaseReference();
        positionEmbedding.releaseReference();
    }
}
