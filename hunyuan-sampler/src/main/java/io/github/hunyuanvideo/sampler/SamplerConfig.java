package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.nn.Precision;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Load-time options of {@link HunyuanVideoSampler}: every option of the official {@code hyvideo/config.py} that
 * changes inference (spec §2), with the official defaults. Build it with {@link #builder()}; the compact constructor
 * validates every value and names the option in its error.
 *
 * <p>Differences from the official command line, on purpose:
 * <ul>
 *   <li>{@code flowReverse} defaults to {@code true}: the official flag defaults to off, which runs σ from 0 to 1 and
 *       produces garbage with the released checkpoint (spec §15.1); every official script passes it.</li>
 *   <li>{@code vaeTiling} can be turned off (the official CLI cannot); the golden pipeline case decodes untiled.</li>
 *   <li>{@code device} picks the compute device ({@code auto} = CUDA when available, else CPU).</li>
 * </ul>
 * {@code flowShift}, {@code embeddedCfgScale}, {@code cfgScale} and {@code inferSteps} are the defaults of
 * {@link GenerationRequest#builder(String, SamplerConfig)}; a request can override each of them.
 *
 * @param model DiT hyperparameters by name: {@code HYVideo-T/2-cfgdistill} (default, the released checkpoint) or
 *              {@code HYVideo-T/2}
 * @param latentChannels DiT input/output channels, default 16; {@code HunyuanVideoSampler.fromPretrained} checks it
 *                       against the DiT and the VAE config it loads
 * @param precision DiT weight and compute dtype (the official autocast dtype), default bf16
 * @param ropeTheta θ of the 3D RoPE tables, default 256
 * @param vae VAE name, only {@code 884-16c-hy} exists
 * @param vaePrecision VAE weight and compute dtype, default fp16
 * @param vaeTiling tiled VAE decoding (spatial and temporal), default on as in the original
 * @param textEncoder first text encoder, only {@code llm} (LLaVA-Llama-3) is supported
 * @param textEncoderPrecision LLM weight dtype, default fp16; it is also the dtype of the initial noise (spec §9.4)
 * @param textStatesDim LLM hidden width fed to the DiT, default 4096
 * @param textLen LLM tokens kept after the template crop, default 256
 * @param promptTemplate template for single-frame generation, default {@code dit-llm-encode}
 * @param promptTemplateVideo template for videos, default {@code dit-llm-encode-video}
 * @param hiddenStateSkipLayer LLM hidden state taken from the end ({@code hidden_states[-(skip+1)]}), default 2
 * @param applyFinalNorm apply the LLM's final RMSNorm to that hidden state, default off
 * @param textEncoder2 second text encoder, only {@code clipL} is supported
 * @param textEncoderPrecision2 CLIP weight dtype, default fp16
 * @param textStatesDim2 CLIP pooled width fed to the DiT, default 768
 * @param textLen2 CLIP max tokens, default 77
 * @param denoiseType only {@code flow}
 * @param flowShift default shift of the flow schedule, 7.0
 * @param flowReverse σ from 1 to 0 (default {@code true}, see above)
 * @param flowSolver only {@code euler}
 * @param embeddedCfgScale default distilled guidance scale fed to the DiT, 6.0 (becomes 6016 in bf16)
 * @param cfgScale default true classifier-free guidance scale, 1.0 (= off)
 * @param inferSteps default number of denoising steps, 50
 * @param ditWeight DiT checkpoint file or directory overriding the layout's default ({@code null} = from the layout)
 * @param loadKey key of the wrapper dict in the DiT checkpoint: {@code module} (default) or {@code ema}
 * @param useCpuOffload run the text encoders on the CPU, where their weights stay loaded, so that they never share
 *                      the device with the DiT (which always stays on the device, as in the original); they compute
 *                      in float32 there (half-precision matmuls are slow on CPUs) and their outputs are cast to
 *                      {@code textEncoderPrecision}/{@code textEncoderPrecision2}. Without it the encoders run on the
 *                      device and release their weights after each encoding
 * @param useFp8 use the FP8 DiT checkpoint ({@code mp_rank_00_model_states_fp8.pt} + its scale map)
 * @param disableAutocast the official flag; the Java modules always compute with their dtype policy (spec §15.14),
 *                        so this only records the request
 * @param device {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}
 * @param loadTextEncoders load the two text encoders (default); without them only
 *                         {@code HunyuanVideoSampler.predict(GenerationRequest, PromptEmbeddings, PromptEmbeddings,
 *                         ProgressListener, CancellationToken)} with precomputed embeddings works, and the text
 *                         encoder folders need not exist
 * @param ditConfig DiT hyperparameters overriding {@code model} and the diffusers {@code transformer/config.json}
 *                  ({@code null} = from those); for test and custom checkpoints
 * @param noiseDevice where the seeded generator draws the initial noise: {@code device} (default, the compute
 *                    device, as the original: CUDA noise on CUDA) or {@code cpu} (the same noise on every machine)
 * @param exactGuidance feed the embedded guidance as {@code g·1000} in float32 instead of rounding it to
 *                      {@code precision} like the original (6000 instead of 6016 for 6.0 in bf16); default off. Only
 *                      for comparing half-precision runs with float32 references
 */
public record SamplerConfig(
        String model,
        int latentChannels,
        Precision precision,
        double ropeTheta,
        String vae,
        Precision vaePrecision,
        boolean vaeTiling,
        String textEncoder,
        Precision textEncoderPrecision,
        int textStatesDim,
        int textLen,
        String promptTemplate,
        String promptTemplateVideo,
        int hiddenStateSkipLayer,
        boolean applyFinalNorm,
        String textEncoder2,
        Precision textEncoderPrecision2,
        int textStatesDim2,
        int textLen2,
        String denoiseType,
        double flowShift,
        boolean flowReverse,
        String flowSolver,
        double embeddedCfgScale,
        double cfgScale,
        int inferSteps,
        Path ditWeight,
        String loadKey,
        boolean useCpuOffload,
        boolean useFp8,
        boolean disableAutocast,
        String device,
        boolean loadTextEncoders,
        DitConfig ditConfig,
        String noiseDevice,
        boolean exactGuidance) {

    /** The DiT configurations of the original ({@code HUNYUAN_VIDEO_CONFIG}). */
    public static final Set<String> MODELS = Set.of("HYVideo-T/2-cfgdistill", "HYVideo-T/2");
    /** Template names of the original ({@code PROMPT_TEMPLATE}). */
    public static final Set<String> TEMPLATES = Set.of("dit-llm-encode", "dit-llm-encode-video");
    private static final Pattern VAE_NAME = Pattern.compile("\\d{2,3}-\\d{1,2}c-\\w+");
    private static final Pattern DEVICE = Pattern.compile("auto|cpu|cuda(:\\d+)?");

    public SamplerConfig {
        require("model", model);
        if (!MODELS.contains(model)) {
            throw bad("model", "'" + model + "' is not one of " + MODELS);
        }
        positive("latentChannels", latentChannels);
        require("precision", precision);
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) {
            throw bad("ropeTheta", "must be a finite number > 0, got " + ropeTheta);
        }
        require("vae", vae);
        if (!VAE_NAME.matcher(vae).matches()) {
            throw bad("vae", "'" + vae + "' does not look like a VAE name such as 884-16c-hy");
        }
        if (!vae.equals("884-16c-hy")) {
            throw bad("vae", "only 884-16c-hy exists, got '" + vae + "'");
        }
        require("vaePrecision", vaePrecision);
        require("textEncoder", textEncoder);
        if (!textEncoder.equals("llm")) {
            throw bad("textEncoder", "only 'llm' is supported as the first text encoder, got '" + textEncoder + "'");
        }
        require("textEncoderPrecision", textEncoderPrecision);
        positive("textStatesDim", textStatesDim);
        positive("textLen", textLen);
        template("promptTemplate", promptTemplate);
        template("promptTemplateVideo", promptTemplateVideo);
        if (hiddenStateSkipLayer < 0) {
            throw bad("hiddenStateSkipLayer", "must be >= 0, got " + hiddenStateSkipLayer);
        }
        require("textEncoder2", textEncoder2);
        if (!textEncoder2.equals("clipL")) {
            throw bad("textEncoder2", "only 'clipL' is supported as the second text encoder, got '" + textEncoder2
                    + "'");
        }
        require("textEncoderPrecision2", textEncoderPrecision2);
        positive("textStatesDim2", textStatesDim2);
        positive("textLen2", textLen2);
        if (!"flow".equals(denoiseType)) {
            throw bad("denoiseType", "only 'flow' is supported, got '" + denoiseType + "'");
        }
        if (!(flowShift > 0) || Double.isInfinite(flowShift)) {
            throw bad("flowShift", "must be a finite number > 0, got " + flowShift);
        }
        if (flowSolver == null || !flowSolver.equals("euler")) {
            throw bad("flowSolver", "only 'euler' is supported, got '" + flowSolver + "'");
        }
        finite("embeddedCfgScale", embeddedCfgScale);
        finite("cfgScale", cfgScale);
        positive("inferSteps", inferSteps);
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
        if (ditConfig != null && ditConfig.inChannels() != latentChannels) {
            throw bad("latentChannels", latentChannels + " does not match the ditConfig's in_channels "
                    + ditConfig.inChannels());
        }
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

    private static void positive(String name, int v) {
        if (v < 1) {
            throw bad(name, "must be >= 1, got " + v);
        }
    }

    private static void finite(String name, double v) {
        if (!Double.isFinite(v)) {
            throw bad(name, "must be a finite number, got " + v);
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
        private int latentChannels = 16;
        private Precision precision = Precision.BF16;
        private double ropeTheta = 256;
        private String vae = "884-16c-hy";
        private Precision vaePrecision = Precision.FP16;
        private boolean vaeTiling = true;
        private String textEncoder = "llm";
        private Precision textEncoderPrecision = Precision.FP16;
        private int textStatesDim = 4096;
        private int textLen = 256;
        private String promptTemplate = "dit-llm-encode";
        private String promptTemplateVideo = "dit-llm-encode-video";
        private int hiddenStateSkipLayer = 2;
        private boolean applyFinalNorm = false;
        private String textEncoder2 = "clipL";
        private Precision textEncoderPrecision2 = Precision.FP16;
        private int textStatesDim2 = 768;
        private int textLen2 = 77;
        private String denoiseType = "flow";
        private double flowShift = 7.0;
        private boolean flowReverse = true;
        private String flowSolver = "euler";
        private double embeddedCfgScale = 6.0;
        private double cfgScale = 1.0;
        private int inferSteps = 50;
        private Path ditWeight = null;
        private String loadKey = "module";
        private boolean useCpuOffload = false;
        private boolean useFp8 = false;
        private boolean disableAutocast = false;
        private String device = "auto";
        private boolean loadTextEncoders = true;
        private DitConfig ditConfig = null;
        private String noiseDevice = "device";
        private boolean exactGuidance = false;

        private Builder() {
        }

        private Builder(SamplerConfig c) {
            model = c.model;
            latentChannels = c.latentChannels;
            precision = c.precision;
            ropeTheta = c.ropeTheta;
            vae = c.vae;
            vaePrecision = c.vaePrecision;
            vaeTiling = c.vaeTiling;
            textEncoder = c.textEncoder;
            textEncoderPrecision = c.textEncoderPrecision;
            textStatesDim = c.textStatesDim;
            textLen = c.textLen;
            promptTemplate = c.promptTemplate;
            promptTemplateVideo = c.promptTemplateVideo;
            hiddenStateSkipLayer = c.hiddenStateSkipLayer;
            applyFinalNorm = c.applyFinalNorm;
            textEncoder2 = c.textEncoder2;
            textEncoderPrecision2 = c.textEncoderPrecision2;
            textStatesDim2 = c.textStatesDim2;
            textLen2 = c.textLen2;
            denoiseType = c.denoiseType;
            flowShift = c.flowShift;
            flowReverse = c.flowReverse;
            flowSolver = c.flowSolver;
            embeddedCfgScale = c.embeddedCfgScale;
            cfgScale = c.cfgScale;
            inferSteps = c.inferSteps;
            ditWeight = c.ditWeight;
            loadKey = c.loadKey;
            useCpuOffload = c.useCpuOffload;
            useFp8 = c.useFp8;
            disableAutocast = c.disableAutocast;
            device = c.device;
            loadTextEncoders = c.loadTextEncoders;
            ditConfig = c.ditConfig;
            noiseDevice = c.noiseDevice;
            exactGuidance = c.exactGuidance;
        }

        public Builder model(String v) {
            model = v;
            return this;
        }

        public Builder latentChannels(int v) {
            latentChannels = v;
            return this;
        }

        public Builder precision(Precision v) {
            precision = v;
            return this;
        }

        public Builder ropeTheta(double v) {
            ropeTheta = v;
            return this;
        }

        public Builder vae(String v) {
            vae = v;
            return this;
        }

        public Builder vaePrecision(Precision v) {
            vaePrecision = v;
            return this;
        }

        public Builder vaeTiling(boolean v) {
            vaeTiling = v;
            return this;
        }

        public Builder textEncoder(String v) {
            textEncoder = v;
            return this;
        }

        public Builder textEncoderPrecision(Precision v) {
            textEncoderPrecision = v;
            return this;
        }

        public Builder textStatesDim(int v) {
            textStatesDim = v;
            return this;
        }

        public Builder textLen(int v) {
            textLen = v;
            return this;
        }

        public Builder promptTemplate(String v) {
            promptTemplate = v;
            return this;
        }

        public Builder promptTemplateVideo(String v) {
            promptTemplateVideo = v;
            return this;
        }

        public Builder hiddenStateSkipLayer(int v) {
            hiddenStateSkipLayer = v;
            return this;
        }

        public Builder applyFinalNorm(boolean v) {
            applyFinalNorm = v;
            return this;
        }

        public Builder textEncoder2(String v) {
            textEncoder2 = v;
            return this;
        }

        public Builder textEncoderPrecision2(Precision v) {
            textEncoderPrecision2 = v;
            return this;
        }

        public Builder textStatesDim2(int v) {
            textStatesDim2 = v;
            return this;
        }

        public Builder textLen2(int v) {
            textLen2 = v;
            return this;
        }

        public Builder denoiseType(String v) {
            denoiseType = v;
            return this;
        }

        public Builder flowShift(double v) {
            flowShift = v;
            return this;
        }

        /** σ direction; keep the default {@code true} unless reproducing the official CLI without --flow-reverse. */
        public Builder flowReverse(boolean v) {
            flowReverse = v;
            return this;
        }

        public Builder flowSolver(String v) {
            flowSolver = v;
            return this;
        }

        public Builder embeddedCfgScale(double v) {
            embeddedCfgScale = v;
            return this;
        }

        public Builder cfgScale(double v) {
            cfgScale = v;
            return this;
        }

        public Builder inferSteps(int v) {
            inferSteps = v;
            return this;
        }

        /** DiT checkpoint file or directory; {@code null} uses the layout's default. */
        public Builder ditWeight(Path v) {
            ditWeight = v;
            return this;
        }

        public Builder loadKey(String v) {
            loadKey = v;
            return this;
        }

        public Builder useCpuOffload(boolean v) {
            useCpuOffload = v;
            return this;
        }

        public Builder useFp8(boolean v) {
            useFp8 = v;
            return this;
        }

        public Builder disableAutocast(boolean v) {
            disableAutocast = v;
            return this;
        }

        public Builder device(String v) {
            device = v;
            return this;
        }

        public Builder loadTextEncoders(boolean v) {
            loadTextEncoders = v;
            return this;
        }

        /** DiT hyperparameters overriding {@code model}; {@code null} (default) derives them from the layout. */
        public Builder ditConfig(DitConfig v) {
            ditConfig = v;
            return this;
        }

        /** {@code device} (default: the compute device, as the original) or {@code cpu}. */
        public Builder noiseDevice(String v) {
            noiseDevice = v;
            return this;
        }

        /** Guidance {@code g·1000} in float32 instead of the original's rounding to {@code precision}. */
        public Builder exactGuidance(boolean v) {
            exactGuidance = v;
            return this;
        }

        /** Validates and builds; throws {@link IllegalArgumentException} naming the first bad option. */
        public SamplerConfig build() {
            return new SamplerConfig(model, latentChannels, precision, ropeTheta, vae, vaePrecision, vaeTiling,
                    textEncoder, textEncoderPrecision, textStatesDim, textLen, promptTemplate, promptTemplateVideo,
                    hiddenStateSkipLayer, applyFinalNorm, textEncoder2, textEncoderPrecision2, textStatesDim2,
                    textLen2, denoiseType, flowShift, flowReverse, flowSolver, embeddedCfgScale, cfgScale,
                    inferSteps, ditWeight, loadKey, useCpuOffload, useFp8, disableAutocast, device, loadTextEncoders,
                    ditConfig, noiseDevice, exactGuidance);
        }
    }

    @Override
    public String toString() {
        return "SamplerConfig[model=" + model + ", precision=" + precision + ", vaePrecision=" + vaePrecision
                + ", textEncoderPrecision=" + textEncoderPrecision + ", flowShift=" + flowShift + ", flowReverse="
                + flowReverse + ", embeddedCfgScale=" + embeddedCfgScale + ", cfgScale=" + cfgScale
                + ", inferSteps=" + inferSteps + ", device=" + device + ", useCpuOffload=" + useCpuOffload
                + ", useFp8=" + useFp8 + ", vaeTiling=" + vaeTiling + ", ditWeight=" + Objects.toString(ditWeight)
                + "]";
    }
}
