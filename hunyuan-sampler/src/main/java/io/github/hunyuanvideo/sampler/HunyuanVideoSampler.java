package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.dit.Attention;
import io.github.hunyuanvideo.dit.DitCheckpoint;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.DitInputs;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.dit.LoraAdapter;
import io.github.hunyuanvideo.dit.LoraMerge;
import io.github.hunyuanvideo.dit.SequenceParallel;
import io.github.hunyuanvideo.dit.StepCache;
import io.github.hunyuanvideo.dit.StepCacheState;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.nn.CancelledException;
import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.MemorySize;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.parallel.Communicator;
import io.github.hunyuanvideo.nn.parallel.TensorBroadcast;
import io.github.hunyuanvideo.sampler.GenerationCancelledException.Stage;
import io.github.hunyuanvideo.sampler.scheduler.FlowMatchDiscreteScheduler;
import io.github.hunyuanvideo.text.ClipTextConfig;
import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.text.LlamaConfig;
import io.github.hunyuanvideo.vae.CausalVideoVae;
import io.github.hunyuanvideo.vae.FrameSink;
import io.github.hunyuanvideo.vae.TilingConfig;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

/**
 * HunyuanVideo text-to-video generation, mirroring the official {@code HunyuanVideoSampler}: load once with
 * {@link #fromPretrained(Path, SamplerConfig)} (or hand it models loaded by the application through
 * {@link #HunyuanVideoSampler(SamplerConfig, HunyuanVideoTransformer, CausalVideoVae, TextEncoders)}), then call
 * {@link #predict(GenerationRequest)} as often as needed.
 *
 * <p>One call runs the original's algorithm in order (see {@code docs/sampler.md}): prompt encoding by the LLM and
 * CLIP encoders ({@link TextEncoders}), the seeded initial noise ({@link InitialNoise}), the flow-matching Euler loop
 * ({@link FlowMatchDiscreteScheduler}, σ from 1 to 0) with the DiT, optional true classifier-free guidance
 * ({@code guidanceScale > 1}: batch [negative, positive]), and the VAE decode (tiled by default) mapped to [0, 1]:
 * returned whole in the {@link SamplerResult}, or handed to a {@link DecodedFrameSink} chunk by chunk as the VAE makes
 * the frames final, so the whole float32 video never exists.
 *
 * <p>Progress goes to a {@link ProgressListener}; a {@link CancellationToken} stops the call within one text-encoder
 * layer, denoising step or VAE tile with a {@link GenerationCancelledException} naming the stage. Stage times are
 * logged through SLF4J and returned in the result.
 *
 * <p>With a {@link SamplerConfig#communicator()} of N ranks, each process holds such a sampler and every rank calls
 * {@code predict} with the same request (see {@code docs/sampler.md}, "Several devices"). Under true CFG an even
 * number of ranks splits in two halves, one per branch ({@link CfgRanks}); the first such generation forms the two
 * sub-groups (a collective of every rank), which {@link #close()} leaves.
 *
 * <p>Thread-safe: concurrent predict calls run one after another, in arrival order (two generations at once would
 * break any device memory plan). A waiting call still honours its token: cancelled, it stops waiting with
 * {@link GenerationCancelledException.Stage#WAITING}. {@link #close()} waits for the running generation to finish
 * (cancel it first to make that quick); calls still waiting then, and calls made afterwards, fail with
 * {@link IllegalStateException}.
 */
public final class HunyuanVideoSampler implements AutoCloseable {
    /** The official default negative prompt, used for true CFG when none is given. */
    public static final String DEFAULT_NEGATIVE_PROMPT = "Aerial view, aerial view, overexposed, low quality, "
            + "deformation, a poor composition, bad hands, bad teeth, bad eyes, bad limbs, distortion";
    /** Pixels per side are rounded up to a multiple of this (the original's {@code align_to(…, 16)}). */
    public static final int SIZE_ALIGNMENT = 16;

    private static final Logger LOG = LoggerFactory.getLogger(HunyuanVideoSampler.class);
    private static final SecureRandom SEEDS = new SecureRandom();

    private final SamplerConfig config;
    private final Device device;
    private final DitConfig ditConfig;
    private final ScalarType ditDtype;
    private final VaeConfig vaeConfig;
    private final Velocity velocity;
    /** Latents to frames, asking the check between tiles ({@link CausalVideoVae#decode(Tensor, BooleanSupplier,
     * FrameSink)}). */
    private final FrameDecode decode;
    private final TextEncoders text;
    /** The ranks rendering each video together ({@link SamplerConfig#communicator()}). */
    private final Communicator group;
    /** The group's halves for true CFG, split at the first generation that needs them; null until then. */
    private CfgRanks cfgRanks;
    private final MemoryPlan memoryPlan;
    /** The CUDA allocator's limit before this sampler's budget replaced it, restored by {@link #close()}; 0: none. */
    private long allocatorLimitBefore;
    private final List<AutoCloseable> models;
    private final GenerationQueue generations = new GenerationQueue();

    /**
     * A sampler running the given models, which it owns from now on (closed by {@link #close}). The DiT's device is
     * the compute device; the VAE decodes with the tiling of {@link SamplerConfig#vaeTiling()}.
     *
     * @param config load-time options; only those that affect generation are read here (precisions and file
     *               options were the caller's business)
     * @param text   both text encoders, or {@code null} to generate only from precomputed {@link PromptEmbeddings}
     * @throws IllegalArgumentException if the models do not fit together (latent channels, text widths)
     */
    public HunyuanVideoSampler(SamplerConfig config, HunyuanVideoTransformer dit, CausalVideoVae vae,
                               TextEncoders text) {
        this(config, dit, vae, text, MemoryPlan.unbudgeted(dit.config().doubleBlocks() + dit.config().singleBlocks(),
                text == null ? MemoryPlan.TextPlacement.NONE : textPlacement(config), 0,
                config.vaeTiling() ? TilingConfig.of(vae.config()) : TilingConfig.disabled(), vae.streamed()));
    }

    /** The sampler over loaded models, decoding with the plan's VAE tiling; requests are checked against the plan. */
    private HunyuanVideoSampler(SamplerConfig config, HunyuanVideoTransformer dit, CausalVideoVae vae,
                                TextEncoders text, MemoryPlan plan) {
        this(config, dit.device(), dit.config(), dit.dtype(), vae.config(),
                (DitInputs in, StepCacheState cache, Communicator ranks) -> {
                    dit.setSequenceParallel(ranks);
                    return dit.forward(in, cache);
                },
                (FrameDecode) (latents, cancelled, sink) -> vae.decode(latents, cancelled, sink,
                        config.communicator()), text,
                text == null ? List.of(dit, vae) : List.of(dit, vae, text), plan);
        vae.setTiling(plan.vaeTiling());
    }

