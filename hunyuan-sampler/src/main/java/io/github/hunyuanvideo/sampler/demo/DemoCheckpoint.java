package io.github.hunyuanvideo.sampler.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.io.SafetensorsWriter;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.text.ClipTextConfig;
import io.github.hunyuanvideo.text.ClipTextEncoder;
import io.github.hunyuanvideo.text.LlamaConfig;
import io.github.hunyuanvideo.text.LlmTextEncoder;
import io.github.hunyuanvideo.vae.CausalVideoVae;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A tiny HunyuanVideo with <b>random weights</b> (the command line's {@code --demo} model): a smoke test of the whole
 * pipeline, not a model that draws anything, for applications' own tests too. {@link #ensure} writes it into a folder
 * in the diffusers layout that {@code HunyuanVideoSampler.fromPretrained} reads like any real checkpoint, with
 * {@code SamplerConfig.defaults()}:
 * <pre>{@code
 * Path model = DemoCheckpoint.ensure(Path.of("build/hunyuan-demo"));
 * SamplerConfig cpu = SamplerConfig.builder().device("cpu").build();
 * try (HunyuanVideoSampler s = HunyuanVideoSampler.fromPretrained(model, cpu)) {
 *     s.predict(s.request("a cat").size(64, 96).videoLength(9).inferSteps(2).build()).close();
 * }
 * }</pre>
 * Its files:
 * <pre>
 * model_index.json, scheduler/scheduler_config.json
 * transformer/{config.json, diffusion_pytorch_model.safetensors}   DiT: hidden 64, 1 double + 1 single block
 * vae/{config.json, diffusion_pytorch_model.safetensors}           causal 3D VAE, widths 8-16, 16 latent channels
 * text_encoder/{config.json, model.safetensors}, tokenizer/        Llama: 3 layers, width 32
 * text_encoder_2/{config.json, model.safetensors}, tokenizer_2/    CLIP text model: 2 layers, width 32
 * </pre>
 * Every value comes from {@link Random} seeded with {@link #SEED} and the tensor's name, so the folder is byte for byte
 * the same on every machine. Matrices are N(0, 1/fan_in), norm weights 1 + 0.1·N(0, 1), norm biases 0.1·N(0, 1), other
 * vectors 0.05·N(0, 1). The DiT holds official tensor names (the loader recognises them in a diffusers folder too).
 */
public final class DemoCheckpoint {
    /** Seed of every weight. */
    public static final long SEED = 20241203L;
    /** Bumped whenever the generated files change, so old folders are rebuilt. */
    public static final String VERSION = "2";
    /** Width of the LLM states (the DiT's {@code text_states_dim}). */
    private static final int TEXT_STATES_DIM = 32;
    /** Width of the CLIP pooled output (the DiT's {@code text_states_dim_2}). */
    private static final int TEXT_STATES_DIM_2 = 32;
    /** The file that marks a folder as a demo model of this class (written last). */
    public static final String MARKER = "hunyuan-video-demo.json";
    /** Every file of the demo model, relative to its folder; {@link #write} writes exactly these. */
    public static final List<String> FILES = List.of("model_index.json", "scheduler/scheduler_config.json",
            "transformer/config.json", "transformer/diffusion_pytorch_model.safetensors", "vae/config.json",
            "vae/diffusion_pytorch_model.safetensors", "text_encoder/config.json", "text_encoder/model.safetensors",
            "tokenizer/tokenizer.json", "tokenizer/tokenizer_config.json", "text_encoder_2/config.json",
            "text_encoder_2/model.safetensors", "tokenizer_2/tokenizer.json", "tokenizer_2/tokenizer_config.json",
            MARKER);
    private static final String TEMP_PREFIX = ".hunyuan-demo-";

    private static final ObjectMapper JSON = new ObjectMapper();

    private DemoCheckpoint() {
    }

    /** The demo DiT: hidden 64 (2 heads of 32), RoPE dims 8/12/12, one block of each kind, guidance embedder. */
    public static DitConfig ditConfig() {
        return new DitConfig(List.of(1, 2, 2), 16, 16, 64, 2, 2.0, 1, 1, List.of(8, 12, 12), 256.0,
                true, true, true, TEXT_STATES_DIM, TEXT_STATES_DIM_2, 1);
    }

    /** The demo VAE: the real block structure (4 blocks, 8× spatial, 4× temporal) with widths 8 to 16. */
    public static VaeConfig vaeConfig() {
        return VaeConfig.fromJson(vaeJson());
    }

    /**
     * Returns {@code dir} holding the demo model, writing it first unless a complete one of this {@link #VERSION} is
     * there. Only folders this class made are ever replaced: {@code dir} must be absent, an empty folder, or a demo
     * folder (an older version, or one with files missing) holding nothing but the demo's own files; anything else is
     * refused before a byte is written. The model is built in a temporary sibling folder and renamed into place, so a
     * reader never sees a half-written folder and two first runs into the same {@code dir} both end with one complete
     * model.
     *
     * @throws IllegalArgumentException if {@code dir} is a file or a folder that is not a demo model (it is left as it
     *                                  is)
     */
    public static Path ensure(Path dir) throws IOException {
        Path target = dir.toAbsolutePath().normalize();
        State state = inspect(target);
        if (state == State.CURRENT) {
            return dir;
        }
        Path parent = target.getParent();
        if (parent == null) {
            throw new IllegalArgumentException(target + " is a file system root, not a folder the demo model can own");
        }
        Files.createDirectories(parent);
        Path temp = Files.createTempDirectory(parent, TEMP_PREFIX);
        try {
            write(temp);
            install(temp, target, state);
        } finally {
            if (Files.exists(temp)) {
                deleteTree(temp);
            }
        }
        return dir;
    }

    /** What {@link #ensure} finds at a path. */
    public enum State {
        /** Nothing there, or an empty folder. */
        ABSENT,
        /** A complete demo model of this {@link #VERSION}. */
        CURRENT,
        /** A demo folder of another version or with files missing, holding only the demo's own files. */
        STALE
    }

    /**
     * Classifies {@code dir}; refuses (with the reason) anything {@link #ensure} may not replace.
     *
     * @throws IllegalArgumentException if {@code dir} is a file, a link, or a folder with anything but demo files
     */
    public static State inspect(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return State.ABSENT;
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException(dir + " exists and is not a folder; give a new or empty folder (the "
                    + "demo model is written there)");
        }
        List<String> foreign = new ArrayList<>();
        boolean empty;
        try (Stream<Path> s = Files.walk(dir)) {
            List<Path> entries = s.filter(p -> !p.equals(dir)).sorted().toList();  // the message lists them in order
            empty = entries.isEmpty();
            for (Path p : entries) {
                String rel = dir.relativize(p).toString().replace('\\', '/');
                boolean ours = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
                        ? FILES.stream().anyMatch(f -> f.startsWith(rel + "/"))
                        : Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && FILES.contains(rel);
                if (!ours) {
                    foreign.add(rel);
                }
            }
        }
        if (empty) {
            return State.ABSENT;
        }
        Path marker = dir.resolve(MARKER);
        if (!foreign.isEmpty() || !Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS)) {
            String what = foreign.isEmpty() ? "it has no " + MARKER
                    : "it holds " + foreign.size() + (foreign.size() == 1 ? " entry that is" : " entries that are")
                    + " not the demo's (" + String.join(", ", foreign.subList(0, Math.min(3,
                    foreign.size()))) + (foreign.size() > 3 ? ", ..." : "") + ")";
            throw new IllegalArgumentException(dir + " is not a demo model folder: " + what + "; nothing was "
                    + "changed there. Give a new or empty folder");
        }
        return isComplete(dir, marker) ? State.CURRENT : State.STALE;
    }

    /** Whether the marker is of this {@link #VERSION} and every file it lists is there with its size. */
    private static boolean isComplete(Path dir, Path marker) throws IOException {
        JsonNode m;
        try {
            m = JSON.readTree(marker.toFile());
        } catch (IOException e) {
            return false;
        }
        if (!VERSION.equals(m.path("version").asText()) || !m.path("files").isObject()) {
            return false;
        }
        for (String f : FILES) {
            if (f.equals(MARKER)) {
                continue;
            }
            Path p = dir.resolve(f);
            if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.size(p) != m.path("files").path(f)
                    .asLong(-1)) {
                return false;
            }
        }
        return true;
    }

    /** Renames the finished {@code built} folder to {@code target}, moving a stale demo folder out of the way. */
    private static void install(Path built, Path target, State state) throws IOException {
        Path aside = null;
        if (state == State.STALE) {
            aside = Files.createTempDirectory(target.getParent(), TEMP_PREFIX + "old-");
            // rename(2) replaces the empty folder just made; the stale model is then out of the way atomically
            Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
        }
        try {
            // rename(2) onto an empty folder replaces it, onto anything else it fails: a concurrent first run
            // that finished first, or a file the user put there meanwhile, is never overwritten
            Files.move(built, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (inspect(target) != State.CURRENT) {
                throw e;
            }
        } finally {
            if (aside != null) {
                deleteDemoFiles(aside);
            }
        }
    }

    /** Deletes the demo's own files and then its folders under {@code dir}, leaving anything else in place. */
    private static void deleteDemoFiles(Path dir) throws IOException {
        for (String f : FILES) {
            Path p = dir.resolve(f);
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(p);
            }
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    continue; // not the demo's: it stays, and so do the folders above it
                }
                try (Stream<Path> children = Files.list(p)) {
                    if (children.findAny().isEmpty()) {
                        Files.delete(p);
                    }
                }
            }
        }
    }

    /**
     * Writes every file of the demo model into {@code dir} as it is (no checks, no atomic rename: {@link #ensure} is
     * the safe way to make a demo folder).
     */
    public static void write(Path dir) throws IOException {
        DemoTokenizers.Llm llmTok = DemoTokenizers.llm();
        DemoTokenizers.Clip clipTok = DemoTokenizers.clip();
        try (PointerScope scope = new PointerScope()) {
            json(dir.resolve("model_index.json"), modelIndex());
            ObjectNode scheduler = JSON.createObjectNode();
            scheduler.put("_class_name", "FlowMatchEulerDiscreteScheduler");
            scheduler.put("num_train_timesteps", 1000);
            scheduler.put("shift", 7.0);
            json(dir.resolve("scheduler/scheduler_config.json"), scheduler);

            json(dir.resolve("transformer/config.json"), transformerJson());
            weights(dir.resolve("transformer/diffusion_pytorch_model.safetensors"),
                    HunyuanVideoTransformer.expectedShapes(ditConfig()), "");

            json(dir.resolve("vae/config.json"), vaeJson());
            weights(dir.resolve("vae/diffusion_pytorch_model.safetensors"),
                    CausalVideoVae.expectedShapes(vaeConfig()), "");

            ObjectNode llama = llamaJson(llmTok);
            json(dir.resolve("text_encoder/config.json"), llama);
            weights(dir.resolve("text_encoder/model.safetensors"),
                    LlmTextEncoder.expectedShapes(LlamaConfig.fromJson(llama)), "");
            json(dir.resolve("tokenizer/tokenizer.json"), llmTok.json());
            ObjectNode llmTokConfig = JSON.createObjectNode();
            llmTokConfig.put("bos_token", DemoTokenizers.BOS);
            llmTokConfig.put("eos_token", DemoTokenizers.EOS);
            llmTokConfig.put("model_max_length", 512);
            llmTokConfig.put("padding_side", "right");
            llmTokConfig.put("tokenizer_class", "PreTrainedTokenizerFast");
            json(dir.resolve("tokenizer/tokenizer_config.json"), llmTokConfig);

            ObjectNode clip = clipJson(clipTok);
            json(dir.resolve("text_encoder_2/config.json"), clip);
            weights(dir.resolve("text_encoder_2/model.safetensors"),
                    ClipTextEncoder.expectedShapes(ClipTextConfig.fromJson(clip)),
                    "text_model.");
            json(dir.resolve("tokenizer_2/tokenizer.json"), clipTok.json());
            ObjectNode clipTokConfig = JSON.createObjectNode();
            clipTokConfig.put("bos_token", DemoTokenizers.CLIP_BOS);
            clipTokConfig.put("eos_token", DemoTokenizers.CLIP_EOS);
            clipTokConfig.put("pad_token", DemoTokenizers.CLIP_EOS);
            clipTokConfig.put("model_max_length", 77);
            clipTokConfig.put("tokenizer_class", "CLIPTokenizer");
            json(dir.resolve("tokenizer_2/tokenizer_config.json"), clipTokConfig);
        }
        ObjectNode marker = JSON.createObjectNode();
        marker.put("version", VERSION);
        marker.put("seed", SEED);
        marker.put("note", "HunyuanVideo demo model with RANDOM weights, generated by hunyuan-video-java for smoke "
                + "tests; it produces noise, not videos of the prompt. Use --model-base with the real checkpoints.");
        // the size of every file, so a folder with a file missing or cut short is seen as incomplete
        ObjectNode sizes = marker.putObject("files");
        for (String f : FILES) {
            if (!f.equals(MARKER)) {
                sizes.put(f, Files.size(dir.resolve(f)));
            }
        }
        json(dir.resolve(MARKER), marker);
    }

    private static ObjectNode modelIndex() {
        ObjectNode m = JSON.createObjectNode();
        m.put("_class_name", "HunyuanVideoPipeline");
        m.put("_diffusers_version", "0.32.0");
        pair(m, "scheduler", "diffusers", "FlowMatchEulerDiscreteScheduler");
        pair(m, "text_encoder", "transformers", "LlamaModel");
        pair(m, "text_encoder_2", "transformers", "CLIPTextModel");
        pair(m, "tokenizer", "transformers", "PreTrainedTokenizerFast");
        pair(m, "tokenizer_2", "transformers", "CLIPTokenizer");
        pair(m, "transformer", "diffusers", "HunyuanVideoTransformer3DModel");
        pair(m, "vae", "diffusers", "AutoencoderKLHunyuanVideo");
        return m;
    }

    private static void pair(ObjectNode m, String key, String library, String cls) {
        m.putArray(key).add(library).add(cls);
    }

    /** diffusers {@code HunyuanVideoTransformer3DModel} config of {@link #ditConfig()}. */
    private static ObjectNode transformerJson() {
        DitConfig d = ditConfig();
        ObjectNode c = JSON.createObjectNode();
        c.put("_class_name", "HunyuanVideoTransformer3DModel");
        c.put("in_channels", d.inChannels());
        c.put("out_channels", d.outChannels());
        c.put("num_attention_heads", d.headsNum());
        c.put("attention_head_dim", d.headDim());
        c.put("num_layers", d.doubleBlocks());
        c.put("num_single_layers", d.singleBlocks());
        c.put("num_refiner_layers", d.refinerDepth());
        c.put("mlp_ratio", d.mlpWidthRatio());
        c.put("patch_size", d.patchSize().get(1));
        c.put("patch_size_t", d.patchSize().get(0));
        c.put("qk_norm", "rms_norm");
        c.put("guidance_embeds", d.guidanceEmbed());
        c.put("text_embed_dim", d.textStatesDim());
        c.put("pooled_projection_dim", d.textStatesDim2());
        c.put("rope_theta", d.ropeTheta());
        ArrayNode rope = c.putArray("rope_axes_dim");
        d.ropeDimList().forEach(rope::add);
        return c;
    }

    private static ObjectNode vaeJson() {
        ObjectNode c = JSON.createObjectNode();
        c.put("_class_name", "AutoencoderKLHunyuanVideo");
        c.put("in_channels", 3);
        c.put("out_channels", 3);
        c.put("latent_channels", 16);
        ArrayNode blocks = c.putArray("block_out_channels");
        for (int w : new int[]{8, 8, 16, 16}) {
            blocks.add(w);
        }
        ArrayNode down = c.putArray("down_block_types");
        ArrayNode up = c.putArray("up_block_types");
        for (int i = 0; i < 4; i++) {
            down.add("HunyuanVideoDownBlock3D");
            up.add("HunyuanVideoUpBlock3D");
        }
        c.put("layers_per_block", 1);
        c.put("norm_num_groups", 4);
        c.put("act_fn", "silu");
        c.put("scaling_factor", 0.476986);
        c.put("spatial_compression_ratio", 8);
        c.put("temporal_compression_ratio", 4);
        c.put("mid_block_add_attention", true);
        return c;
    }

    private static ObjectNode llamaJson(DemoTokenizers.Llm tok) {
        ObjectNode c = textEncoderJson("LlamaModel", "llama", tok.vocabSize(), TEXT_STATES_DIM,
                tok.specials().get(DemoTokenizers.BOS), tok.specials().get(DemoTokenizers.EOS));
        // hidden_state_skip_layer 2 reads the state after layer 1 of 3
        c.put("num_hidden_layers", 3);
        c.put("num_key_value_heads", 1);
        c.put("head_dim", 16);
        c.put("hidden_act", "silu");
        c.put("max_position_embeddings", 512);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 500000.0);
        c.put("attention_bias", false);
        c.put("mlp_bias", false);
        c.put("tie_word_embeddings", false);
        return c;
    }

    private static ObjectNode clipJson(DemoTokenizers.Clip tok) {
        ObjectNode c = textEncoderJson("CLIPTextModel", "clip_text_model", tok.vocabSize(), TEXT_STATES_DIM_2,
                tok.bosId(), tok.eosId());
        c.put("num_hidden_layers", 2);
        c.put("max_position_embeddings", 77);
        c.put("hidden_act", "quick_gelu");
        c.put("layer_norm_eps", 1e-5);
        return c;
    }

    /** What the demo's two text encoder configs share: a 64-wide MLP, 2 heads, EOS as padding, float32. */
    private static ObjectNode textEncoderJson(String architecture, String modelType, int vocabSize, int hidden,
                                              int bos, int eos) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add(architecture);
        c.put("model_type", modelType);
        c.put("vocab_size", vocabSize);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", 64);
        c.put("num_attention_heads", 2);
        c.put("bos_token_id", bos);
        c.put("eos_token_id", eos);
        c.put("pad_token_id", eos);
        c.put("torch_dtype", "float32");
        return c;
    }

    /** Random values of {@code shape} for tensor {@code name} (see the class comment for the scales). */
    private static float[] randomValues(String name, long[] shape) {
        long n = Arrays.stream(shape).reduce(1, Math::multiplyExact);
        Random r = new Random(SEED * 31 + name.hashCode());
        double scale;
        double offset = 0;
        if (shape.length >= 2) {
            scale = 1.0 / Math.sqrt(Arrays.stream(shape).skip(1).reduce(1, Math::multiplyExact));
        } else if (name.contains("norm")) {
            scale = 0.1;
            offset = name.endsWith(".weight") ? 1.0 : 0.0;
        } else {
            scale = 0.05;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (offset + scale * r.nextGaussian());
        }
        return v;
    }

    private static void weights(Path file, Map<String, long[]> shapes, String prefix) throws IOException {
        Map<String, Tensor> tensors = new TreeMap<>();
        shapes.forEach((name, shape) -> tensors.put(prefix + name, Tensors.fromFloats(randomValues(name, shape),
                shape)));
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
    }

    private static void json(Path file, ObjectNode node) throws IOException {
        Files.createDirectories(file.getParent());
        JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), node);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
