package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;

/**
 * The CLIP text transformer's hyper-parameters, as read from a Hugging Face {@code config.json}.
 *
 * @param vocabSize        token embedding rows
 * @param hiddenSize       model width
 * @param intermediateSize MLP hidden width
 * @param numLayers        encoder layers
 * @param numHeads         attention heads
 * @param maxPositions     position embedding rows, also the tokenizer's max_length (77)
 * @param quickGelu        {@code quick_gelu} ({@code x·σ(1.702x)}) when true, exact {@code gelu} otherwise
 * @param layerNormEps     LayerNorm epsilon
 * @param eosTokenId       pooled-token rule: the first position holding this id; the legacy value 2 (as in the
 *                         real openai/clip-vit-large-patch14 config) means the position of the largest id instead
 */
public record ClipTextConfig(int vocabSize, int hiddenSize, int intermediateSize, int numLayers, int numHeads,
                             int maxPositions, boolean quickGelu, double layerNormEps, long eosTokenId) {
    /** The {@code eos_token_id} of old configs, which selects the argmax pooling rule. */
    public static final long LEGACY_EOS_TOKEN_ID = 2;

    public ClipTextConfig {
        if (vocabSize < 1 || hiddenSize < 1 || intermediateSize < 1 || numLayers < 1 || numHeads < 1
                || maxPositions < 2) {
            throw new IllegalArgumentException("CLIP text config sizes must be positive (max_position_embeddings"
                    + " >= 2)");
        }
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not a multiple of "
                    + "num_attention_heads " + numHeads);
        }
        if (!(layerNormEps > 0)) {
            throw new IllegalArgumentException("layer_norm_eps must be > 0, got " + layerNormEps);
        }
    }

    /** CLIP ViT-L/14's text tower (openai/clip-vit-large-patch14), HunyuanVideo's second text encoder. */
    public static ClipTextConfig clipL() {
        return new ClipTextConfig(49408, 768, 3072, 12, 12, 77, true, 1e-5, LEGACY_EOS_TOKEN_ID);
    }

    /** Reads {@code config.json} (see {@link #fromJson}). */
    public static ClipTextConfig read(Path configJson) {
        return Checkpoints.readConfig(configJson, ClipTextConfig::fromJson);
    }

    /**
     * Parses a {@code CLIPTextConfig} or a full {@code CLIPConfig} (its {@code text_config}); missing fields take
     * transformers' {@code CLIPTextConfig} defaults.
     *
     * @throws IllegalArgumentException for another model type or an activation other than quick_gelu/gelu
     */
    public static ClipTextConfig fromJson(JsonNode n) {
        if (n.has("text_config")) {
            return fromJson(n.get("text_config"));
        }
        String type = n.path("model_type").asText("clip_text_model");
        if (!type.equals("clip_text_model")) {
            throw new IllegalArgumentException("model_type '" + type + "' is not supported (expected "
                    + "clip_text_model or a clip config with text_config)");
        }
        String act = n.path("hidden_act").asText("quick_gelu");
        if (!act.equals("quick_gelu") && !act.equals("gelu")) {
            throw new IllegalArgumentException("hidden_act '" + act + "' is not supported (quick_gelu or gelu)");
        }
        return new ClipTextConfig(
                n.path("vocab_size").asInt(49408),
                n.path("hidden_size").asInt(512),
                n.path("intermediate_size").asInt(2048),
                n.path("num_hidden_layers").asInt(12),
                n.path("num_attention_heads").asInt(8),
                n.path("max_position_embeddings").asInt(77),
                act.equals("quick_gelu"),
                n.path("layer_norm_eps").asDouble(1e-5),
                n.path("eos_token_id").asLong(49407));
    }
}