    /**
     * The sampler over any velocity and decode functions (the loop's tests replay recorded outputs through it).
     * {@code velocity} runs one step of the DiT as the next step of the generation's step cache state (a stand-in may
     * ignore the state: every step then counts as computed); {@code decode} gets the latents and the cancellation
     * check and stops with a {@code CancelledException} when the check fires, as
     * {@link CausalVideoVae#decode(Tensor, BooleanSupplier)} does.
     */
    HunyuanVideoSampler(SamplerConfig config, Device device, DitConfig ditConfig, ScalarType ditDtype,
                        VaeConfig vaeConfig, BiFunction<DitInputs, StepCacheState, Tensor> velocity,
                        BiFunction<Tensor, BooleanSupplier, Tensor> decode, TextEncoders text,
                        List<AutoCloseable> models) {
        this(config, device, ditConfig, ditDtype, vaeConfig, velocity, decode, text, models,
                MemoryPlan.unbudgeted(ditConfig.doubleBlocks() + ditConfig.singleBlocks(),
                        text == null ? MemoryPlan.TextPlacement.NONE : MemoryPlan.TextPlacement.DEVICE, 0,
                        TilingConfig.of(vaeConfig), false));
    }

    /** {@link #HunyuanVideoSampler(SamplerConfig, Device, DitConfig, ScalarType, VaeConfig, BiFunction, BiFunction,
     * TextEncoders, List)} under {@code memoryPlan}, which requests are checked against. */
    HunyuanVideoSampler(SamplerConfig config, Device device, DitConfig ditConfig, ScalarType ditDtype,
                        VaeConfig vaeConfig, BiFunction<DitInputs, StepCacheState, Tensor> velocity,
                        BiFunction<Tensor, BooleanSupplier, Tensor> decode, TextEncoders text,
                        List<AutoCloseable> models, MemoryPlan memoryPlan) {
        // the whole video as one chunk, as the VAE hands it out when it does not tile in time
        this(config, device, ditConfig, ditDtype, vaeConfig,
                (Velocity) (in, cache, ranks) -> velocity.apply(in, cache),
                (FrameDecode) (latents, cancelled, sink) -> sink.accept(decode.apply(latents, cancelled), 0), text,
                models, memoryPlan);
    }

    /** The sampler over any velocity function and a decode that hands the frames to a sink as they become final. */
    private HunyuanVideoSampler(SamplerConfig config, Device device, DitConfig ditConfig, ScalarType ditDtype,
                                VaeConfig vaeConfig, Velocity velocity, FrameDecode decode, TextEncoders text, List<AutoCloseable> models,
                                MemoryPlan memoryPlan) {
        if (ditConfig.inChannels() != vaeConfig.latentChannels()) {
            throw new IllegalArgumentException("vae: the VAE has " + vaeConfig.latentChannels()
                    + " latent channels but the DiT takes " + ditConfig.inChannels());
        }
        if (text != null && text.statesDim() != ditConfig.textStatesDim()) {
            throw new IllegalArgumentException("textEncoder: the LLM states have width " + text.statesDim()
                    + " but the DiT reads " + ditConfig.textStatesDim());
        }
        if (text != null && text.pooledDim() != ditConfig.textStatesDim2()) {
            throw new IllegalArgumentException("textEncoder2: the CLIP pooled output has width " + text.pooledDim()
                    + " but the DiT reads " + ditConfig.textStatesDim2());
        }
        this.config = config;
        this.device = new Device(device.type(), device.index());
        this.ditConfig = ditConfig;
        this.ditDtype = ditDtype.intern();
        this.vaeConfig = vaeConfig;
        this.velocity = velocity;
        this.decode = decode;
        this.text = text;
        this.group = config.communicator();
        this.memoryPlan = memoryPlan;
        this.models = models;
        // Outlives any PointerScope the caller built the sampler in; released in close().
        this.device.retainReference();
    }

