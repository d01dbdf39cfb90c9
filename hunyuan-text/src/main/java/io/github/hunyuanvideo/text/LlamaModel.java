package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.nn.Cancellation;
import io.github.hunyuanvideo.nn.CancelledException;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.RmsNorm;
import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.StreamedWeights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The Llama decoder stack ({@code LlamaModel} without lm_head), holding only the first {@code n} decoder layers it
 * needs and, optionally, the final RMSNorm. Parameter names are those of {@code LlamaModel}'s state dict
 * ({@code embed_tokens.weight}, {@code layers.N.*}, {@code norm.weight}).
 *
 * <p>Under a {@link LayerStreaming} the last layers keep their weights in host memory and reach the device through
 * {@link StreamedWeights} slots around their forward, and the embedding table stays in host memory: same kernels on
 * the same values, so the results are bit-identical to the resident model's.
 */
final class LlamaModel implements AutoCloseable {
    static final String EMBEDDING = "embed_tokens.weight";
    static final String NORM = "norm.weight";
    private static final String LAYER_PREFIX = "layers.";

    private final LlamaConfig config;
    private final Tensor embedTokens;
    private final List<LlamaDecoderLayer> layers;
    private final RmsNorm norm;
    private final LlamaRotaryEmbedding rope;
    /** Host copies and device slots of the streamed layers, or {@code null} when every layer is resident. */
    private final StreamedWeights streamed;
    /** Index of the first streamed layer ({@code layers.size()} when none is). */
    private final int firstStreamed;

    /** Takes the layers, the norm and the streamed weights, and retains the embedding table. */
    private LlamaModel(LlamaConfig config, Tensor embedTokens, List<LlamaDecoderLayer> layers, RmsNorm norm,
                       StreamedWeights streamed, int firstStreamed) {
        this.config = config;
        this.embedTokens = embedTokens.retainReference();
        this.layers = layers;
        this.norm = norm;
        this.streamed = streamed;
        this.firstStreamed = firstStreamed;
        this.rope = new LlamaRotaryEmbedding(config);
    }

    /**
     * Binds the embedding, decoder layers {@code 0..numLayers-1} and, if {@code withNorm}, the final norm, all on the
     * device; the model retains what it keeps, so {@code p} may be closed afterwards.
     *
     * @throws IllegalArgumentException if {@code numLayers} is outside {@code 0..config.numLayers()}
     */
    static LlamaModel load(LlamaConfig config, Parameters p, int numLayers, boolean withNorm) {
        return load(config, p, numLayers, withNorm, LayerStreaming.none());
    }

    /**
     * {@link #load(LlamaConfig, Parameters, int, boolean)} with the layers {@code streaming} names bound into
     * streaming slots (their values copied to host memory) and, when any layer is streamed, the embedding table moved
     * to host memory. A source that already creates those tensors on the CPU ({@link #hostBound}) spares the device
     * that round trip.
     */
    static LlamaModel load(LlamaConfig config, Parameters p, int numLayers, boolean withNorm,
                           LayerStreaming streaming) {
        if (numLayers < 0 || numLayers > config.numLayers()) {
            throw new IllegalArgumentException("numLayers must be in 0.." + config.numLayers() + ", got " + numLayers);
        }
        int first = firstStreamed(numLayers, streaming);
        List<LlamaDecoderLayer> loaded = new ArrayList<>(numLayers);
        StreamedWeights streamed = null;
        try {
            if (first < numLayers) {
                long[] bytes = new long[numLayers - first];
                Arrays.fill(bytes, layerBytes(config, p.dtype()));
                streamed = new StreamedWeights(p.device(), bytes, streaming.prefetchDepth());
            }
            Supplier<Tensor> embedding = () -> p.tensor(EMBEDDING, config.vocabSize(), config.hiddenSize());
            Tensor embed = streamed == null ? embedding.get()
                    : p.placing((name, value) -> value.to(new Device("cpu"), value.scalar_type()), embedding);
            for (int i = 0; i < numLayers; i++) {
                String prefix = LAYER_PREFIX + i;
                loaded.add(i < first ? LlamaDecoderLayer.load(p, prefix, config)
                        : p.placing(streamed.placement(i - first), () -> LlamaDecoderLayer.load(p, prefix, config)));
            }
            RmsNorm norm = withNorm ? p.rmsNorm(NORM, config.hiddenSize(), config.rmsNormEps()) : null;
            return new LlamaModel(config, embed, loaded, norm, streamed, first);
        } catch (RuntimeException e) {
            loaded.forEach(LlamaDecoderLayer::close);
            if (streamed != null) {
                streamed.close();
            }
            throw e;
        }
    }

    /** Index of the first of {@code numLayers} layers that {@code streaming} streams ({@code numLayers}: none). */
    private static int firstStreamed(int numLayers, LayerStreaming streaming) {
        return numLayers - streaming.streamedOf(numLayers);
    }

    /**
     * The checkpoint names whose values a streamed model of {@code numLayers} layers keeps in host memory: the
     * embedding table and the streamed layers' tensors (none when nothing is streamed).
     */
    static Predicate<String> hostBound(int numLayers, LayerStreaming streaming) {
        int first = firstStreamed(numLayers, streaming);
        if (first == numLayers) {
            return name -> false;
        }
        return name -> name.equals(EMBEDDING) || layerIndex(name) >= first;
    }

    /** The N of a {@code layers.N.*} name, or -1 for any other name. */
    private static int layerIndex(String name) {
        if (!name.startsWith(LAYER_PREFIX)) {
            return -1;
        }
        int dot = name.indexOf('.', LAYER_PREFIX.length());
        return dot < 0 ? -1 : Integer.parseInt(name.substring(LAYER_PREFIX.length(), dot));
    }

    /** The slot bytes of one decoder layer in {@code dtype}, measured on the meta device (all layers are alike). */
    static long layerBytes(LlamaConfig config, ScalarType dtype) {
        return StreamedWeights.layerBytes(dtype, q -> LlamaDecoderLayer.load(q, LAYER_PREFIX + 0, config).close());
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
            // A host table (streaming) looks the rows up on the host, a gather as exact as on the device, and sends
            // only them over; for a device table both moves are no-ops.
            h = torch.embedding(embedTokens, ids.to(embedTokens.device(), ScalarType.Long))
                    .to(ids.device(), dtype).retainReference();
        }
        try {
            if (collect != null) {
                collect.add(h.retainReference());
            }
            for (int i = 0; i < n; i++) {
                Cancellation.check(cancelled, "LLM layers", i, n);
                int index = i;
                Tensor in = h;
                h = null;
                try {
                    h = Scopes.retainedResult(() -> withLayer(index,
                            () -> layers.get(index).forward(in, cosSin[0], cosSin[1], attnMask)));
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

    /** Runs layer {@code index}'s forward with its weights on the device (a streamed layer's copy awaited). */
    private Tensor withLayer(int index, Supplier<Tensor> forward) {
        if (streamed == null || index < firstStreamed) {
            return forward.get();
        }
        return streamed.with(index - firstStreamed, forward);
    }

    /** Device bytes of the streaming slots (0 when every layer is resident). */
    long streamingSlotBytes() {
        return streamed == null ? 0 : streamed.deviceBytes();
    }

    /** Bytes of streamed layer weights copied to the device since loading (0 when every layer is resident). */
    long streamedBytesCopied() {
        return streamed == null ? 0 : streamed.bytesCopied();
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
        // after the layers: their views no longer hold the slots
        Scopes.closeAll(streamed, norm, rope);
        embedTokens.releaseReference();
    }
}
