package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.sampler.scheduler.FlowMatchDiscreteScheduler;
import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.vae.CausalVideoVae;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
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
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * HunyuanVideo text-to-video generation, mirroring the official {@code HunyuanVideoSampler}: load once with
 * {@link #fromPretrained(Path, SamplerConfig)}, then call {@link #predict(GenerationRequest)} as often as needed.
 *
 * <p>One call runs, in order (spec §1, §9): prompt encoding by the LLM and CLIP encoders (the encoders' device memory
 * is released afterwards, unless {@link SamplerConfig#useCpuOffload()} keeps them in host memory), the 3D RoPE tables
 * (built on the CPU in float32, as the original), the seeded initial noise ({@link InitialNoise}), the flow-matching
 * Euler loop ({@link FlowMatchDiscreteScheduler}, σ from 1 to 0) with the DiT, optional true classifier-free guidance
 * ({@code guidanceScale > 1}: batch [negative, positive]), and the VAE decode (tiled by default) mapped to [0, 1].
 *
 * <p>Progress goes to a {@link ProgressListener}; a {@link CancellationToken} stops the call between steps with a
 * {@link GenerationCancelledException}. Stage times are logged through SLF4J and returned in the result. An instance
 * is not thread-safe: one generation at a time.
 */
public final class HunyuanVideoSampler implements AutoCloseable {
    /** The official default negative prompt (spec §3), used for true CFG when none is given. */
    public static final String DEFAULT_NEGATIVE_PROMPT = "Aerial view, aerial view, overexposed, low quality, "
            + "deformation, a poor composition, bad hands, bad teeth, bad eyes, bad limbs, distortion";
    /** Pixels per side are rounded up to a multiple of this (the original's {@code align_to(…, 16)}). */
    public static final int SIZE_ALIGNMENT = 16;

    private static final Logger LOG = LoggerFactory.getLogger(HunyuanVideoSampler.class);
    private static final SecureRandom SEEDS = new SecureRandom();

    private final SamplerConfig config;
    private final Device device;
    private final ModelComponents models;

    HunyuanVideoSampler(SamplerConfig config, Device device, ModelComponents models) {
        this.config = config;
        this.device = device;
        this.models = models;
        // Outlives any PointerScope the caller built the sampler in; released in close().
        device.retainReference();
    }

    /**
     * Loads the sampler from a model folder in the official {@code ckpts/} layout or the diffusers layout
     * ({@link CheckpointLayout}). Every file is checked first, so a missing file fails before anything is loaded to
     * the device.
     *
     * @param modelBase the model folder ({@code ckpts})
     * @param config load-time options
     * @throws MissingCheckpointException listing every missing or unreadable file with what was expected there
     * @throws IOException if a checkpoint cannot be read or does not match the configuration
     * @throws IllegalArgumentException if the device is not available
     */
    public static HunyuanVideoSampler fromPretrained(Path modelBase, SamplerConfig config) throws IOException {
        CheckpointLayout layout = CheckpointLayout.resolve(modelBase, config);
        Device device = resolveDevice(config.device());
        LOG.info("loading HunyuanVideo from {} ({} layout) on {}: {}", modelBase, layout.kind(),
                device.str().getString(), config);
        long t0 = System.nanoTime();
        ModelComponents models = ModelComponents.load(layout, config, device);
        LOG.info("models loaded in {}", seconds(System.nanoTime() - t0));
        return new HunyuanVideoSampler(config, device, models);
    }

    /**
     * A sampler whose DiT and VAE have seeded random weights made directly on the device, without any file: for
     * benchmarks and smoke tests at any size. It has no text encoders; generate with
     * {@link #predict(GenerationRequest, PromptEmbeddings, PromptEmbeddings, ProgressListener, CancellationToken)}.
     *
     * @param config device, precisions and tiling ({@code loadTextEncoders} is ignored)
     * @param ditConfig the DiT's hyperparameters (e.g. {@link DitConfig#cfgDistill()})
     * @param vaeConfig the VAE's (e.g. {@link VaeConfig#official()})
     */
    public static HunyuanVideoSampler withRandomWeights(SamplerConfig config, DitConfig ditConfig,
                                                        VaeConfig vaeConfig, long seed) {
        Device device = resolveDevice(config.device());
        ScalarType dtype = config.precision().scalarType();
        DitTransformer dit = new DitTransformer(HunyuanVideoTransformer.randomInit(ditConfig, device, dtype, seed));
        try {
            VaeDecoder vae = new VaeDecoder(CausalVideoVae.withRandomWeights(vaeConfig, device,
                    config.vaePrecision().scalarType(), seed + 1), config.vaeTiling());
            return new HunyuanVideoSampler(config, device, new ModelComponents(ditConfig, dtype, dit, vae, null));
        } catch (RuntimeException e) {
            dit.close();
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

    /** A request builder whose steps, shift and guidance scales are this sampler's configured defaults. */
    public GenerationRequest.Builder request(String prompt) {
        return GenerationRequest.builder(prompt, config);
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
                inferSteps, guidanceScale, numVideosPerPrompt, flowShift, batchSize, embeddedGuidanceScale));
    }

    /**
     * Generates the videos of {@code request}: encodes the prompt (and the negative prompt under true CFG), then
     * denoises and decodes.
     *
     * @throws IllegalArgumentException naming the argument if the request does not fit the model
     * @throws IllegalStateException if the sampler was loaded without text encoders
     * @throws GenerationCancelledException if {@code cancel} was cancelled
     */
    public SamplerResult predict(GenerationRequest request, ProgressListener listener, CancellationToken cancel) {
        if (!models.hasTextEncoders()) {
            throw new IllegalStateException("this sampler was loaded with loadTextEncoders=false: pass precomputed "
                    + "PromptEmbeddings to predict");
        }
        Plan plan = plan(request);
        CudaMemory.resetPeak();
        long t0 = System.nanoTime();
        listener.onStage("text-encoding");
        cancel.throwIfCancelled("text encoding");
        List<PromptEmbeddings> encoded = new ArrayList<>();
        try {
            List<String> texts = new ArrayList<>();
            texts.add(plan.prompt);
            if (request.doClassifierFreeGuidance()) {
                texts.add(plan.negativePrompt);
            }
            encoded.addAll(models.encodePrompts(texts, request.videoLength()));
            CudaMemory.synchronize();
            Duration textTime = Duration.ofNanos(System.nanoTime() - t0);
            LOG.info("text encoding: {}", seconds(textTime.toNanos()));
            PromptEmbeddings negative = request.doClassifierFreeGuidance() ? encoded.get(1) : null;
            return generate(request, plan, encoded.get(0), negative, listener, cancel, textTime, t0);
        } finally {
            encoded.forEach(ModelComponents::release);
        }
    }

    /**
     * Generates from precomputed text conditioning (what the text encoders would return for the prompt). The
     * request's prompt is only recorded in the result.
     *
     * @param positive the prompt's embeddings
     * @param negative the negative prompt's embeddings; required when {@code request.guidanceScale() > 1}, ignored
     *                 otherwise
     * @throws IllegalArgumentException naming the argument if an embedding does not fit the model or is missing
     */
    public SamplerResult predict(GenerationRequest request, PromptEmbeddings positive, PromptEmbeddings negative,
                                 ProgressListener listener, CancellationToken cancel) {
        if (positive == null) {
            throw new IllegalArgumentException("positive: prompt embeddings are required");
        }
        if (request.doClassifierFreeGuidance() && negative == null) {
            throw new IllegalArgumentException("negative: guidanceScale " + request.guidanceScale()
                    + " > 1 runs true CFG and needs the negative prompt's embeddings");
        }
        Plan plan = plan(request);
        CudaMemory.resetPeak();
        return generate(request, plan, positive, request.doClassifierFreeGuidance() ? negative : null, listener,
                cancel, Duration.ZERO, System.nanoTime());
    }

    /** Everything about a request that is fixed before the first tensor op. */
    private record Plan(String prompt, String negativePrompt, int height, int width, long[] latentShape,
                        long[] ropeSizes, List<Long> seeds) {
    }

    private Plan plan(GenerationRequest r) {
        int h = r.targetHeight();
        int w = r.targetWidth();
        int spatial = models.vaeSpatialRatio();
        int temporal = models.vaeTemporalRatio();
        int[] patch = models.patchSize();
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
        long elements = (long) r.numVideosPerPrompt() * models.latentChannels() * lt * lh * lw;
        if (tokens > Integer.MAX_VALUE || elements > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("height/width/videoLength: " + h + "x" + w + "x" + r.videoLength()
                    + " needs " + tokens + " image tokens and " + elements
                    + " latent values, too large for the latent grid (max " + Integer.MAX_VALUE + ")");
        }
        String prompt = r.prompt().strip();
        String negative = "";
        if (r.doClassifierFreeGuidance()) {
            negative = r.negativePrompt() == null || r.negativePrompt().isBlank() ? DEFAULT_NEGATIVE_PROMPT
                    : r.negativePrompt().strip();
        }
        List<Long> seeds = seeds(r);
        return new Plan(prompt, negative, h, w, new long[]{1, models.latentChannels(), lt, lh, lw},
                new long[]{lt / patch[0], lh / patch[1], lw / patch[2]}, seeds);
    }

    /** Seeds as the original (spec §9.1), with batch size 1. */
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

    private SamplerResult generate(GenerationRequest r, Plan plan, PromptEmbeddings positive,
                                   PromptEmbeddings negative, ProgressListener listener, CancellationToken cancel,
                                   Duration textTime, long t0) {
        models.checkEmbeddings("positive", positive);
        if (negative != null) {
            models.checkEmbeddings("negative", negative);
        }
        int n = r.numVideosPerPrompt();
        boolean cfg = negative != null;
        LOG.info("generating {} video(s) {}x{}x{}, {} steps, shift {}, embedded guidance {}, cfg {}, seeds {}", n,
                plan.height, plan.width, r.videoLength(), r.inferSteps(), r.flowShift(), r.embeddedGuidanceScale(),
                r.guidanceScale(), plan.seeds);
        Tensor latents = null;
        Tensor videos = null;
        List<Duration> stepTimes = new ArrayList<>();
        Duration denoiseTime;
        Duration decodeTime;
        try (InferenceMode guard = new InferenceMode()) {
            FlowMatchDiscreteScheduler scheduler = new FlowMatchDiscreteScheduler(1000, r.flowShift(),
                    config.flowReverse(), config.flowSolver());
            scheduler.setTimesteps(r.inferSteps());
            listener.onStage("denoising");
            cancel.throwIfCancelled("denoising");
            long td = System.nanoTime();
            try (PointerScope scope = new PointerScope()) {
                Conditioning cond = Conditioning.of(positive, negative, n, device);
                Tensor[] rope = models.ropeTables(plan.ropeSizes, config.ropeTheta(), device);
                Device noiseDevice = config.noiseDevice().equals("cpu") ? new Device("cpu") : device;
                Tensor noise = InitialNoise.draw(plan.seeds, plan.latentShape, noiseDevice,
                        positive.states().scalar_type().intern()).to(device, positive.states().scalar_type().intern());
                latents = denoise(scheduler, noise, cond, rope, r, listener, cancel, stepTimes);
            }
            CudaMemory.synchronize();
            denoiseTime = Duration.ofNanos(System.nanoTime() - td);
            LOG.info("denoising: {} ({} steps, {} per step)", seconds(denoiseTime.toNanos()), r.inferSteps(),
                    seconds(denoiseTime.toNanos() / r.inferSteps()));

            listener.onStage("vae-decoding");
            cancel.throwIfCancelled("VAE decoding");
            long tv = System.nanoTime();
            try (PointerScope scope = new PointerScope()) {
                Tensor decoded = models.decode(latents.div(new Scalar(models.vaeScalingFactor())));
                // As the original: (x/2 + 0.5).clamp(0, 1) in the VAE's output dtype, then float32 on the CPU.
                videos = decoded.div(new Scalar(2.0)).add(new Scalar(0.5))
                        .clamp(new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar(1.0)))
                        .cpu().to(ScalarType.Float);
                videos.retainReference();
            }
            CudaMemory.synchronize();
            decodeTime = Duration.ofNanos(System.nanoTime() - tv);
            LOG.info("VAE decoding: {}", seconds(decodeTime.toNanos()));
        } catch (RuntimeException | Error e) {
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
        return new SamplerResult(videos, cpuLatents, plan.seeds, Collections.nCopies(n, plan.prompt),
                Collections.nCopies(n, plan.negativePrompt), plan.height, plan.width, r.videoLength(), timings);
    }

    /**
     * The Euler loop (spec §9.5). Returns the final float32 latents with a reference the caller must release
     * (they outlive every scope).
     */
    private Tensor denoise(FlowMatchDiscreteScheduler scheduler, Tensor noise, Conditioning cond, Tensor[] rope,
                           GenerationRequest r, ProgressListener listener, CancellationToken cancel,
                           List<Duration> stepTimes) {
        float[] timesteps = scheduler.timesteps();
        int steps = timesteps.length;
        long batch = cond.states().size(0);
        Tensor guidance = models.guidance(r.embeddedGuidanceScale(), batch, device, config.exactGuidance());
        Tensor latents = noise;
        long loopStart = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            cancel.throwIfCancelled("denoising step " + (i + 1) + " of " + steps);
            long ts = System.nanoTime();
            Tensor next;
            try (PointerScope scope = new PointerScope()) {
                Tensor xIn = cond.cfg() ? torch.cat(new TensorArrayRef(new TensorVector(latents, latents)), 0)
                        : latents;
                Tensor t = torch.full(new long[]{batch}, new Scalar(timesteps[i]),
                        new TensorOptions(ScalarType.Float).device(new org.bytedeco.pytorch.DeviceOptional(device)));
                Tensor v = models.velocity(xIn, t, cond.states(), cond.mask(), cond.pooled(), rope[0], rope[1],
                        guidance);
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
            Duration elapsed = Duration.ofNanos(now - loopStart);
            Duration eta = elapsed.dividedBy(i + 1).multipliedBy(steps - i - 1L);
            LOG.debug("step {}/{} t={} in {}", i + 1, steps, timesteps[i], seconds(now - ts));
            listener.onStep(i + 1, steps, elapsed, eta);
        }
        return latents;
    }

    /** The text conditioning of one batch: [negative…, positive…] under true CFG, each repeated per video. */
    private record Conditioning(Tensor states, Tensor mask, Tensor pooled, boolean cfg) {
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

    /** Frees the models' memory (device and host). */
    @Override
    public void close() {
        try {
            models.close();
        } finally {
            device.releaseReference();
        }
    }
}
