package io.github.hunyuanvideo.sampler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.io.CheckpointFormatException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads the diffusers {@code HunyuanVideoTransformer3DModel} {@code config.json} (spec §13) as a {@link DitConfig}. */
final class DiffusersConfigs {
    private DiffusersConfigs() {
    }

    /**
     * The DiT hyperparameters of a diffusers {@code transformer/config.json}; absent fields take the released
     * model's values.
     *
     * @throws CheckpointFormatException naming the file for invalid JSON or a setting the DiT does not support
     */
    static DitConfig transformer(Path configJson) throws IOException {
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(configJson.toFile());
        } catch (IOException e) {
            throw new CheckpointFormatException(configJson, "not valid JSON: " + e.getMessage(), e);
        }
        try {
            return transformer(c);
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(configJson, e.getMessage(), e);
        }
    }

    static DitConfig transformer(JsonNode c) {
        if (c == null || !c.isObject()) {
            throw new IllegalArgumentException("transformer config must be a JSON object");
        }
        DitConfig d = DitConfig.cfgDistill();
        if (c.hasNonNull("qk_norm") && !c.get("qk_norm").asText().equals("rms_norm")) {
            throw new IllegalArgumentException("qk_norm '" + c.get("qk_norm").asText() + "' is not supported "
                    + "(only rms_norm)");
        }
        if (c.hasNonNull("image_condition_type")) {
            throw new IllegalArgumentException("image_condition_type '" + c.get("image_condition_type").asText()
                    + "' (image-to-video) is not supported");
        }
        int heads = c.path("num_attention_heads").asInt(d.headsNum());
        int headDim = c.path("attention_head_dim").asInt(d.headDim());
        int patch = c.path("patch_size").asInt(d.patchSize().get(1));
        int patchT = c.path("patch_size_t").asInt(d.patchSize().get(0));
        int in = c.path("in_channels").asInt(d.inChannels());
        List<Integer> rope = d.ropeDimList();
        if (c.has("rope_axes_dim") && c.get("rope_axes_dim").isArray()) {
            rope = new ArrayList<>();
            for (JsonNode v : c.get("rope_axes_dim")) {
                rope.add(v.asInt());
            }
        }
        return new DitConfig(List.of(patchT, patch, patch), in, c.path("out_channels").asInt(in), heads * headDim,
                heads, c.path("mlp_ratio").asDouble(d.mlpWidthRatio()), c.path("num_layers").asInt(d.doubleBlocks()),
                c.path("num_single_layers").asInt(d.singleBlocks()), rope,
                c.path("rope_theta").asDouble(d.ropeTheta()), d.qkvBias(), d.qkNorm(),
                c.path("guidance_embeds").asBoolean(d.guidanceEmbed()),
                c.path("text_embed_dim").asInt(d.textStatesDim()),
                c.path("pooled_projection_dim").asInt(d.textStatesDim2()),
                c.path("num_refiner_layers").asInt(d.refinerDepth()));
    }
}
