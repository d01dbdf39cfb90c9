package io.github.hunyuanvideo.sampler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where each checkpoint file of a model folder lives, found and checked before anything is loaded (the original's {@code load_state_dict} paths and the diffusers {@code HunyuanVideoPipeline} folder).
 *
 * <p>Two layouts are recognised:
 * <ul>
 *   <li><b>official</b> ({@code ckpts/} of {@code tencent/HunyuanVideo}):
 *       {@code hunyuan-video-t2v-720p/transformers/mp_rank_00_model_states.pt} (or {@code _fp8.pt} with
 *       {@code _fp8_map.pt}), {@code hunyuan-video-t2v-720p/vae/{config.json, pytorch_model.pt}},
 *       {@code text_encoder/} and {@code text_encoder_2/} (Hugging Face folders holding their tokenizers);</li>
 *   <li><b>diffusers</b> ({@code model_index.json} at the top): {@code transformer/} (config.json + safetensors),
 *       {@code vae/}, {@code text_encoder/}, {@code text_encoder_2/}, {@code tokenizer/}, {@code tokenizer_2/},
 *       {@code scheduler/}.</li>
 * </ul>
 * A {@code .safetensors} file beside an expected {@code .pt} (same name stem) is accepted in its place, so a DiT
 * converted once to safetensors is picked up without flags.
 *
 * @param kind which layout was found
 * @param root the model folder
 * @param ditWeights DiT checkpoint file, or a folder of safetensors shards (diffusers)
 * @param ditFp8Map the FP8 scale map ({@code useFp8} with the official layout), else {@code null}
 * @param ditConfig the DiT's {@code config.json} (diffusers), else {@code null} (the official layout names the
 *                  configuration by {@link SamplerConfig#model()})
 * @param vaeDir the VAE folder
 * @param vaeConfig the VAE's {@code config.json}
 * @param vaeWeights the VAE weights file
 * @param textEncoderDir the LLM folder, {@code null} when text encoders are not loaded
 * @param tokenizerDir the folder with the LLM's {@code tokenizer.json}, {@code null} when not loaded
 * @param textEncoder2Dir the CLIP text model folder, {@code null} when not loaded
 * @param tokenizer2Dir the folder with the CLIP tokenizer, {@code null} when not loaded
 */
public record CheckpointLayout(Kind kind, Path root, Path ditWeights, Path ditFp8Map, Path ditConfig, Path vaeDir,
                               Path vaeConfig, Path vaeWeights, Path textEncoderDir, Path tokenizerDir,
                               Path textEncoder2Dir, Path tokenizer2Dir) {

    /** The two supported folder layouts. */
    public enum Kind {
        OFFICIAL, DIFFUSERS
    }

    /** The official DiT sub-folder. */
    public static final String OFFICIAL_MODEL_DIR = "hunyuan-video-t2v-720p";
    private static final String DIT_FILE = "mp_rank_00_model_states.pt";
    private static final String DIT_FP8_FILE = "mp_rank_00_model_states_fp8.pt";
    private static final String DIT_FP8_MAP_FILE = "mp_rank_00_model_states_fp8_map.pt";

    /**
     * Finds the layout under {@code root} and checks that every file it needs exists and is readable.
     *
     * @param root the model folder ({@code ckpts} or a diffusers snapshot)
     * @param config decides the DiT file ({@code ditWeight}, {@code useFp8}, {@code loadKey}) and whether the text
     *               encoders are needed ({@link SamplerConfig#loadTextEncoders()})
     * @throws MissingCheckpointException listing every missing or unreadable path with what was expected there
     */
    public static CheckpointLayout resolve(Path root, SamplerConfig config) throws MissingCheckpointException {
        List<String> problems = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            problems.add(root + ": model folder not found (expected the official ckpts/ folder or a diffusers "
                    + "snapshot with model_index.json)");
            throw new MissingCheckpointException(root, problems);
        }
        CheckpointLayout layout;
        if (Files.exists(root.resolve("model_index.json"))) {
            layout = diffusers(root, config, problems);
        } else {
            layout = official(root, config, problems);
        }
        if (!problems.isEmpty()) {
            throw new MissingCheckpointException(root, problems);
        }
        return layout;
    }

    private static CheckpointLayout official(Path root, SamplerConfig config, List<String> problems) {
        Path model = root.resolve(OFFICIAL_MODEL_DIR);
        if (!Files.isDirectory(model) && !Files.isDirectory(root.resolve("transformer"))) {
            problems.add(model + ": folder not found (expected the official layout, " + OFFICIAL_MODEL_DIR
                    + "/{transformers,vae}, or a diffusers snapshot with model_index.json in " + root + ")");
        }
        Path transformers = model.resolve("transformers");
        Path dit;
        Path fp8Map = null;
        if (config.ditWeight() != null) {
            dit = officialDitWeight(config.ditWeight(), config, problems);
        } else if (config.useFp8()) {
            dit = file(transformers.resolve(DIT_FP8_FILE), "the FP8 DiT checkpoint (--use-fp8)", problems);
        } else {
            dit = file(transformers.resolve(DIT_FILE), "the DiT checkpoint (" + config.model() + ", bf16)",
                    problems);
        }
        if (config.useFp8()) {
            // As the original: the map sits beside the weights, named like them with "_map" before ".pt".
            Path weights = dit != null ? dit : config.ditWeight() != null ? config.ditWeight()
                    : transformers.resolve(DIT_FP8_FILE);
            String n = weights.getFileName().toString();
            Path map = n.endsWith(".pt") ? weights.resolveSibling(n.substring(0, n.length() - 3) + "_map.pt")
                    : transformers.resolve(DIT_FP8_MAP_FILE);
            fp8Map = file(map, "the FP8 scale map of the DiT (--use-fp8)", problems);
        }
        Path vaeDir = model.resolve("vae");
        Path vaeConfig = file(vaeDir.resolve("config.json"), "the VAE config (AutoencoderKLCausal3D)", problems);
        Path vaeWeights = file(vaeDir.resolve("pytorch_model.pt"), "the VAE weights", problems);
        Path te = null;
        Path te2 = null;
        if (config.loadTextEncoders()) {
            te = hfModel(root.resolve("text_encoder"), "the LLM text encoder (LLaVA-Llama-3, made by "
                    + "preprocess_text_encoder_tokenizer_utils.py)", problems);
            tokenizer(root.resolve("text_encoder"), "the LLM tokenizer", problems);
            te2 = hfModel(root.resolve("text_encoder_2"), "the CLIP text encoder (openai/clip-vit-large-patch14)",
                    problems);
            clipTokenizer(root.resolve("text_encoder_2"), problems);
        }
        return new CheckpointLayout(Kind.OFFICIAL, root, dit, fp8Map, null, vaeDir, vaeConfig, vaeWeights, te, te,
                te2, te2);
    }

    private static Path officialDitWeight(Path given, SamplerConfig config, List<String> problems) {
        if (Files.isDirectory(given)) {
            // as the original's load_state_dict: pytorch_model_{loadKey}.pt (bare) else the first *_model_states.pt (wrapped); safetensors too.
            Path bare = given.resolve("pytorch_model_" + config.loadKey() + ".pt");
            if (Files.isRegularFile(bare)) {
                return file(bare, "the DiT checkpoint", problems);
            }
            try (Stream<Path> s = Files.list(given)) {
                List<Path> found = s.filter(p -> {
                    String n = p.getFileName().toString();
                    return n.endsWith("_model_states.pt") || n.endsWith(".safetensors")
                            || n.endsWith(".safetensors.index.json");
                }).sorted().toList();
                if (found.isEmpty()) {
                    problems.add(given + ": no DiT checkpoint in this folder (expected pytorch_model_"
                            + config.loadKey() + ".pt, a *_model_states.pt file or safetensors)");
                    return null;
                }
                if (found.get(0).getFileName().toString().endsWith(".safetensors")) {
                    return given;
                }
                return file(found.get(0), "the DiT checkpoint", problems);
            } catch (IOException e) {
                problems.add(given + ": cannot list the DiT folder (" + e.getMessage() + ")");
                return null;
            }
        }
        return file(given, "the DiT checkpoint given as ditWeight", problems);
    }

    private static CheckpointLayout diffusers(Path root, SamplerConfig config, List<String> problems) {
        file(root.resolve("model_index.json"), "the diffusers pipeline index", problems);
        Path tr = root.resolve("transformer");
        Path ditConfig = file(tr.resolve("config.json"), "the transformer config "
                + "(HunyuanVideoTransformer3DModel)", problems);
        Path dit = config.ditWeight() != null ? officialDitWeight(config.ditWeight(), config, problems)
                : safetensorsDir(tr, "the transformer weights", problems);
        if (config.useFp8()) {
            problems.add(tr + ": useFp8 needs the official FP8 checkpoint (" + DIT_FP8_FILE + " + "
                    + DIT_FP8_MAP_FILE + "); the diffusers layout has none");
        }
        Path vaeDir = root.resolve("vae");
        Path vaeConfig = file(vaeDir.resolve("config.json"), "the VAE config (AutoencoderKLHunyuanVideo)", problems);
        Path vaeWeights = file(vaeDir.resolve("diffusion_pytorch_model.safetensors"), "the VAE weights", problems);
        Path te = null;
        Path tok = null;
        Path te2 = null;
        Path tok2 = null;
        if (config.loadTextEncoders()) {
            te = hfModel(root.resolve("text_encoder"), "the LLM text encoder (LlamaModel)", problems);
            tok = tokenizer(root.resolve("tokenizer"), "the LLM tokenizer", problems);
            te2 = hfModel(root.resolve("text_encoder_2"), "the CLIP text encoder (CLIPTextModel)", problems);
            tok2 = clipTokenizer(root.resolve("tokenizer_2"), problems);
        }
        file(root.resolve("scheduler").resolve("scheduler_config.json"), "the scheduler config", problems);
        return new CheckpointLayout(Kind.DIFFUSERS, root, dit, null, ditConfig, vaeDir, vaeConfig, vaeWeights, te,
                tok, te2, tok2);
    }

    /** A regular readable file; a same-stem {@code .safetensors} sibling stands in for a {@code .pt}. */
    private static Path file(Path p, String what, List<String> problems) {
        if (Files.isRegularFile(p) && Files.isReadable(p)) {
            return p;
        }
        String name = p.getFileName().toString();
        if (name.endsWith(".pt")) {
            Path st = p.resolveSibling(name.substring(0, name.length() - 3) + ".safetensors");
            if (Files.isRegularFile(st) && Files.isReadable(st)) {
                return st;
            }
        }
        problems.add(p + ": " + (Files.exists(p) ? (Files.isDirectory(p) ? "is a folder" : "not readable")
                : "missing") + " (expected " + what + ")");
        return null;
    }

    private static Path safetensorsDir(Path dir, String what, List<String> problems) {
        if (!Files.isDirectory(dir)) {
            problems.add(dir + ": folder missing (expected " + what + ")");
            return null;
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> st = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")
                    || p.getFileName().toString().endsWith(".safetensors.index.json")).toList();
            if (st.isEmpty()) {
                problems.add(dir + ": no .safetensors file or index (expected " + what + ")");
                return null;
            }
            for (Path p : st) {
                if (!Files.isReadable(p)) {
                    problems.add(p + ": not readable (part of " + what + ")");
                }
            }
            return dir;
        } catch (IOException e) {
            problems.add(dir + ": cannot list (" + e.getMessage() + ")");
            return null;
        }
    }

    /** A Hugging Face model folder: config.json plus safetensors weights (single file or sharded). */
    private static Path hfModel(Path dir, String what, List<String> problems) {
        if (!Files.isDirectory(dir)) {
            problems.add(dir + ": folder missing (expected " + what + ")");
            return null;
        }
        file(dir.resolve("config.json"), "the config of " + what, problems);
        safetensorsDir(dir, "the weights of " + what, problems);
        return dir;
    }

    private static Path tokenizer(Path dir, String what, List<String> problems) {
        file(dir.resolve("tokenizer.json"), what, problems);
        return dir;
    }

    /** The text module reads only the fast-tokenizer file (DJL), also for CLIP. */
    private static Path clipTokenizer(Path dir, List<String> problems) {
        return tokenizer(dir, "the CLIP tokenizer (the fast-tokenizer file; vocab.json + merges.txt alone are not "
                + "enough)", problems);
    }
}
