package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.Attention;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.nn.MemorySize;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.parallel.Communicator;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Load-time options of {@link HunyuanVideoSampler}, with the official defaults: which checkpoint files, in which
 * precisions, on which device, how the text encoders crop and template the prompt. Build it with {@link #builder()};
 * the compact constructor validates every value and names the option in its error. Model dimensions (channels,
 * widths, RoPE) are not options: they are read from the checkpoint, so {@link #defaults()} fits any valid one.
 * Per-call settings (steps, shift, guidance scales, size, seed) are in {@link GenerationRequest}.
 *
 * <p>Differences from the official command line, on purpose:
 * <ul>
 *   <li>{@code flowReverse} defaults to {@code true}: the official flag defaults to off, which runs σ from 0 to 1 and
 *       produces garbage with the released checkpoint; every official script passes it.</li>
 *   <li>{@code vaeTiling} can be turned off (the official CLI cannot); the golden pipeline case decodes untiled.</li>
 *   <li>{@code device} picks the compute device ({@code auto} = CUDA when available, else CPU).</li>
 * </ul>
 *
 * @param model DiT hyperparameters by name, for the official layout (whose checkpoint carries no config):
 *             {@code HYVideo-T/2-cfgdistill} (default, the released checkpoint) or {@code HYVideo-T/2}; a diffusers
 *             folder's {@code transformer/config.json} takes precedence
 * @param precision DiT weight and compute dtype (the official autocast dtype), default bf16
 * @param vaePrecision VAE weight and compute dtype, default fp16
 * @param vaeTiling tiled VAE decoding (spatial and temporal), default on as in the original
 * @param textEncoderPrecision LLM weight dtype, default fp16; it is also the dtype of the
 *                            initial noise, as in the original
 * @param textLen LLM tokens kept after the template crop, default 256, at most {@link #MAX_TEXT_LEN}; loading
 *                also checks that {@code textLen} plus the template crop (95) fits the LLM's
 *                {@code max_position_embeddings}
 * @param promptTemplate template for single-frame generation, default {@code dit-llm-encode}
 * @param promptTemplateVideo template for videos, default {@code dit-llm-encode-video}
 * @param hiddenStateSkipLayer LLM hidden state taken from the end ({@code
 *                            hidden_states[-(skip+1)]}), default 2
 * @param applyFinalNorm apply the LLM's final RMSNorm to that hidden state, default off
 * @param textEncoderPrecision2 CLIP weight dtype, default fp16
 * @param textLen2 CLIP max tokens, default 77, at most {@link #MAX_TEXT_LEN}; loading also checks it against
 *                 CLIP's {@code max_position_embeddings}
 * @param flowReverse σ from 1 to 0 (default {@code true}, see above)
 * @param ditWeight DiT checkpoint file or directory overriding the layout's default ({@code null} =
 *                 from the layout)
 * @param loadKey key of the wrapper dict in the DiT checkpoint: {@code module} (default) or {@code ema}
 * @param useCpuOffload the original's {@code --use-cpu-offload}: the text encoders and the VAE live in host memory
 *                     and come to the device only while they run (the LLM streamed layer by layer, CLIP for the
 *                     encoding, the VAE for the decode), so the denoising loop has the device to the DiT alone, which
 *                     stays resident (unless {@code deviceMemoryBudget} streams its blocks too); default off
 * @param useFp8 use the FP8 DiT checkpoint ({@code mp_rank_00_model_states_fp8.pt} + its scale map)
 * @param device {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}
 * @param loadTextEncoders load the two text encoders (default); without them only {@code
 *                        HunyuanVideoSampler.predict(GenerationRequest, PromptEmbeddings, PromptEmbeddings,
 *                        ProgressListener, CancellationToken)} with precomputed embeddings works, and the text
 *                        encoder folders need not exist
 * @param ditConfig DiT hyperparameters overriding {@code model} and the diffusers {@code
 *                 transformer/config.json} ({@code null} = from those); for test and custom checkpoints
 * @param noiseDevice where the seeded generator draws the initial noise: {@code device} (default,
 *                   the compute device, as the original: CUDA noise on CUDA) or {@code cpu} (the same noise on every
 *                   machine)
 * @param exactGuidance feed the embedded guidance as {@code g·1000} in float32 instead of
 *                     rounding it to {@code precision} like the original (6000 instead of 6016 for 6.0 in bf16);
 *                     default off. Only for comparing half-precision runs with float32 references
 * @param loras LoRA adapters merged into the DiT's weights when it loads, in order (several add up); none by default.
 *              Merged adapters cannot be switched: another set needs another sampler
 * @param loraIgnoreUnmatched load LoRA files whose keys match no DiT weight, logging those keys as a warning,
 *                            instead of refusing them; default off
 * @param deviceMemoryBudget the most device memory, in bytes, the pipeline may take on a CUDA device (weights,
 *                           activations and the allocator's cache): DiT blocks and the LLM are then streamed from
 *                           host memory and VAE tiles shrink to fit. 0 (the default) sets no budget: everything stays
 *                           on the device as in the original, at full speed. A budget is at least
 *                           {@link #MIN_DEVICE_MEMORY_BUDGET}; it cannot be combined with {@code device} {@code cpu}
 *                           (with {@code auto} it applies only when that resolves to CUDA)
 * @param prefetchDepth how many streamed DiT blocks are copied to the device ahead of the one computing, 1 (the
 *                      default) to {@link #MAX_PREFETCH_DEPTH}; each costs the device memory of one block. It matters
 *                      only when the budget makes the DiT stream
 * @param textEncodersOnCpu run the text encoders on the CPU in float32 (half-precision matmuls are slow on CPUs),
 *                          weights kept loaded in host memory, only their outputs (cast to
 *                          {@code textEncoderPrecision}/{@code textEncoderPrecision2}) moving to the device; default
 *                          off. Slow, but the device never holds an encoder
 * @param largestRequest the largest generation the memory plan of {@code deviceMemoryBudget} must serve, default
 *                       {@link RequestSize#OFFICIAL_720P}; under a budget, bigger requests are refused. Ignored
 *                       without a budget
 * @param attention the DiT blocks' attention backend: {@link Attention#SDPA} (default, the original's numerics),
 *                  {@link Attention#INT8} (8-bit attention on Hopper GPUs, SDPA with one warning elsewhere) or
 *                  {@link Attention#INT8_FP8} (the same with an FP8 P·V product: faster, less accurate), which the
 *                  denoising loop applies to every step but the {@code bf16AttentionSteps} at either end
 * @param bf16AttentionSteps with an 8-bit backend: the first and the last this many denoising steps run SDPA
 *                           (in {@code precision}, bf16 by default) all the same (the last steps refine fine detail
 *                           and are the most sensitive to attention error); {@code >= 0}, default 0 (every step
 *                           8-bit: nothing has measured a need for more yet). Steps per end beyond half of
 *                           {@code inferSteps} make every step SDPA ({@link #attentionAt})
 * @param communicator the ranks (one process per device, each with a sampler of the same weights) that render each
 *                     video together, {@link Communicator#single()} (the default) for one. With N &gt; 1 ranks
 *                     every rank calls {@code predict} with the same request: rank 0 encodes the prompt and shares
 *                     the embeddings and seeds, the DiT shards the image tokens over the ranks (N must divide its
 *                     attention heads), the VAE decodes its tiles round-robin, and rank 0 alone reports progress and
 *                     gets the frames; the other ranks return the latents without videos. Step caches are not
 *                     supported with N &gt; 1 (see {@code docs/sampler.md})
 */
public record SamplerConfig(
        String model,
        Precision precision,
        Precision vaePrecision,
        boolean vaeTiling,
        Precision textEncoderPrecision,
        int textLen,
        String promptTemplate,
        String promptTemplateVideo,
        int hiddenStateSkipLayer,
        boolean applyFinalNorm,
        Precision textEncoderPrecision2,
        int textLen2,
        boolean flowReverse,
        Path ditWeight,
        String loadKey,
        boolean useCpuOffload,
        boolean useFp8,
        String device,
        boolean loadTextEncoders,
        DitConfig ditConfig,
        String noiseDevice,
        boolean exactGuidance,
        List<Lora> loras,
        boolean loraIgnoreUnmatched,
        long deviceMemoryBudget,
        int prefetchDepth,
        RequestSize largestRequest,
        boolean textEncodersOnCpu,
        Attention attention,
        int bf16AttentionSteps,
        Communicator communicator) {

    /**
     * One LoRA adapter to merge into the DiT: each Linear it targets becomes {@code W + scale · (alpha / rank) · B · A}
     * ({@code alpha = rank} where the file stores none).
     *
     * @param path  the adapter file, keys in the original ({@code diffusion_model.*}), kohya ({@code lora_unet_*}) or
     *              diffusers ({@code transformer.*}) format
     * @param scale its strength, finite: 1 as trained, 0 none, negative subtracts it
     */
    public record Lora(Path path, double scale) {
        /** Validates; throws {@link IllegalArgumentException} starting with {@code lora:}. */
        public Lora {
            if (path == null) {
                throw bad("lora", "the file must not be null");
            }
            if (!Double.isFinite(scale)) {
                throw bad("lora", path + ": the scale must be finite, got " + scale);
            }
        }
    }

    /** The DiT configurations of the original ({@code HUNYUAN_VIDEO_CONFIG}). */
    public static final Set<String> MODELS = Set.of("HYVideo-T/2-cfgdistill", "HYVideo-T/2");
    /**
     * Most tokens of {@code textLen} and {@code textLen2}, whatever the model: 16 times the official 256; the LLM's
     * attention grows with the square of {@code textLen + 95}, and 4191 tokens still fit Llama-3's 8192 positions.
     */
    public static final int MAX_TEXT_LEN = 4096;
    /** Template names of the original ({@code PROMPT_TEMPLATE}). */
    public static final Set<String> TEMPLATES = Set.of("dit-llm-encode", "dit-llm-encode-video");
    /**
     * The smallest {@code deviceMemoryBudget}, 1 GiB: even streamed, the released DiT keeps the computing
     * double-stream block and one prefetched block on the device, 0.63 GiB with FP8 weights (1.27 GiB in bf16),
     * before any activation. Below it no plan fits; it also catches unit slips such as {@code 24M} for {@code 24G}.
     */
    public static final long MIN_DEVICE_MEMORY_BUDGET = 1L << 30;
    /**
     * The largest {@code prefetchDepth}: the copies share one host-to-device link, so a deeper queue cannot make
     * them faster, only absorb jitter, while each queued block holds device memory (0.63 GiB for a bf16
     * double-stream block).
     */
    public static final int MAX_PREFETCH_DEPTH = 4;
    private static final Pattern DEVICE = Pattern.compile("auto|cpu|cuda(:\\d+)?");

    /** Validates every option; throws {@link IllegalArgumentException} naming the first bad one. */
    public SamplerConfig {
        require("model", model);
        if (!MODELS.contains(model)) {
            throw bad("model", "'" + model + "' is not one of " + MODELS);
        }
        require("precision", precision);
        require("vaePrecision", vaePrecision);
        require("textEncoderPrecision", textEncoderPrecision);
        textLength("textLen", textLen);
        template("promptTemplate", promptTemplate);
        template("promptTemplateVideo", promptTemplateVideo);
        if (hiddenStateSkipLayer < 0) {
            throw bad("hiddenStateSkipLayer", "must be >= 0, got " + hiddenStateSkipLayer);
        }
        require("textEncoderPrecision2", textEncoderPrecision2);
        textLength("textLen2", textLen2);
        require("loadKey", loadKey);
        if (!loadKey.equals("module") && !loadKey.equals("ema")) {
            throw bad("loadKey", "must be 'module' or 'ema', got '" + loadKey + "'");
        }
        require("device", device);
        if (!DEVICE.matcher(device.toLowerCase(Locale.ROOT)).matches()) {
            throw bad("device", "must be auto, cpu, cuda or cuda:N, got '" + device + "'");
        }
        device = device.toLowerCase(Locale.ROOT);
        if (!"device".equals(noiseDevice) && !"cpu".equals(noiseDevice)) {
            throw bad("noiseDevice", "must be 'device' or 'cpu', got '" + noiseDevice + "'");
        }
        require("lora", loras);
        if (loras.contains(null)) {
            throw bad("lora", "the list must not hold null");
        }
        loras = List.copyOf(loras);
        if (deviceMemoryBudget < 0) {
            throw bad("deviceMemoryBudget", "must be >= 0 (0 = no budget), got " + deviceMemoryBudget);
        }
        if (deviceMemoryBudget > 0 && deviceMemoryBudget < MIN_DEVICE_MEMORY_BUDGET) {
            throw bad("deviceMemoryBudget", MemorySize.format(deviceMemoryBudget) + " is below "
                    + MemorySize.format(MIN_DEVICE_MEMORY_BUDGET) + ": no plan fits in less (the streamed DiT alone "
                    + "keeps two blocks on the device)");
        }
        if (deviceMemoryBudget > 0 && device.equals("cpu")) {
            throw bad("deviceMemoryBudget/device", "a device memory budget needs a CUDA device, got device cpu");
        }
        require("largestRequest", largestRequest);
        if (prefetchDepth < 1 || prefetchDepth > MAX_PREFETCH_DEPTH) {
            throw bad("prefetchDepth", "must be 1 to " + MAX_PREFETCH_DEPTH + ", got " + prefetchDepth);
        }
        require("attention", attention);
        if (bf16AttentionSteps < 0) {
            throw bad("bf16AttentionSteps", "must be >= 0, got " + bf16AttentionSteps);
        }
        require("communicator", communicator);
    }

    /**
     * The attention backend of denoising step {@code step} (0-based) of {@code steps}: {@link #attention()}, except
     * SDPA for the first and the last {@link #bf16AttentionSteps()} steps.
     *
     * @throws IllegalArgumentException if {@code step} is not in [0, steps)
     */
    public Attention attentionAt(int step, int steps) {
        if (step < 0 || step >= steps) {
            throw new IllegalArgumentException("step " + step + " is not one of " + steps + " steps");
        }
        boolean end = step < bf16AttentionSteps || step >= steps - bf16AttentionSteps;
        return end ? Attention.SDPA : attention;
    }

    /** The official defaults. */
    public static SamplerConfig defaults() {
        return builder().build();
    }

    /** A builder holding the official defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    private static void require(String name, Object v) {
        if (v == null) {
            throw bad(name, "must not be null");
        }
    }

    private static void textLength(String name, int v) {
        if (v < 1) {
            throw bad(name, "must be >= 1, got " + v);
        }
        if (v > MAX_TEXT_LEN) {
            throw bad(name, "must be <= " + MAX_TEXT_LEN + ", got " + v);
        }
    }

    private static void template(String name, String v) {
        require(name, v);
        if (!TEMPLATES.contains(v)) {
            throw bad(name, "'" + v + "' is not one of " + TEMPLATES);
        }
    }

    private static IllegalArgumentException bad(String option, String why) {
        return new IllegalArgumentException(option + ": " + why);
    }

    /** Mutable builder of {@link SamplerConfig}; starts at the official defaults. */
    public static final class Builder {
        private String model = "HYVideo-T/2-cfgdistill";
        private Precision precision = Precision.BF16;
        private Precision vaePrecision = Precision.FP16;
        private boolean vaeTiling = true;
        private Precision textEncoderPrecision = Precision.FP16;
        private int textLen = 256;
        private String promptTemplate = "dit-llm-encode";
        private String promptTemplateVideo = "dit-llm-encode-video";
        private int hiddenStateSkipLayer = 2;
        private boolean applyFinalNorm = false;
        private Precision textEncoderPrecision2 = Precision.FP16;
        private int textLen2 = 77;
        private boolean flowReverse = true;
        private Path ditWeight = null;
        private String loadKey = "module";
        private boolean useCpuOffload = false;
        private boolean useFp8 = false;
        private String device = "auto";
        private boolean loadTextEncoders = true;
        private DitConfig ditConfig = null;
        private String noiseDevice = "device";
        private boolean exactGuidance = false;
        private final List<Lora> loras = new ArrayList<>();
        private boolean loraIgnoreUnmatched = false;
        private long deviceMemoryBudget = 0;
        private int prefetchDepth = 1;
        private RequestSize largestRequest = RequestSize.OFFICIAL_720P;
        private boolean textEncodersOnCpu = false;
        private Attention attention = Attention.SDPA;
        private int bf16AttentionSteps = 0;
        private Communicator communicator = Communicator.single();

        private Builder() {
        }

        private Builder(SamplerConfig c) {
            model = c.model;
            precision = c.precision;
            vaePrecision = c.vaePrecision;
            vaeTiling = c.vaeTiling;
            textEncoderPrecision = c.textEncoderPrecision;
            textLen = c.textLen;
            promptTemplate = c.promptTemplate;
            promptTemplateVideo = c.promptTemplateVideo;
            hiddenStateSkipLayer = c.hiddenStateSkipLayer;
            applyFinalNorm = c.applyFinalNorm;
            textEncoderPrecision2 = c.textEncoderPrecision2;
            textLen2 = c.textLen2;
            flowReverse = c.flowReverse;
            ditWeight = c.ditWeight;
            loadKey = c.loadKey;
            useCpuOffload = c.useCpuOffload;
            useFp8 = c.useFp8;
            device = c.device;
            loadTextEncoders = c.loadTextEncoders;
            ditConfig = c.ditConfig;
            noiseDevice = c.noiseDevice;
            exactGuidance = c.exactGuidance;
            loras.addAll(c.loras);
            loraIgnoreUnmatched = c.loraIgnoreUnmatched;
            deviceMemoryBudget = c.deviceMemoryBudget;
            prefetchDepth = c.prefetchDepth;
            largestRequest = c.largestRequest;
            textEncodersOnCpu = c.textEncodersOnCpu;
            attention = c.attention;
            bf16AttentionSteps = c.bf16AttentionSteps;
            communicator = c.communicator;
        }

        /** DiT hyperparameters by name, for the official layout (see {@link SamplerConfig#model()}). */
        public Builder model(String v) {
            model = v;
            return this;
        }

        /** DiT weight and compute dtype (the official autocast dtype). */
        public Builder precision(Precision v) {
            precision = v;
            return this;
        }

        /** VAE weight and compute dtype. */
        public Builder vaePrecision(Precision v) {
            vaePrecision = v;
            return this;
        }

        /** Tiled VAE decoding (spatial and temporal). */
        public Builder vaeTiling(boolean v) {
            vaeTiling = v;
            return this;
        }

        /** LLM weight dtype. */
        public Builder textEncoderPrecision(Precision v) {
            textEncoderPrecision = v;
            return this;
        }

        /** LLM tokens kept after the template crop. */
        public Builder textLen(int v) {
            textLen = v;
            return this;
        }

        /** Template for single-frame generation. */
        public Builder promptTemplate(String v) {
            promptTemplate = v;
            return this;
        }

        /** Template for videos. */
        public Builder promptTemplateVideo(String v) {
            promptTemplateVideo = v;
            return this;
        }

        /** LLM hidden state taken from the end ({@code hidden_states[-(skip+1)]}). */
        public Builder hiddenStateSkipLayer(int v) {
            hiddenStateSkipLayer = v;
            return this;
        }

        /** Apply the LLM's final RMSNorm to that hidden state. */
        public Builder applyFinalNorm(boolean v) {
            applyFinalNorm = v;
            return this;
        }

        /** CLIP weight dtype. */
        public Builder textEncoderPrecision2(Precision v) {
            textEncoderPrecision2 = v;
            return this;
        }

        /** CLIP max tokens. */
        public Builder textLen2(int v) {
            textLen2 = v;
            return this;
        }

        /** σ from 1 to 0; keep {@code true} unless reproducing the official CLI without --flow-reverse. */
        public Builder flowReverse(boolean v) {
            flowReverse = v;
            return this;
        }

        /** DiT checkpoint file or directory overriding the layout's default ({@code null} = from the layout). */
        public Builder ditWeight(Path v) {
            ditWeight = v;
            return this;
        }

        /** Key of the wrapper dict in the DiT checkpoint: {@code module} or {@code ema}. */
        public Builder loadKey(String v) {
            loadKey = v;
            return this;
        }

        /** Text encoders and VAE in host memory, on the device only while they run ({@link SamplerConfig#useCpuOffload()}). */
        public Builder useCpuOffload(boolean v) {
            useCpuOffload = v;
            return this;
        }

        /** Use the FP8 DiT checkpoint ({@code mp_rank_00_model_states_fp8.pt} + its scale map). */
        public Builder useFp8(boolean v) {
            useFp8 = v;
            return this;
        }

        /** Compute device: {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}. */
        public Builder device(String v) {
            device = v;
            return this;
        }

        /** Load the two text encoders. */
        public Builder loadTextEncoders(boolean v) {
            loadTextEncoders = v;
            return this;
        }

        /** DiT hyperparameters overriding those of the checkpoint ({@code null} = from the checkpoint). */
        public Builder ditConfig(DitConfig v) {
            ditConfig = v;
            return this;
        }

        /** Where the seeded generator draws the initial noise: {@code device} or {@code cpu}. */
        public Builder noiseDevice(String v) {
            noiseDevice = v;
            return this;
        }

        /** Embedded guidance {@code g·1000} in float32 instead of the original's rounding to {@code precision}. */
        public Builder exactGuidance(boolean v) {
            exactGuidance = v;
            return this;
        }

        /**
         * Adds a LoRA adapter merged into the DiT at {@code scale} when it loads; call it again for more adapters,
         * whose updates add up.
         *
         * @throws IllegalArgumentException starting with {@code lora:} for a null path or a scale that is not finite
         */
        public Builder lora(Path path, double scale) {
            loras.add(new Lora(path, scale));
            return this;
        }

        /** Log LoRA keys that match no DiT weight as a warning instead of refusing the file. */
        public Builder loraIgnoreUnmatched(boolean v) {
            loraIgnoreUnmatched = v;
            return this;
        }

        /**
         * The most device memory the pipeline may take, in bytes (0 = no budget; see
         * {@link SamplerConfig#deviceMemoryBudget()}); {@link MemorySize#parse} reads {@code 24G}-style text.
         */
        public Builder deviceMemoryBudget(long bytes) {
            deviceMemoryBudget = bytes;
            return this;
        }

        /** Streamed DiT blocks copied ahead of the one computing, 1 to {@link SamplerConfig#MAX_PREFETCH_DEPTH}. */
        public Builder prefetchDepth(int blocks) {
            prefetchDepth = blocks;
            return this;
        }

        /** Run the text encoders on the CPU in float32 ({@link SamplerConfig#textEncodersOnCpu()}). */
        public Builder textEncodersOnCpu(boolean v) {
            textEncodersOnCpu = v;
            return this;
        }

        /** The largest generation a memory budget's plan must serve ({@link SamplerConfig#largestRequest()}). */
        public Builder largestRequest(RequestSize v) {
            largestRequest = v;
            return this;
        }

        /** The DiT blocks' attention backend ({@link SamplerConfig#attention()}). */
        public Builder attention(Attention v) {
            attention = v;
            return this;
        }

        /**
         * With an 8-bit backend, the first and the last {@code n} denoising steps run SDPA
         * ({@link SamplerConfig#bf16AttentionSteps()}); {@code n >= 0}.
         */
        public Builder bf16AttentionSteps(int n) {
            bf16AttentionSteps = n;
            return this;
        }

        /** The ranks rendering each video together ({@link SamplerConfig#communicator()}). */
        public Builder communicator(Communicator v) {
            communicator = v;
            return this;
        }

        /** Validates and builds; throws {@link IllegalArgumentException} naming the first bad option. */
        public SamplerConfig build() {
            return new SamplerConfig(model, precision, vaePrecision, vaeTiling, textEncoderPrecision, textLen,
                    promptTemplate, promptTemplateVideo, hiddenStateSkipLayer, applyFinalNorm, textEncoderPrecision2,
                    textLen2, flowReverse, ditWeight, loadKey, useCpuOffload, useFp8, device, loadTextEncoders,
                    ditConfig, noiseDevice, exactGuidance, loras, loraIgnoreUnmatched, deviceMemoryBudget,
                    prefetchDepth, largestRequest, textEncodersOnCpu, attention, bf16AttentionSteps, communicator);
        }
    }

    @Override
    public String toString() {
        return "SamplerConfig[model=" + model + ", precision=" + precision + ", vaePrecision=" + vaePrecision
                + ", textEncoderPrecision=" + textEncoderPrecision + ", flowReverse=" + flowReverse + ", device="
                + device + ", useCpuOffload=" + useCpuOffload + (textEncodersOnCpu ? ", textEncodersOnCpu=true" : "")
                + ", useFp8=" + useFp8 + ", vaeTiling=" + vaeTiling
                + (attention == Attention.SDPA ? "" : ", attention=" + attention + ", bf16AttentionSteps="
                        + bf16AttentionSteps)
                + ", ditWeight=" + Objects.toString(ditWeight) + (loras.isEmpty() ? "" : ", loras=" + loras)
                + (deviceMemoryBudget == 0 ? "" : ", deviceMemoryBudget=" + MemorySize.format(deviceMemoryBudget)
                        + ", prefetchDepth=" + prefetchDepth + ", largestRequest=" + largestRequest)
                + (communicator.worldSize() == 1 ? "" : ", rank=" + communicator.rank() + " of "
                        + communicator.worldSize()) + "]";
    }
}
