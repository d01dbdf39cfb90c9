package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Cancellation;
import io.github.hunyuanvideo.nn.CancelledException;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.RmsNorm;
import io.github.hunyuanvideo.nn.Scopes;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The Llama decoder stack ({@code LlamaModel} without lm_head), holding only the first {@code n} decoder layers it
 * needs and, optionally, the final RMSNorm. Parameter names are those of {@code LlamaModel}'s state dict
 * ({@code embed_tokens.weight}, {@code layers.N.*}, {@code norm.weight}).
 */
final class LlamaModel implements AutoCloseable {
    private final LlamaConfig config;
    private final Tensor embedTokens;
    private final List<LlamaDecoderLayer> layers;
    private final RmsNorm norm;
    private final LlamaRotaryEmbedding rope;

    /** Takes the layers and the norm, and retains the embedding table. */
    private LlamaModel(LlamaConfig config, Tensor embedTokens, List<LlamaDecoderLayer> layers, RmsNorm norm) {
        this.config = config;
        this.embedTokens = embedTokens.retainReference();
        this.layers = layers;
        this.norm = norm;
        this.rope = new LlamaRotaryEmbedding(config);
    }

    /**
     * Binds the embedding, decoder layers {@code 0..numLayers-1} and, if {@code withNorm}, the final norm; the model
     * retains what it keeps, so {@code p} may be closed afterwards.
     *
     * @throws IllegalArgumentException if {@code numLayers} is outside {@code 0..config.numLayers()}
     */
    static LlamaModel load(LlamaConfig config, Parameters p, int numLayers, boolean withNorm) {
        if (numLayers < 0 || numLayers > config.numLayers()) {
            throw new IllegalArgumentException("numLayers must be in 0.." + config.numLayers() + ", got " + numLayers);
        }
        Tensor embed = p.tensor("embed_tokens.weight", config.vocabSize(), config.hiddenSize());
        List<LlamaDecoderLayer> loaded = new ArrayList<>(numLayers);
        try {
            for (int i = 0; i < numLayers; i++) {
                loaded.add(LlamaDecoderLayer.load(p, "layers." + i, config));
            }
            RmsNorm norm = withNorm ? p.rmsNorm("norm.weight", config.hiddenSize(), config.rmsNormEps()) : null;
            return new LlamaModel(config, embed, loaded, norm);
        } catch (RuntimeException e) {
            loaded.forEach(LlamaDecoderLayer::close);
            throw e;
        }
    }

    /**
     * The residual stream after the first {@code n} decoder layers (raw, no final norm), {@code [B, L, hidden]}.
     * Each layer runs in its own pointer scope. If {@code collect} is given, the embedding output and each layer's
     * output are added to it (each with a reference owned by the caller).
     *
     * @param ids       {@code [B, L]} int64 on the model's device
     * @param mask      {@code [B, L]} 1 = real token, right padded, on the model's device
     * @param cancelled asked before the first layer and after each one
     * @throws CancelledException naming the layers done once {@code cancelled} returns true (what was already added
     *                            to {@code collect} stays the caller's)
     */
    Tensor forward(Tensor ids, Tensor mask, int n, List<Tensor> collect, BooleanSupplier cancelled) {
        if (n > layers.size()) {
            throw new IllegalArgumentException("asked for " + n + " layers, " + layers.size() + " are loaded");
        }
        long len = ids.size(1);
        Tensor[] cosSin = new Tensor[2];
        Tensor attnMask;
        Tensor h;
        try (PointerScope scope = new PointerScope()) {
            ScalarType dtype = embedTokens.scalar_type();
            Tensor[] cs = rope.cosSin(len, ids.device(), dtype);
            cosSin[0] = cs[0].retainReference();
            cosSin[1] = cs[1].retainReference();
            attnMask = TextInputs.causalPaddingMask(mask).retainReference();
            h = torch.embedding(embedTokens, ids).retainReference();
        }
        try {
            if (collect != null) {
                collect.add(h.retainReference());
            }
            for (int i = 0; i < n; i++) {
                Cancellation.check(cancelled, "LLM layers", i, n);
                LlamaDecoderLayer layer = layers.get(i);
                Tensor in = h;
                h = null;
                try {
                    h = Scopes.retainedResult(() -> layer.forward(in, cosSin[0], cosSin[1], attnMask));
                } finally {
                    in.releaseReference();
                }
                if (collect != null) {
                    collect.add(h.retainReference());
                }
            }
            Cancellation.check(cancelled, "LLM layers", n, n);
            return h;
        } catch (RuntimeException e) {
            Scopes.release(h);
            throw e;
        } finally {
            cosSin[0].releaseReference();
            cosSin[1].releaseReference();
            attnMask.releaseReference();
        }
    }

    /** The final RMSNorm. */
    Tensor norm(Tensor h) {
        if (norm == null) {
            throw new IllegalStateException("the final norm was not loaded");
        }
        return norm.forward(h);
    }

    /**
     * transformers' {@code output_hidden_states}: the embedding output, the outputs of layers 1..N-1, then the
     * final-normed output of layer N ({@code N + 1} tensors, each owned by the caller). Needs every layer and the
     * norm loaded.
     */
    List<Tensor> hiddenStates(Tensor ids, Tensor mask) {
        if (layers.size() != config.numLayers() || norm == null) {
            throw new IllegalStateException("hidden states need all " + config.numLayers()
                    + " layers and the final norm loaded");
        }
        List<Tensor> out = new ArrayList<>();
        Tensor last = forward(ids, mask, layers.size(), out, Cancellation.NEVER);
        last.releaseReference();
        Tensor raw = out.remove(out.size() - 1);
        out.add(Scopes.retainedResult(() -> norm.forward(raw)));
        raw.releaseReference();
        return out;
    }

    @Override
    public void close() {
        layers.forEach(LlamaDecoderLayer::close);
        Scopes.closeAll(norm, rope);
        embedTokens.releaseReference();
    }
}