    /**
     * Loads the sampler from a model folder in the official {@code ckpts/} layout or the diffusers layout
     * ({@link CheckpointLayout}). Everything {@link #check} checks comes first, so a missing file or a text length
     * the text encoders cannot take fails before anything is loaded; model dimensions come from the checkpoint's
     * configs (or {@link SamplerConfig#model()} for the official layout). Under a
     * {@link SamplerConfig#deviceMemoryBudget()} the memory plan ({@link #planMemory}, then {@link #memoryPlan()})
     * is made next, still before any weight loads, and the budget becomes the CUDA caching allocator's limit.
     *
     * @param modelBase the model folder ({@code ckpts})
     * @param config load-time options
     * @throws MissingCheckpointException listing every missing or unreadable file with what was expected there
     * @throws IOException if a checkpoint cannot be read
     * @throws IllegalArgumentException naming the option or file that does not fit, if the device is not available,
     *                                  or (starting with {@code deviceMemoryBudget:}) if no plan fits the budget
     */
    public static HunyuanVideoSampler fromPretrained(Path modelBase, SamplerConfig config) throws IOException {
        CheckpointLayout layout = checkedLayout(modelBase, config);
        Device device = resolveDevice(config.device());
        LOG.info("loading HunyuanVideo from {} ({} layout) on {}: {}", modelBase, layout.kind(),
                device.str().getString(), config);
        long t0 = System.nanoTime();
        DitConfig ditConfig = ditConfig(layout, config);
        checkRanks(config, ditConfig);
        VaeConfig vaeConfig = VaeConfig.fromJson(layout.vaeConfig());
        if (vaeConfig.latentChannels() != ditConfig.inChannels()) {
            throw new IllegalArgumentException("vae: " + layout.vaeConfig() + " has " + vaeConfig.latentChannels()
                    + " latent channels but the DiT takes " + ditConfig.inChannels());
        }
        MemoryPlan plan = memoryPlan(layout, config, ditConfig, vaeConfig);
        LOG.info("{}", plan.describe());
        List<AutoCloseable> loaded = new ArrayList<>();
        List<LoraAdapter> adapters = new ArrayList<>();
        long limitBefore = 0;
        try {
            // LoRA files are read and resolved onto the DiT before any model loads, so their errors come first.
            LoraMerge loras = loras(config, ditConfig, adapters);
            limitBefore = capAllocator(plan);
            // Text encoders first: they are used (and released) first, so the DiT never waits for their memory.
            // only rank 0 encodes prompts
            TextEncoders text = config.loadTextEncoders() && config.communicator().rank() == 0
                    ? add(loaded, TextEncoders.load(layout, config, device,
                    new LayerStreaming(plan.streamedLlmLayers(), 1))) : null;
            HunyuanVideoTransformer dit = add(loaded, loadDit(layout, config, ditConfig, device, loras,
                    new LayerStreaming(plan.streamedBlocks(), plan.prefetchDepth())));
            CausalVideoVae vae = add(loaded, loadVae(layout, vaeConfig, config, device));
            HunyuanVideoSampler sampler = new HunyuanVideoSampler(config, dit, vae, text, plan);
            sampler.allocatorLimitBefore = limitBefore;
            LOG.info("models loaded in {}", seconds(System.nanoTime() - t0));
            return sampler;
        } catch (IOException | RuntimeException e) {
            for (AutoCloseable c : loaded) {
                try {
                    c.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            restoreAllocator(limitBefore);
            throw e;
        } finally {
            // merged into the DiT's weights: the files are no longer needed
            adapters.forEach(LoraAdapter::close);
        }
    }

    /**
     * What {@link #fromPretrained} checks before it loads anything, reading only folder entries and the text
     * encoders' {@code config.json}: every file of the folder's layout, and {@code textLen} (plus the template crop),
     * {@code textLen2} and {@code hiddenStateSkipLayer} against the text encoders' limits.
     *
     * @throws MissingCheckpointException listing every missing or unreadable file with what was expected there
     * @throws IllegalArgumentException naming the option that does not fit the model and the model's limit
     */
    public static void check(Path modelBase, SamplerConfig config) throws MissingCheckpointException {
        checkedLayout(modelBase, config);
    }

    /**
     * Checks that {@code ranks} ranks (one process per device) can share the DiT of the model folder, reading only its
     * configuration: the number must divide its attention heads ({@link SequenceParallel#check}), as
     * {@link #fromPretrained} checks for its {@link SamplerConfig#communicator()} before it loads anything.
     *
     * @throws MissingCheckpointException if the folder lacks a file of its layout
     * @throws IOException if the DiT's configuration cannot be read
     * @throws IllegalArgumentException naming the numbers of ranks that work
     */
    public static void checkRanks(Path modelBase, SamplerConfig config, int ranks) throws IOException {
        SequenceParallel.check(ditConfig(CheckpointLayout.resolve(modelBase, config), config), ranks);
    }

    private static CheckpointLayout checkedLayout(Path modelBase, SamplerConfig config)
            throws MissingCheckpointException {
        CheckpointLayout layout = CheckpointLayout.resolve(modelBase, config);
        if (config.loadTextEncoders()) {
            TextEncoders.checkFits(layout, config);
        }
        return layout;
    }

    /**
     * The memory plan of {@code config} for the model folder {@code layout}: {@link MemoryPlan#unbudgeted} without a
     * budget or off CUDA, otherwise {@link #planMemory}'s from the models' configurations (read before any weight).
     *
     * @throws IllegalArgumentException starting with {@code deviceMemoryBudget:} if no plan fits the budget
     */
    private static MemoryPlan memoryPlan(CheckpointLayout layout, SamplerConfig config, DitConfig ditConfig,
                                         VaeConfig vaeConfig) {
        boolean textOnDevice = textPlacement(config) == MemoryPlan.TextPlacement.DEVICE;
        return planMemory(config, ditConfig, vaeConfig,
                textOnDevice ? LlamaConfig.read(layout.textEncoderDir().resolve("config.json")) : null,
                textOnDevice ? ClipTextConfig.read(layout.textEncoder2Dir().resolve("config.json")) : null);
    }

    /**
     * The device-memory plan {@code fromPretrained} makes for models of these configurations under {@code config}'s
     * budget, for its largest request, before anything loads: {@link MemoryPlan#unbudgeted} without a budget or when
     * the device is not CUDA.
     *
     * @param llm  the LLM's configuration when the text encoders run on the device, else {@code null}
     * @param clip CLIP's, likewise
     * @throws IllegalArgumentException starting with {@code deviceMemoryBudget:}, naming the smallest budget that
     *                                  works, if no plan fits the budget
     */
    public static MemoryPlan planMemory(SamplerConfig config, DitConfig ditConfig, VaeConfig vaeConfig,
                                        LlamaConfig llm, ClipTextConfig clip) {
        MemoryPlan.TextPlacement text = textPlacement(config);
        Device device = resolveDevice(config.device());
        boolean textOnDevice = text == MemoryPlan.TextPlacement.DEVICE && llm != null && clip != null;
        if (config.deviceMemoryBudget() > 0 && !device.is_cuda()) {
            LOG.warn("deviceMemoryBudget {} has no effect: device {} resolved to {}",
                    MemorySize.format(config.deviceMemoryBudget()), config.device(), device.str().getString());
        }
        if (config.deviceMemoryBudget() == 0 || !device.is_cuda()) {
            // with CPU offload every LLM layer streams, budget or not
            int llmStreamed = textOnDevice && config.useCpuOffload()
                    ? TextEncoders.llmOptions(config).layersToRun(llm.numLayers()) : 0;
            return MemoryPlan.unbudgeted(ditConfig.doubleBlocks() + ditConfig.singleBlocks(), text, llmStreamed,
                    config.vaeTiling() ? TilingConfig.of(vaeConfig) : TilingConfig.disabled(), config.useCpuOffload());
        }
        return MemoryPlanner.plan(config.deviceMemoryBudget(), CudaMemory.freeBytes(), config.largestRequest(),
                MemoryPlanner.sizes(config, ditConfig, vaeConfig, textOnDevice ? llm : null,
                        textOnDevice ? clip : null), text, config.prefetchDepth(), config.useCpuOffload());
    }

    /** Where {@code config} runs the text encoders. */
    private static MemoryPlan.TextPlacement textPlacement(SamplerConfig config) {
        return !config.loadTextEncoders() ? MemoryPlan.TextPlacement.NONE
                : config.textEncodersOnCpu() ? MemoryPlan.TextPlacement.CPU : MemoryPlan.TextPlacement.DEVICE;
    }

    /**
     * Makes a budget the CUDA caching allocator's hard limit for this process, so that overrunning it fails with an
     * out-of-memory error instead of taking more; returns the limit before (0: none was changed), which
     * {@link #close()} restores.
     */
    private static long capAllocator(MemoryPlan plan) {
        if (!plan.budgeted()) {
            return 0;
        }
        long before = CudaMemory.limit();
        CudaMemory.limitTo(Math.min(plan.budget(), CudaMemory.totalBytes()));
        return before;
    }

    /** Puts back the allocator limit {@link #capAllocator} replaced (nothing for 0). */
    private static void restoreAllocator(long before) {
        if (before > 0) {
            CudaMemory.limitTo(before);
        }
    }

    /** The memory plan this sampler runs under ({@link MemoryPlan#unbudgeted} without a budget). */
    public MemoryPlan memoryPlan() {
        return memoryPlan;
    }

    private static <T extends AutoCloseable> T add(List<AutoCloseable> loaded, T model) {
        loaded.add(model);
        return model;
    }

    /**
     * Refuses a communicator whose ranks cannot split the DiT's attention heads, before anything loads.
     *
     * @throws IllegalArgumentException starting with {@code communicator:}
     */
    private static void checkRanks(SamplerConfig config, DitConfig ditConfig) {
        try {
            SequenceParallel.check(ditConfig, config.communicator().worldSize());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("communicator: " + e.getMessage(), e);
        }
    }

    /** The DiT configuration: the explicit override, the diffusers config.json, or the named official one. */
    static DitConfig ditConfig(CheckpointLayout layout, SamplerConfig config) throws IOException {
        if (config.ditConfig() != null) {
            return config.ditConfig();
        }
        if (layout.ditConfig() != null) {
            return DitConfig.fromDiffusersJson(layout.ditConfig());
        }
        return DitConfig.byName(config.model());
    }

    /**
     * The LoRA adapters of {@code config}, opened into {@code adapters} (closed by the caller) and resolved onto the
     * weights of a DiT of {@code ditConfig}.
     *
     * @throws IOException              starting with {@code lora:}, if a file cannot be read
     * @throws IllegalArgumentException starting with {@code lora:} and the file, if it is no LoRA of this DiT
     */
    private static LoraMerge loras(SamplerConfig config, DitConfig ditConfig, List<LoraAdapter> adapters)
            throws IOException {
        try {
            for (SamplerConfig.Lora lora : config.loras()) {
                adapters.add(LoraAdapter.read(lora.path(), lora.scale()));
            }
            return LoraMerge.of(ditConfig, adapters, config.loraIgnoreUnmatched());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("lora: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IOException("lora: " + e.getMessage(), e);
        }
    }

    /**
     * The DiT of {@code layout} in {@link SamplerConfig#precision()}, FP8 with {@link SamplerConfig#useFp8()}, with
     * {@code loras} merged and the blocks {@code streaming} names streamed from host memory.
     */
    private static HunyuanVideoTransformer loadDit(CheckpointLayout layout, SamplerConfig config, DitConfig ditConfig,
                                                   Device device, LoraMerge loras, LayerStreaming streaming)
            throws IOException {
        ScalarType dtype = config.precision().scalarType();
        try {
            return config.useFp8()
                    ? DitCheckpoint.loadFp8(layout.ditWeights(), layout.ditFp8Map(), ditConfig, device, dtype,
                    config.loadKey(), loras, streaming)
                    : DitCheckpoint.load(layout.ditWeights(), ditConfig, device, dtype, config.loadKey(), loras,
                    streaming);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("ditWeight: " + e.getMessage(), e);
        }
    }

    /** The VAE of {@code layout} in {@link SamplerConfig#vaePrecision()}, streamed from host memory with CPU offload. */
    private static CausalVideoVae loadVae(CheckpointLayout layout, VaeConfig vaeConfig, SamplerConfig config,
                                          Device device) throws IOException {
        try (Weights w = Weights.open(layout.vaeWeights())) {
            return CausalVideoVae.load(w, vaeConfig, device, config.vaePrecision().scalarType(),
                    config.useCpuOffload());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("vae: " + layout.vaeWeights() + ": " + e.getMessage(), e);
        }
    }

    /**
     * A sampler whose DiT and VAE have seeded random weights made directly on the device, without any file: for
     * benchmarks and smoke tests at any size. It has no text encoders; generate with
     * {@link #predict(GenerationRequest, PromptEmbeddings, PromptEmbeddings, ProgressListener, CancellationToken)}.
     *
     * @param config device, precisions (FP8 block weights with {@code useFp8}), tiling and memory budget
     *               ({@code loadTextEncoders} is ignored: the plan counts no text encoder)
     * @param ditConfig the DiT's hyperparameters (e.g. {@link DitConfig#cfgDistill()})
     * @param vaeConfig the VAE's (e.g. {@link VaeConfig#official()})
     */
    public static HunyuanVideoSampler withRandomWeights(SamplerConfig config, DitConfig ditConfig,
                                                        VaeConfig vaeConfig, long seed) {
        return withRandomWeights(config, ditConfig, vaeConfig, seed, planMemory(config.toBuilder()
                .loadTextEncoders(false).build(), ditConfig, vaeConfig, null, null));
    }

    /**
     * {@link #withRandomWeights(SamplerConfig, DitConfig, VaeConfig, long)} under {@code plan} (from
     * {@link #planMemory}, e.g. counting text encoders the caller runs itself): its DiT blocks streamed, its VAE
     * tiling, its budget as the allocator's limit.
     */
    public static HunyuanVideoSampler withRandomWeights(SamplerConfig config, DitConfig ditConfig,
                                                        VaeConfig vaeConfig, long seed, MemoryPlan plan) {
        Device device = resolveDevice(config.device());
        checkRanks(config, ditConfig);
        LOG.info("{}", plan.describe());
        long limitBefore = capAllocator(plan);
        HunyuanVideoTransformer dit = null;
        try {
            dit = HunyuanVideoTransformer.randomInit(ditConfig, device, config.precision().scalarType(), seed,
                    new LayerStreaming(plan.streamedBlocks(), plan.prefetchDepth()), config.useFp8());
            HunyuanVideoSampler sampler = new HunyuanVideoSampler(config, dit, CausalVideoVae.withRandomWeights(
                    vaeConfig, device, config.vaePrecision().scalarType(), seed + 1, config.useCpuOffload()), null,
                    plan);
            sampler.allocatorLimitBefore = limitBefore;
            return sampler;
        } catch (RuntimeException e) {
            if (dit != null) {
                dit.close();
            }
            restoreAllocator(limitBefore);
            throw e;
        }
    }

    /** The configuration this sampler was loaded with. */
    public SamplerConfig config() {
        return config;
    }

    /** The compute device. */
    public Device device() {
        return device;
    }

    /** A request builder with the official defaults ({@link GenerationRequest#builder(String)}). */
    public GenerationRequest.Builder request(String prompt) {
        return GenerationRequest.builder(prompt);
    }

    /** Generates with no progress reporting and no cancellation. */
    public SamplerResult predict(GenerationRequest request) {
        return predict(request, ProgressListener.NONE, CancellationToken.NONE);
    }

    /**
     * The official {@code predict} signature ({@code seed} {@code null} = random seeds, {@code negativePrompt}
     * {@code null} = the default one).
     */
    public SamplerResult predict(String prompt, int height, int width, int videoLength, Long seed,
                                 String negativePrompt, int inferSteps, double guidanceScale, int numVideosPerPrompt,
                                 double flowShift, int batchSize, double embeddedGuidanceScale) {
        return predict(new GenerationRequest(prompt, height, width, videoLength, seed, null, negativePrompt,
                inferSteps, guidanceScale, numVideosPerPrompt, flowShift, batchSize, embeddedGuidanceScale,
                StepCache.none()));
    }

    /**
     * Generates the videos of {@code request}: encodes the prompt (and the negative prompt under true CFG), then
     * denoises and decodes. Waits while another generation runs on this sampler (see the class documentation).
     *
     * @throws IllegalArgumentException naming the argument if the request does not fit the model (before waiting)
     * @throws IllegalStateException if the sampler was loaded without text encoders, or is closed
     * @throws GenerationCancelledException if {@code cancel} was cancelled, naming the stage it stopped in
     */
    public SamplerResult predict(GenerationRequest request, ProgressListener listener, CancellationToken cancel) {
        return withVideos(sink -> predict(request, listener, cancel, sink));
    }

    /**
     * As {@link #predict(GenerationRequest, ProgressListener, CancellationToken)}, but hands the decoded frames to
     * {@code sink} chunk by chunk as soon as each is final (one chunk per temporal VAE tile), mapped to [0, 1] exactly
     * as the videos of that call, instead of returning them: the whole float32 video never exists. The result holds
     * everything else ({@link SamplerResult#hasVideos()} is false); its decoding time includes the sink's.
     *
     * @throws IOException what the sink threw; the generation stops there
     * @throws IllegalArgumentException naming the argument if the request does not fit the model (before waiting)
     * @throws IllegalStateException if the sampler was loaded without text encoders, or is closed
     * @throws GenerationCancelledException if {@code cancel} was cancelled, naming the stage it stopped in (between
     *                                      two chunks: {@link GenerationCancelledException.Stage#VAE_DECODING})
     */
    public SamplerResult predict(GenerationRequest request, ProgressListener listener, CancellationToken cancel,
                                 DecodedFrameSink sink) throws IOException {
        Objects.requireNonNull(sink, "sink");
        // the other ranks get rank 0's embeddings
        if (text == null && group.rank() == 0) {
            throw new IllegalStateException("this sampler was made without text encoders (loadTextEncoders=false): "
                    + "pass precomputed PromptEmbeddings to predict");
        }
        Plan plan = plan(request);
        generations.enter(cancel);
        List<PromptEmbeddings> encoded = new ArrayList<>();
        try {
            CudaMemory.resetPeak();
            long t0 = System.nanoTime();
            listener.onStage(Stage.TEXT_ENCODING.id());
            // before the encoders load their weights, which the layer checks come after
            cancel.throwIfCancelled(Stage.TEXT_ENCODING, "before it started");
            List<String> texts = new ArrayList<>();
            texts.add(plan.prompt);
            if (request.doClassifierFreeGuidance()) {
                texts.add(plan.negativePrompt);
            }
            if (group.rank() != 0) {
                return generate(request, plan, null, null, listener, cancel, Duration.ZERO, t0, sink);
            }
            encoded.addAll(text.encode(texts, request.videoLength(), cancel));
            CudaMemory.synchronize();
            Duration textTime = Duration.ofNanos(System.nanoTime() - t0);
            LOG.info("text encoding: {}", seconds(textTime.toNanos()));
            PromptEmbeddings negative = request.doClassifierFreeGuidance() ? encoded.get(1) : null;
            return generate(request, plan, encoded.get(0), negative, listener, cancel, textTime, t0, sink);
        } finally {
            encoded.forEach(TextEncoders::release);
            generations.leave();
        }
    }

    /**
     * Generates from precomputed text conditioning (what the text encoders would return for the prompt). The
     * request's prompt is only recorded in the result. Waits while another generation runs on this sampler.
     *
     * @param positive the prompt's embeddings
     * @param negative the negative prompt's embeddings; required when {@code request.guidanceScale() > 1}, ignored
     *                 otherwise
     * @throws IllegalArgumentException naming the argument if an embedding does not fit the model or is missing
     *                                  (before waiting)
     * @throws IllegalStateException if the sampler is closed
     * @throws GenerationCancelledException if {@code cancel} was cancelled, naming the stage it stopped in
     */
    public SamplerResult predict(GenerationRequest request, PromptEmbeddings positive, PromptEmbeddings negative,
                                 ProgressListener listener, CancellationToken cancel) {
        return withVideos(sink -> predict(request, positive, negative, listener, cancel, sink));
    }

    /**
     * As {@link #predict(GenerationRequest, PromptEmbeddings, PromptEmbeddings, ProgressListener, CancellationToken)},
     * but hands the decoded frames to {@code sink} as
     * {@link #predict(GenerationRequest, ProgressListener, CancellationToken, DecodedFrameSink)} does.
     *
     * @throws IOException what the sink threw; the generation stops there
     * @throws IllegalArgumentException naming the argument if an embedding does not fit the model or is missing
     *                                  (before waiting)
     * @throws IllegalStateException if the sampler is closed
     * @throws GenerationCancelledException if {@code cancel} was cancelled, naming the stage it stopped in
     */
    public SamplerResult predict(GenerationRequest request, PromptEmbeddings positive, PromptEmbeddings negative,
                                 ProgressListener listener, CancellationToken cancel, DecodedFrameSink sink)
            throws IOException {
        Objects.requireNonNull(sink, "sink");
        if (positive == null) {
            throw new IllegalArgumentException("positive: prompt embeddings are required");
        }
        if (request.doClassifierFreeGuidance() && negative == null) {
            throw new IllegalArgumentException("negative: guidanceScale " + request.guidanceScale()
                    + " > 1 runs true CFG and needs the negative prompt's embeddings");
        }
        PromptEmbeddings used = request.doClassifierFreeGuidance() ? negative : null;
        checkEmbeddings("positive", positive);
        if (used != null) {
            checkEmbeddings("negative", used);
        }
        Plan plan = plan(request);
        generations.enter(cancel);
        try {
            CudaMemory.resetPeak();
            return generate(request, plan, positive, used, listener, cancel, Duration.ZERO, System.nanoTime(), sink);
        } finally {
            generations.leave();
        }
    }

    /** A streaming predict call, given the sink. */
    @FunctionalInterface
    private interface StreamedCall {
        SamplerResult run(DecodedFrameSink sink) throws IOException;
    }

    /** Runs {@code call} into a {@link VideoAssembler} and returns its result holding the assembled videos. */
    private static SamplerResult withVideos(StreamedCall call) {
        try (VideoAssembler videos = new VideoAssembler()) {
            return call.run(videos).withVideos(videos.take());
        } catch (IOException e) {
            throw new AssertionError("the assembler throws no IOException", e);
        }
    }

    /** Everything about a request that is fixed before the first tensor op. */
    private record Plan(String prompt, String negativePrompt, int height, int width, long[] latentShape,
                        List<Long> seeds) {
        Plan withSeeds(List<Long> s) {
            return new Plan(prompt, negativePrompt, height, width, latentShape, s);
        }
    }

    /** Rank 0's seeds on every rank (random seeds differ between processes). */
    private List<Long> sharedSeeds(List<Long> seeds) {
        if (group.worldSize() == 1) {
            return seeds;
        }
        try (PointerScope scope = new PointerScope()) {
            long[] values = seeds.stream().mapToLong(Long::longValue).toArray();
            Tensor shared = TensorBroadcast.fromRank(group, 0, Tensors.fromLongs(values, values.length).to(device,
                    ScalarType.Long), 1, device);
            return Arrays.stream(Tensors.toLongArray(shared.cpu())).boxed().toList();
        }
    }

    private Plan plan(GenerationRequest r) {
        int h = r.targetHeight();
        int w = r.targetWidth();
        // the pipeline's vae_scale_factor: 2^(len(block_out_channels) - 1)
        int spatial = 1 << (vaeConfig.blocks() - 1);
        int temporal = vaeConfig.timeCompressionRatio();
        int[] patch = ditConfig.patchSize().stream().mapToInt(Integer::intValue).toArray();
        if (h / spatial % patch[1] != 0 || w / spatial % patch[2] != 0) {
            throw new IllegalArgumentException("height/width: " + h + "x" + w + " gives a latent grid "
                    + h / spatial + "x" + w / spatial + " not divisible by the DiT patch " + patch[1] + "x" + patch[2]);
        }
        long lt = (r.videoLength() - 1) / temporal + 1;
        long lh = h / spatial;
        long lw = w / spatial;
        if (lt % patch[0] != 0) {
            throw new IllegalArgumentException("videoLength: " + r.videoLength() + " gives " + lt
                    + " latent frames, not divisible by the DiT's temporal patch " + patch[0]);
        }
        long tokens = lt / patch[0] * (lh / patch[1]) * (lw / patch[2]);
        long elements = (long) r.numVideosPerPrompt() * ditConfig.inChannels() * lt * lh * lw;
        if (tokens > Integer.MAX_VALUE || elements > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("height/width/videoLength/numVideosPerPrompt: " + r.numVideosPerPrompt()
                    + " video(s) of " + h + "x" + w + "x" + r.videoLength() + " need " + tokens + " image tokens and "
                    + elements + " latent values, too large for the latent grid (max " + Integer.MAX_VALUE + ")");
        }
        if (group.worldSize() > 1 && r.stepCache().kind() != StepCache.Kind.NONE) {
            throw new IllegalArgumentException("stepCache: " + r.stepCache() + " is not supported on "
                    + group.worldSize() + " ranks (sequence parallelism)");
        }
        checkFitsMemoryPlan(r, h, w, new long[]{(long) r.numVideosPerPrompt()
                * (r.doClassifierFreeGuidance() ? 2 : 1), ditConfig.inChannels(), lt, lh, lw});
        String prompt = r.prompt().strip();
        String negative = "";
        if (r.doClassifierFreeGuidance()) {
            negative = r.negativePrompt() == null || r.negativePrompt().isBlank() ? DEFAULT_NEGATIVE_PROMPT
                    : r.negativePrompt().strip();
        }
        List<Long> seeds = seeds(r);
        return new Plan(prompt, negative, h, w, new long[]{1, ditConfig.inChannels(), lt, lh, lw}, seeds);
    }

    /**
     * Under a budget, refuses a request larger than the one the memory plan was made for, and a step cache whose
     * stored tensors do not fit next to the plan's denoising peak.
     *
     * @param ditLatents the DiT's input shape for this request (batch doubled under true CFG)
     */
    private void checkFitsMemoryPlan(GenerationRequest r, int h, int w, long[] ditLatents) {
        if (!memoryPlan.budgeted()) {
            return;
        }
        RequestSize largest = memoryPlan.largestRequest();
        if (!largest.covers(h, w, r.videoLength(), (int) ditLatents[0])) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "height/width/videoLength/"
                            + "numVideosPerPrompt: %dx%dx%d with a DiT batch of %d is larger than the %s the memory "
                            + "plan of deviceMemoryBudget %s was made for; load the sampler with a larger "
                            + "SamplerConfig.largestRequest", h, w, r.videoLength(), ditLatents[0], largest,
                    MemorySize.format(memoryPlan.budget())));
        }
        long stored = r.stepCache().storedBytes(ditConfig, ditLatents, ditDtype);
        long headroom = memoryPlan.usable() - memoryPlan.denoisePeak();
        if (stored > headroom) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "stepCache: %s keeps %s of residuals, more "
                            + "than the %s the memory plan of deviceMemoryBudget %s leaves next to a denoising step",
                    r.stepCache(), MemorySize.format(stored),
                    MemorySize.format(Math.max(0, headroom)),
                    MemorySize.format(memoryPlan.budget())));
        }
    }

    /** Seeds as the original's {@code predict}, with batch size 1. */
    static List<Long> seeds(GenerationRequest r) {
        int n = r.numVideosPerPrompt();
        if (!r.seeds().isEmpty() && r.seeds().size() != r.batchSize()) {
            return r.seeds(); // one seed per video, used as given
        }
        List<Long> out = new ArrayList<>(n);
        Long base = r.seeds().isEmpty() ? r.seed() : r.seeds().get(0);
        for (int i = 0; i < n; i++) {
            out.add(base != null ? base + i : (long) SEEDS.nextInt(1_000_001));
        }
        return out;
    }

    /**
     * Denoises and decodes; {@code positive} and {@code negative} are read on rank 0 only (the other ranks may pass
     * {@code null}), which shares them and its seeds with the other ranks. Only rank 0 reports to {@code listener}
     * and writes into {@code sink}.
     */
    private SamplerResult generate(GenerationRequest r, Plan requestPlan, PromptEmbeddings positive,
                                   PromptEmbeddings negative, ProgressListener progress, CancellationToken cancel,
                                   Duration textTime, long t0, DecodedFrameSink sink) throws IOException {
        int n = r.numVideosPerPrompt();
        boolean cfg = r.doClassifierFreeGuidance();
        boolean writes = group.rank() == 0;
        ProgressListener listener = writes ? progress : ProgressListener.NONE;
        Plan plan = requestPlan.withSeeds(sharedSeeds(requestPlan.seeds));
        LOG.info("generating {} video(s) {}x{}x{}, {} steps, shift {}, embedded guidance {}, cfg {}, seeds {}, "
                        + "step cache {}, attention {}", n, plan.height, plan.width, r.videoLength(), r.inferSteps(),
                r.flowShift(), r.embeddedGuidanceScale(), r.guidanceScale(), plan.seeds, r.stepCache(),
                attentionSummary(r.inferSteps()));
        Tensor latents = null;
        List<Duration> stepTimes = new ArrayList<>();
        List<Boolean> computedSteps = new ArrayList<>();
        Duration denoiseTime;
        Duration decodeTime;
        try (InferenceMode guard = new InferenceMode()) {
            FlowMatchDiscreteScheduler scheduler = new FlowMatchDiscreteScheduler(1000, r.flowShift(),
                    config.flowReverse(), FlowMatchDiscreteScheduler.EULER);
            scheduler.setTimesteps(r.inferSteps());
            listener.onStage(Stage.DENOISING.id());
            long td = System.nanoTime();
            try (PointerScope scope = new PointerScope()) {
                Conditioning cond = Conditioning.shared(group, writes ? Conditioning.of(positive, negative, n, device)
                        : null, cfg, device);
                Device noiseDevice = config.noiseDevice().equals("cpu") ? new Device("cpu") : device;
                // every rank draws the same noise from the same seeds
                ScalarType noiseType = cond.states().scalar_type().intern();
                Tensor noise = InitialNoise.draw(plan.seeds, plan.latentShape, noiseDevice, noiseType)
                        .to(device, noiseType);
                latents = denoise(scheduler, noise, cond, r, listener, cancel, stepTimes, computedSteps);
            }
            CudaMemory.synchronize();
            denoiseTime = Duration.ofNanos(System.nanoTime() - td);
            LOG.info("denoising: {} ({} steps, {} per step)", seconds(denoiseTime.toNanos()), r.inferSteps(),
                    seconds(denoiseTime.toNanos() / r.inferSteps()));

            listener.onStage(Stage.VAE_DECODING.id());
            long tv = System.nanoTime();
            if (writes) {
                sink.begin(new DecodedFrameSink.Videos(n, r.videoLength(), plan.height, plan.width, plan.seeds,
                        Collections.nCopies(n, plan.prompt)));
            }
            decodeInto(sink, latents, cancel);
            CudaMemory.synchronize();
            decodeTime = Duration.ofNanos(System.nanoTime() - tv);
            LOG.info("VAE decoding: {}", seconds(decodeTime.toNanos()));
        } catch (IOException | RuntimeException | Error e) {
            if (latents != null) {
                latents.releaseReference();
            }
            throw e;
        }
        Tensor cpuLatents;
        try (PointerScope scope = new PointerScope()) {
            cpuLatents = latents.cpu().to(ScalarType.Float);
            cpuLatents.retainReference();
        } finally {
            latents.releaseReference();
        }
        Duration total = Duration.ofNanos(System.nanoTime() - t0);
        long peak = CudaMemory.peakAllocatedBytes();
        LOG.info("total: {}{}", seconds(total.toNanos()),
                peak > 0 ? String.format(Locale.ROOT, ", peak device memory %.2f GiB", CudaMemory.gib(peak)) : "");
        StageTimings timings = new StageTimings(textTime, denoiseTime, stepTimes, decodeTime, total, peak);
        return new SamplerResult(null, cpuLatents, plan.seeds, Collections.nCopies(n, plan.prompt),
                Collections.nCopies(n, plan.negativePrompt), plan.height, plan.width, r.videoLength(), timings,
                computedSteps);
    }

    /**
     * Decodes {@code latents} (divided by the VAE's scaling factor) into {@code sink}, each chunk mapped by
     * {@link #toUnitRange}; the token is asked before the first tile and after each one.
     */
    private void decodeInto(DecodedFrameSink sink, Tensor latents, CancellationToken cancel) throws IOException {
        try (PointerScope scope = new PointerScope()) {
            decode.decode(latents.div(new Scalar(vaeConfig.scalingFactor())), cancel::isCancelled, (frames, first) -> {
                try (PointerScope chunk = new PointerScope()) {
                    sink.accept(toUnitRange(frames), Math.toIntExact(first));
                } catch (IOException e) {
                    throw new SinkFailure(e);
                }
            });
        } catch (CancelledException e) {
            throw new GenerationCancelledException(Stage.VAE_DECODING, e);
        } catch (SinkFailure e) {
            throw e.getCause();
        }
    }

    /**
     * As the original maps the decoded video: {@code (x/2 + 0.5).clamp(0, 1)} in the VAE's output dtype, then float32
     * on the CPU. The division is out of place (the VAE's chunk is a view of a tile whose last frames the next tile
     * may still blend with), the rest in place on its result; that one chunk-sized copy joins no peak of the decode,
     * whose tile activations are freed by then.
     */
    private static Tensor toUnitRange(Tensor frames) {
        return frames.div(new Scalar(2.0)).add_(new Scalar(0.5))
                .clamp_(new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar(1.0)))
                .cpu().to(ScalarType.Float);
    }

    /** A sink's {@code IOException} on its way through the VAE's {@link FrameSink}, which throws none. */
    private static final class SinkFailure extends RuntimeException {
        SinkFailure(IOException cause) {
            super(cause);
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }

    /**
     * One step of the DiT as the next step of the generation's step cache state, shared by {@code ranks} (sequence
     * parallelism; a stand-in computes the whole velocity and ignores them).
     */
    @FunctionalInterface
    private interface Velocity {
        Tensor apply(DitInputs in, StepCacheState cache, Communicator ranks);
    }

    /** Latents to frames handed to {@code sink} as they become final, asking {@code cancelled} between tiles. */
    @FunctionalInterface
    private interface FrameDecode {
        void decode(Tensor latents, BooleanSupplier cancelled, FrameSink sink);
    }

    /** The attention backends of {@code steps} denoising steps, for the log. */
    private String attentionSummary(int steps) {
        if (config.attention() == Attention.SDPA) {
            return "SDPA";
        }
        long chosen = IntStream.range(0, steps).filter(i -> config.attentionAt(i, steps) != Attention.SDPA).count();
        return config.attention() + " on " + chosen + " of " + steps + " steps (SDPA on the first and the last "
                + config.bf16AttentionSteps() + ")";
    }

    /**
     * The Euler loop of the original's pipeline. Returns the final float32 latents with a reference the caller must
     * release (they outlive every scope).
     */
    private Tensor denoise(FlowMatchDiscreteScheduler scheduler, Tensor noise, Conditioning cond, GenerationRequest r, ProgressListener listener, CancellationToken cancel,
                           List<Duration> stepTimes, List<Boolean> computedSteps) {
        float[] timesteps = scheduler.timesteps();
        int steps = timesteps.length;
        // under true CFG with the ranks split in two, each half runs one branch of the batch
        CfgRanks split = cond.cfg() && CfgRanks.applies(group.worldSize(), ditConfig.headsNum()) ? cfgRanks()
                : null;
        Conditioning mine = split == null ? cond : cond.branch(split.branchIndex());
        Communicator ditRanks = split == null ? group : split.branch();
        long batch = mine.states().size(0);
        Tensor guidance = ditConfig.guidanceEmbed()
                ? guidance(r.embeddedGuidanceScale(), batch, device, ditDtype, config.exactGuidance()) : null;
        Tensor latents = noise;
        long loopStart = System.nanoTime();
        // the step cache's stored residuals live until the loop ends, under CFG for the whole batch
        try (StepCacheState stepCache = r.stepCache().start(steps)) {
            for (int i = 0; i < steps; i++) {
                cancel.throwIfCancelled(Stage.DENOISING, "before step " + (i + 1) + " of " + steps);
                long ts = System.nanoTime();
                Tensor next;
                try (PointerScope scope = new PointerScope()) {
                    Tensor xIn = mine.cfg() ? torch.cat(new TensorArrayRef(new TensorVector(latents, latents)), 0)
                            : latents;
                    Tensor t = torch.full(new long[]{batch}, new Scalar(timesteps[i]),
                            new TensorOptions(ScalarType.Float).device(new DeviceOptional(device)));
                    Tensor v = velocity.apply(new DitInputs(xIn, t, mine.states(), mine.mask(), mine.pooled(),
                            guidance, config.attentionAt(i, steps)), stepCache, ditRanks);
                    if (stepCache.skipped(i)) {
                        listener.onStepSkipped(i);
                    }
                    if (split != null) {
                        v = split.bothBranches(v);
                    }
                    if (cond.cfg()) {
                        TensorVector halves = v.chunk(2, 0);
                        Tensor uncond = halves.get(0);
                        Tensor text = halves.get(1);
                        v = uncond.add(text.sub(uncond).mul(new Scalar(r.guidanceScale())));
                    }
                    next = scheduler.step(v, timesteps[i], latents);
                    listener.onLatents(i, next);
                    next.retainReference();
                }
                if (latents != noise) {
                    latents.releaseReference();
                }
                latents = next;
                CudaMemory.synchronize();
                long now = System.nanoTime();
                stepTimes.add(Duration.ofNanos(now - ts));
                computedSteps.add(!stepCache.skipped(i));
                Duration elapsed = Duration.ofNanos(now - loopStart);
                Duration eta = elapsed.dividedBy(i + 1).multipliedBy(steps - i - 1L);
                LOG.debug("step {}/{} t={} in {}", i + 1, steps, timesteps[i], seconds(now - ts));
                listener.onStep(i + 1, steps, elapsed, eta);
            }
            if (r.stepCache().kind() != StepCache.Kind.NONE) {
                LOG.info("step cache {}: computed {} of {} steps", r.stepCache(),
                        computedSteps.stream().filter(c -> c).count(), steps);
            }
        } catch (RuntimeException | Error e) {
            // a cancelled or failed loop frees the latents of the last step (the noise is the caller's scope's)
            if (latents != noise) {
                latents.releaseReference();
            }
            throw e;
        }
        return latents;
    }

    /**
     * Checks that {@code e} fits the DiT's text inputs.
     *
     * @throws IllegalArgumentException naming {@code name} and the mismatching tensor
     */
    private void checkEmbeddings(String name, PromptEmbeddings e) {
        if (e.states().size(2) != ditConfig.textStatesDim()) {
            throw new IllegalArgumentException(name + ".states: width " + e.states().size(2)
                    + " does not match the DiT's text_states_dim " + ditConfig.textStatesDim());
        }
        if (e.pooled().size(1) != ditConfig.textStatesDim2()) {
            throw new IllegalArgumentException(name + ".pooled: width " + e.pooled().size(1)
                    + " does not match the DiT's text_states_dim_2 " + ditConfig.textStatesDim2());
        }
    }

    /**
     * The guidance input as the original builds it: {@code tensor([g]·batch, float32).to(dtype) · 1000} with the
     * product rounded to the DiT dtype, so 6.0 becomes 6016 in bf16; {@code exact} skips the rounding.
     */
    static Tensor guidance(double scale, long batch, Device device, ScalarType dtype, boolean exact) {
        Tensor g = torch.full(new long[]{batch}, new Scalar(scale), new TensorOptions(ScalarType.Float)
                .device(new DeviceOptional(device)));
        return (exact ? g : g.to(dtype)).mul(new Scalar(1000.0));
    }

    /** The group's halves for true CFG ({@link CfgRanks}), split by every rank at its first CFG generation. */
    private CfgRanks cfgRanks() {
        if (cfgRanks == null) {
            cfgRanks = CfgRanks.split(group);
        }
        return cfgRanks;
    }

    /**
     * The text conditioning of one batch: [negative…, positive…] under true CFG ({@code cfg}: the batch holds both
     * branches), each repeated per video.
     */
    private record Conditioning(Tensor states, Tensor mask, Tensor pooled, boolean cfg) {
        /** Branch {@code index} (0 negative, 1 positive) of a true-CFG batch: a batch of one branch. */
        Conditioning branch(int index) {
            long n = states.size(0) / 2;
            return new Conditioning(states.narrow(0, index * n, n), mask.narrow(0, index * n, n),
                    pooled.narrow(0, index * n, n), false);
        }

        static Conditioning of(PromptEmbeddings pos, PromptEmbeddings neg, int n, Device device) {
            Tensor s = repeat(pos.states(), n);
            Tensor m = repeat(pos.mask(), n);
            Tensor p = repeat(pos.pooled(), n);
            if (neg != null) {
                s = torch.cat(new TensorArrayRef(new TensorVector(repeat(neg.states(), n), s)), 0);
                m = torch.cat(new TensorArrayRef(new TensorVector(repeat(neg.mask(), n), m)), 0);
                p = torch.cat(new TensorArrayRef(new TensorVector(repeat(neg.pooled(), n), p)), 0);
            }
            return new Conditioning(s.to(device, s.scalar_type().intern()), m.to(device, m.scalar_type().intern()),
                    p.to(device, p.scalar_type().intern()), neg != null);
        }

        /**
         * Rank 0's conditioning {@code mine} on every rank of {@code group} ({@code mine} is read on rank 0 only):
         * shapes and dtypes first, then the tensors.
         */
        static Conditioning shared(Communicator group, Conditioning mine, boolean cfg, Device device) {
            if (group.worldSize() == 1) {
                return mine;
            }
            boolean root = group.rank() == 0;
            return new Conditioning(TensorBroadcast.fromRank(group, 0, root ? mine.states : null, 3, device),
                    TensorBroadcast.fromRank(group, 0, root ? mine.mask : null, 2, device),
                    TensorBroadcast.fromRank(group, 0, root ? mine.pooled : null, 2, device), cfg);
        }

        private static Tensor repeat(Tensor t, int n) {
            if (n == 1) {
                return t;
            }
            long[] reps = new long[(int) t.dim()];
            java.util.Arrays.fill(reps, 1);
            reps[0] = n;
            return t.repeat(reps);
        }
    }

    static Device resolveDevice(String name) {
        if (name.equals("auto")) {
            return new Device(CudaMemory.available() ? "cuda" : "cpu");
        }
        if (name.startsWith("cuda") && !CudaMemory.available()) {
            throw new IllegalArgumentException("device: '" + name + "' requested but CUDA is not available "
                    + "(add the pytorch-platform-gpu natives, or use --device cpu)");
        }
        return new Device(name);
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }

    /**
     * Frees the models' memory (device and host), once the running generation, if any, has finished: it waits for it
     * (cancel its token first to make that quick), and puts back the CUDA allocator limit a budget replaced. Calls
     * still waiting for their turn fail with {@link IllegalStateException}, as do later ones. Closing again does
     * nothing.
     *
     * @throws IllegalStateException if called from a generation's own thread (a {@link ProgressListener}), which
     *                               would wait for itself
     */
    @Override
    public void close() {
        if (!generations.close()) {
            return;
        }
        RuntimeException failure = null;
        for (AutoCloseable m : models) {
            try {
                m.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("closing " + m.getClass().getSimpleName(), e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (cfgRanks != null) {
            cfgRanks.close();
        }
        restoreAllocator(allocatorLimitBefore);
        device.releaseReference();
        if (failure != null) {
            throw failure;
        }
    }
}
