package io.github.hunyuanvideo.dit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.io.CheckpointFormatException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Hyperparameters of {@code HYVideoDiffusionTransformer}. {@link #cfgDistill()} and {@link #t2()} are the two
 * official configurations; {@link #fromJson} reads the official constructor arguments (a test case's {@code config}),
 * {@link #fromDiffusersJson(Path)} a diffusers {@code transformer/config.json}.
 *
 * @param patchSize        (t, h, w) patch of the Conv3d patch embedding
 * @param inChannels       latent channels in
 * @param outChannels      latent channels out
 * @param hiddenSize       token width
 * @param headsNum         attention heads (head dim = hidden / heads)
 * @param mlpWidthRatio    MLP hidden width / hidden size (blocks and token refiner)
 * @param doubleBlocks     number of double-stream blocks ({@code mm_double_blocks_depth})
 * @param singleBlocks     number of single-stream blocks ({@code mm_single_blocks_depth})
 * @param ropeDimList      per-axis (t, h, w) RoPE dims; they sum to the head dim
 * @param ropeTheta        RoPE base θ of the tables the transformer builds (256: the official pipeline's
 *                         {@code --rope-theta} default; a diffusers {@code config.json} states it as {@code rope_theta})
 * @param qkvBias          whether the attention qkv and output projections have biases
 * @param qkNorm           whether q and k get an RMSNorm over the head dim
 * @param guidanceEmbed    whether the model embeds the distilled guidance scale ({@code guidance_in})
 * @param textStatesDim    width of the LLM text states
 * @param textStatesDim2   width of the pooled CLIP vector
 * @param refinerDepth     blocks in the single token refiner
 */
public record DitConfig(List<Integer> patchSize, int inChannels, int outChannels, int hiddenSize, int headsNum,
                        double mlpWidthRatio, int doubleBlocks, int singleBlocks, List<Integer> ropeDimList,
                        double ropeTheta, boolean qkvBias, boolean qkNorm, boolean guidanceEmbed, int textStatesDim,
                        int textStatesDim2, int refinerDepth) {

    /** Name of {@link #cfgDistill()} in the official model zoo. */
    public static final String CFG_DISTILL_NAME = "HYVideo-T/2-cfgdistill";
    /** Name of {@link #t2()} in the official model zoo. */
    public static final String T2_NAME = "HYVideo-T/2";

    /** Validates the combination; the official code asserts the same invariants at construction. */
    public DitConfig {
        patchSize = List.copyOf(patchSize);
        ropeDimList = List.copyOf(ropeDimList);
        if (patchSize.size() != 3 || patchSize.stream().anyMatch(p -> p < 1)) {
            throw new IllegalArgumentException("patch_size must be 3 positive ints (t, h, w), got " + patchSize);
        }
        positive("in_channels", inChannels);
        positive("out_channels", outChannels);
        positive("hidden_size", hiddenSize);
        positive("heads_num", headsNum);
        positive("text_states_dim", textStatesDim);
        positive("text_states_dim_2", textStatesDim2);
        if (doubleBlocks < 0 || singleBlocks < 0 || refinerDepth < 0) {
            throw new IllegalArgumentException("block depths must be >= 0, got double " + doubleBlocks + ", single "
                    + singleBlocks + ", refiner " + refinerDepth);
        }
        if (hiddenSize % headsNum != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by heads_num "
                    + headsNum);
        }
        int headDim = hiddenSize / headsNum;
        if (ropeDimList.stream().mapToInt(Integer::intValue).sum() != headDim
                || ropeDimList.stream().anyMatch(d -> d <= 0 || d % 2 != 0)) {
            throw new IllegalArgumentException("rope_dim_list " + ropeDimList + " must be positive even dims summing "
                    + "to the head dim " + headDim);
        }
        if (!(mlpWidthRatio > 0) || !(ropeTheta > 0)) {
            throw new IllegalArgumentException("mlp_width_ratio and rope_theta must be > 0, got " + mlpWidthRatio
                    + ", " + ropeTheta);
        }
    }

    /** {@code HYVideo-T/2-cfgdistill}: the released text-to-video model (embedded guidance, θ = 256). */
    public static DitConfig cfgDistill() {
        return new DitConfig(List.of(1, 2, 2), 16, 16, 3072, 24, 4.0, 20, 40, List.of(16, 56, 56), 256.0, true,
                true, true, 4096, 768, 2);
    }

    /** {@code HYVideo-T/2}: as {@link #cfgDistill()} without the guidance embedder. */
    public static DitConfig t2() {
        DitConfig c = cfgDistill();
        return new DitConfig(c.patchSize, c.inChannels, c.outChannels, c.hiddenSize, c.headsNum, c.mlpWidthRatio,
                c.doubleBlocks, c.singleBlocks, c.ropeDimList, c.ropeTheta, c.qkvBias, c.qkNorm, false,
                c.textStatesDim, c.textStatesDim2, c.refinerDepth);
    }

    /**
     * The official configuration called {@code name} ({@value #CFG_DISTILL_NAME} or {@value #T2_NAME}).
     *
     * @throws IllegalArgumentException naming the known configurations for any other name
     */
    public static DitConfig byName(String name) {
        if (CFG_DISTILL_NAME.equals(name)) {
            return cfgDistill();
        }
        if (T2_NAME.equals(name)) {
            return t2();
        }
        throw new IllegalArgumentException("unknown DiT config '" + name + "'; known: " + CFG_DISTILL_NAME + ", "
                + T2_NAME);
    }

    /**
     * Reads the official constructor arguments from a JSON object (the {@code config} of a golden case, or of
     * {@code keys_full.json}); absent fields keep the {@link #cfgDistill()} value ({@code rope_theta} is the CLI's
     * 256). Settings the official code offers but no released model uses ({@code mlp_act_type} other than
     * {@code gelu_tanh}, {@code qk_norm_type} other than {@code rms}, {@code text_projection} other than
     * {@code single_refiner}, {@code use_attention_mask=false}) are rejected.
     */
    public static DitConfig fromJson(JsonNode config) {
        if (config == null || !config.isObject()) {
            throw new IllegalArgumentException("DiT config must be a JSON object, got " + config);
        }
        requireText(config, "mlp_act_type", "gelu_tanh");
        requireText(config, "qk_norm_type", "rms");
        requireText(config, "text_projection", "single_refiner");
        if (config.has("use_attention_mask") && !config.get("use_attention_mask").asBoolean()) {
            throw new IllegalArgumentException("use_attention_mask=false is not supported (every released model "
                    + "masks the text padding)");
        }
        DitConfig d = cfgDistill();
        int in = intOr(config, "in_channels", d.inChannels);
        return new DitConfig(intsOr(config, "patch_size", d.patchSize), in,
                // The official model defaults out_channels to in_channels.
                intOr(config, "out_channels", in), intOr(config, "hidden_size", d.hiddenSize),
                intOr(config, "heads_num", d.headsNum),
                config.has("mlp_width_ratio") ? config.get("mlp_width_ratio").asDouble() : d.mlpWidthRatio,
                intOr(config, "mm_double_blocks_depth", d.doubleBlocks),
                intOr(config, "mm_single_blocks_depth", d.singleBlocks),
                intsOr(config, "rope_dim_list", d.ropeDimList),
                config.has("rope_theta") ? config.get("rope_theta").asDouble() : d.ropeTheta,
                boolOr(config, "qkv_bias", d.qkvBias), boolOr(config, "qk_norm", d.qkNorm),
                boolOr(config, "guidance_embed", d.guidanceEmbed),
                intOr(config, "text_states_dim", d.textStatesDim),
                intOr(config, "text_states_dim_2", d.textStatesDim2), d.refinerDepth);
    }

    /**
     * The DiT hyperparameters of a diffusers {@code HunyuanVideoTransformer3DModel} {@code transformer/config.json};
     * absent fields take the released model's values.
     *
     * @throws CheckpointFormatException naming the file for invalid JSON or a setting the DiT does not support
     */
    public static DitConfig fromDiffusersJson(Path configJson) throws IOException {
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(configJson.toFile());
        } catch (IOException e) {
            throw new CheckpointFormatException(configJson, "not valid JSON: " + e.getMessage(), e);
        }
        try {
            return fromDiffusersJson(c);
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(configJson, e.getMessage(), e);
        }
    }

    /** As {@link #fromDiffusersJson(Path)}, from the parsed JSON object. */
    public static DitConfig fromDiffusersJson(JsonNode c) {
        if (c == null || !c.isObject()) {
            throw new IllegalArgumentException("transformer config must be a JSON object");
        }
        DitConfig d = cfgDistill();
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

    /** Width of one attention head. */
    public int headDim() {
        return hiddenSize / headsNum;
    }

    /** Hidden width of every MLP ({@code int(hidden_size * mlp_width_ratio)}). */
    public int mlpHidden() {
        return (int) (hiddenSize * mlpWidthRatio);
    }

    /** Features per patch token at the output: {@code out_channels · pt · ph · pw}. */
    public int outFeatures() {
        return outChannels * patchSize.get(0) * patchSize.get(1) * patchSize.get(2);
    }

    /**
     * Floating-point operations of one forward of one sample, as benchmarks count them: per block the projections and
     * MLP ({@code 2·(4·C² + 2·C·mlp)} per token) and the attention ({@code 4·L²·C}), over {@code L} = image tokens +
     * text tokens; embeddings, norms and the final layer are left out. For the full model with 256 text tokens this
     * is 4.3·10¹⁵ at 544×960×129 and 1.2·10¹⁶ at 720×1280×129.
     */
    public double flopsPerForward(long imageTokens, long textTokens) {
        double tokens = imageTokens + textTokens;
        double c = hiddenSize;
        return (doubleBlocks + singleBlocks) * (2.0 * (4.0 * c * c + 2.0 * c * mlpHidden()) * tokens
                + 4.0 * tokens * tokens * c);
    }

    /** Features per patch at the input: {@code in_channels · pt · ph · pw}. */
    public int inFeatures() {
        return inChannels * patchSize.get(0) * patchSize.get(1) * patchSize.get(2);
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
        }
    }

    private static void requireText(JsonNode c, String key, String supported) {
        if (c.has(key) && !supported.equals(c.get(key).asText().toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException(key + "='" + c.get(key).asText() + "' is not supported (only '"
                    + supported + "', as in every released model)");
        }
    }

    private static int intOr(JsonNode c, String key, int dflt) {
        if (!c.has(key)) {
            return dflt;
        }
        JsonNode v = c.get(key);
        if (!v.canConvertToInt() || v.asDouble() != v.asInt()) {
            throw new IllegalArgumentException(key + " must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static boolean boolOr(JsonNode c, String key, boolean dflt) {
        if (!c.has(key)) {
            return dflt;
        }
        if (!c.get(key).isBoolean()) {
            throw new IllegalArgumentException(key + " must be a boolean, got " + c.get(key));
        }
        return c.get(key).asBoolean();
    }

    private static List<Integer> intsOr(JsonNode c, String key, List<Integer> dflt) {
        if (!c.has(key)) {
            return dflt;
        }
        JsonNode v = c.get(key);
        if (!v.isArray()) {
            throw new IllegalArgumentException(key + " must be an array of ints, got " + v);
        }
        List<Integer> out = new ArrayList<>();
        v.forEach(e -> out.add(e.asInt()));
        return out;
    }
}
