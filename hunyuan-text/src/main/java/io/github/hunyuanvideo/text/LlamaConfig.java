package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The Llama decoder's hyper-parameters, as read from a Hugging Face {@code config.json}.
 *
 * @param vocabSize        token embedding rows
 * @param hiddenSize       model width
 * @param numLayers        decoder layers
 * @param numHeads         query heads
 * @param numKvHeads       key/value heads (grouped-query attention when fewer than {@code numHeads})
 * @param headDim          width of one head
 * @param intermediateSize SwiGLU hidden width
 * @param rmsNormEps       RMSNorm epsilon
 * @param ropeTheta        RoPE base
 * @param ropeScaling      Llama-3.1 style frequency scaling, or {@code null} for plain RoPE
 * @param attentionBias    whether q/k/v/o projections have biases
 * @param mlpBias          whether the MLP projections have biases
 * @param maxPositionEmbeddings longest token sequence the model was made for ({@code max_position_embeddings});
 *                         RoPE computes any position, so the encoder does not enforce it: callers check their
 *                         sequence length against it
 */
public record LlamaConfig(int vocabSize, int hiddenSize, int numLayers, int numHeads, int numKvHeads, int headDim,
                          int intermediateSize, double rmsNormEps, double ropeTheta, Llama3RopeScaling ropeScaling,
                          boolean attentionBias, boolean mlpBias, int maxPositionEmbeddings) {
    /** transformers' {@code LlamaConfig} default of {@code max_position_embeddings}. */
    public static final int DEFAULT_MAX_POSITION_EMBEDDINGS = 2048;

    /**
     * The {@code llama3} RoPE scaling of Llama 3.1: low frequencies divided by {@code factor}, high ones kept, a
     * smooth blend in between.
     */
    public record Llama3RopeScaling(double factor, double lowFreqFactor, double highFreqFactor,
                                    int originalMaxPositionEmbeddings) {
        public Llama3RopeScaling {
            if (!(factor > 0) || !(highFreqFactor > lowFreqFactor) || !(lowFreqFactor > 0)
                    || originalMaxPositionEmbeddings < 1) {
                throw new IllegalArgumentException("invalid llama3 rope scaling: factor " + factor
                        + ", low_freq_factor " + lowFreqFactor + ", high_freq_factor " + highFreqFactor
                        + ", original_max_position_embeddings " + originalMaxPositionEmbeddings);
            }
        }
    }

    public LlamaConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("num_key_value_heads", numKvHeads);
        positive("head_dim", headDim);
        positive("intermediate_size", intermediateSize);
        positive("max_position_embeddings", maxPositionEmbeddings);
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads
                    + " is not a multiple of num_key_value_heads " + numKvHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be even for RoPE, got " + headDim);
        }
        if (!(rmsNormEps > 0) || !(ropeTheta > 0)) {
            throw new IllegalArgumentException("rms_norm_eps and rope_theta must be > 0, got " + rmsNormEps
                    + " and " + ropeTheta);
        }
    }

    /**
     * A config with transformers' default {@code max_position_embeddings} ({@link #DEFAULT_MAX_POSITION_EMBEDDINGS}),
     * for made-up models (tests, benchmarks) whose sequences stay short.
     */
    public LlamaConfig(int vocabSize, int hiddenSize, int numLayers, int numHeads, int numKvHeads, int headDim,
                       int intermediateSize, double rmsNormEps, double ropeTheta, Llama3RopeScaling ropeScaling,
                       boolean attentionBias, boolean mlpBias) {
        this(vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize, rmsNormEps, ropeTheta,
                ropeScaling, attentionBias, mlpBias, DEFAULT_MAX_POSITION_EMBEDDINGS);
    }

    private static void positive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + v);
        }
    }

    /** Llama-3-8B (the LLaVA-Llama-3-8B language tower HunyuanVideo uses), 8192 positions. */
    public static LlamaConfig llama3_8b() {
        return new LlamaConfig(128256, 4096, 32, 32, 8, 128, 14336, 1e-5, 500000.0, null, false, false, 8192);
    }

    /** Reads {@code config.json} (see {@link #fromJson}). */
    public static LlamaConfig read(Path configJson) {
        return Checkpoints.readConfig(configJson, LlamaConfig::fromJson);
    }

    /**
     * Parses a Hugging Face Llama config (transformers 4 or 5 layout; a LLaVA config's {@code text_config} is used
     * when present). Missing fields take transformers' {@code LlamaConfig} defaults.
     *
     * @throws IllegalArgumentException for another model type or activation, or an unsupported RoPE scaling
     */
    public static LlamaConfig fromJson(JsonNode n) {
        if (n.has("text_config")) {
            return fromJson(n.get("text_config"));
        }
        String type = n.path("model_type").asText("llama");
        if (!type.equals("llama")) {
            throw new IllegalArgumentException("model_type '" + type + "' is not supported (expected llama)");
        }
        String act = n.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new IllegalArgumentException("hidden_act '" + act + "' is not supported (expected silu)");
        }
        int hidden = n.path("hidden_size").asInt(4096);
        int heads = n.path("num_attention_heads").asInt(32);
        JsonNode ropeParams = n.path("rope_parameters");
        double theta = n.has("rope_theta") ? n.get("rope_theta").asDouble()
                : ropeParams.path("rope_theta").asDouble(10000.0);
        JsonNode scaling = n.hasNonNull("rope_scaling") ? n.get("rope_scaling") : ropeParams;
        return new LlamaConfig(
                n.path("vocab_size").asInt(32000),
                hidden,
                n.path("num_hidden_layers").asInt(32),
                heads,
                n.hasNonNull("num_key_value_heads") ? n.get("num_key_value_heads").asInt() : heads,
                n.hasNonNull("head_dim") ? n.get("head_dim").asInt() : hidden / heads,
                n.path("intermediate_size").asInt(11008),
                n.path("rms_norm_eps").asDouble(1e-6),
                theta,
                ropeScaling(scaling),
                n.path("attention_bias").asBoolean(false),
                n.path("mlp_bias").asBoolean(false),
                n.path("max_position_embeddings").asInt(DEFAULT_MAX_POSITION_EMBEDDINGS));
    }

    private static Llama3RopeScaling ropeScaling(JsonNode s) {
        if (s == null || s.isMissingNode() || s.isNull()) {
            return null;
        }
        String type = s.hasNonNull("rope_type") ? s.get("rope_type").asText() : s.path("type").asText("default");
        switch (type.toLowerCase(Locale.ROOT)) {
            case "default":
                return null;
            case "llama3":
                return new Llama3RopeScaling(s.path("factor").asDouble(Double.NaN),
                        s.path("low_freq_factor").asDouble(Double.NaN),
                        s.path("high_freq_factor").asDouble(Double.NaN),
                        s.path("original_max_position_embeddings").asInt(0));
            default:
                throw new IllegalArgumentException("rope scaling type '" + type
                        + "' is not supported (supported: default, llama3)");
        }
    }

    /** Parameters of the whole model (embedding, all layers, final norm; no lm_head). */
    public long parameterCount() {
        return embeddingParameters() + (long) numLayers * layerParameters() + hiddenSize;
    }

    private long embeddingParameters() {
        return (long) vocabSize * hiddenSize;
    }

    private long layerParameters() {
        long q = (long) numHeads * headDim;
        long kv = (long) numKvHeads * headDim;
        long attn = hiddenSize * (q + 2 * kv) + q * hiddenSize + (attentionBias ? q + 2 * kv + hiddenSize : 0);
        long mlp = 3L * hiddenSize * intermediateSize + (mlpBias ? 2L * intermediateSize + hiddenSize : 0);
        return attn + mlp + 2L * hiddenSize;
    }
}
