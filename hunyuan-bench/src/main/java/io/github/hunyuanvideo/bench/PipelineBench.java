package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.sampler.CancellationToken;
import io.github.hunyuanvideo.sampler.GenerationRequest;
import io.github.hunyuanvideo.sampler.HunyuanVideoSampler;
import io.github.hunyuanvideo.sampler.MemoryPlan;
import io.github.hunyuanvideo.sampler.ProgressListener;
import io.github.hunyuanvideo.sampler.PromptEmbeddings;
import io.github.hunyuanvideo.sampler.RequestSize;
import io.github.hunyuanvideo.sampler.SamplerConfig;
import io.github.hunyuanvideo.sampler.SamplerResult;
import io.github.hunyuanvideo.sampler.StageTimings;
import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.MemorySize;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.text.ClipOutput;
import io.github.hunyuanvideo.text.ClipTextConfig;
import io.github.hunyuanvideo.text.ClipTextEncoder;
import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.text.LlamaConfig;
import io.github.hunyuanvideo.text.LlmEncoderOptions;
import io.github.hunyuanvideo.text.LlmTextEncoder;
import io.github.hunyuanvideo.text.PromptTemplate;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.text.TextEncoding;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Full-size random-weight run of the whole pipeline, no files needed: the 13B DiT, the VAE, the 8B Llama and CLIP-L
 * text encoders are created with seeded random weights directly on the device, in the sampler's order, then one
 * prompt is encoded (the encoders are released afterwards, as {@link HunyuanVideoSampler} does), denoised and decoded with the official
 * settings (bf16 DiT, fp16 VAE with tiling, fp16 text encoders and noise). Prints a markdown table of the time and
 * peak device memory of each stage.
 *
 * <pre>
 * PipelineBench [--device cuda] [--height 544] [--width 960] [--frames 129] [--steps 2] [--seed 42]
 *               [--cfg 1.0] [--no-tiling] [--small] [--max-gpu-memory SIZE] [--prefetch-depth 1]
 *               [--cpu-offload]
 * </pre>
 * {@code --cpu-offload} runs as {@link SamplerConfig#useCpuOffload()}: every LLM layer streamed, the VAE in host
 * memory.
 * {@code --small} swaps in tiny configurations (64×64×9, small DiT, VAE and encoders) to check the program on a CPU.
 * {@code --max-gpu-memory SIZE} ({@code 24G}, {@code 12GiB}, {@code 16000M}) is the sampler's device-memory budget
 * for this request size: the plan (printed) streams DiT blocks and LLM layers and picks the VAE tiles, and the CUDA
 * caching allocator of device 0 is capped at SIZE before anything is created, so an overrun fails (default: no
 * budget); the header shows it, the summary the whole run's peak against it.
 * The text input is synthetic token ids (BOS, 10 prompt tokens and {@code <|eot_id|>} after the 95 template tokens,
 * then padding): the random models need no tokenizer. Peak memory is the CUDA caching allocator's peak of allocated
 * bytes within each stage (0 on the CPU).
 */
public final class PipelineBench {
    private static final int VALID_TEXT_TOKENS = 11;

    private PipelineBench() {
    }

    public static void main(String[] args) {
        String device = "cuda";
        int height = 544;
        int width = 960;
        int frames = 129;
        int steps = 2;
        long seed = 42;
        double cfg = 1.0;
        boolean tiling = true;
        boolean small = false;
        long maxGpuMemory = 0;
        int prefetchDepth = 1;
        boolean cpuOffload = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = args[++i];
                case "--height" -> height = Integer.parseInt(args[++i]);
                case "--width" -> width = Integer.parseInt(args[++i]);
                case "--frames" -> frames = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--cfg" -> cfg = Double.parseDouble(args[++i]);
                case "--no-tiling" -> tiling = false;
                case "--small" -> small = true;
                case "--prefetch-depth" -> prefetchDepth = Integer.parseInt(args[++i]);
                case "--cpu-offload" -> cpuOffload = true;
                case MemoryCap.OPTION -> maxGpuMemory = MemoryCap.parse(i + 1 < args.length ? args[++i] : null);
                default -> {
                    System.err.println("unknown argument " + args[i]);
                    System.exit(2);
                }
            }
        }
        if (small) {
            height = 64;
            width = 64;
            frames = 9;
        }
        String cap = MemoryCap.apply(maxGpuMemory, new Device(device));
        List<String> summary = new ArrayList<>();
        List<String[]> rows = run(device, height, width, frames, steps, seed, cfg, tiling, small, maxGpuMemory,
                prefetchDepth, cpuOffload, summary);
        System.out.printf(Locale.ROOT, "HunyuanVideo pipeline, random weights%s: %dx%dx%d, %d steps, cfg %.1f, "
                        + "device %s, memory cap %s%n%n", small ? " (small configs)" : "", height, width, frames, steps,
                cfg, device, cap);
        System.out.println("| stage | time | peak device memory |");
        System.out.println("|---|---|---|");
        for (String[] r : rows) {
            System.out.println("| " + r[0] + " | " + r[1] + " | " + r[2] + " |");
        }
        System.out.println();
        summary.forEach(System.out::println);
    }

    /**
     * Runs the benchmark and returns the table rows (stage, time, peak memory); adds to {@code summary} the memory
     * plan, the DiT's s/step and TFLOP/s, the projected time of a 50-step run and the whole run's peak. The stages run
     * in the sampler's order: the DiT and the VAE are created first and stay, the text encoders encode next to them
     * (their LLM layers streamed as the plan says) and are released, then the sampler denoises and decodes.
     *
     * @param budget        device-memory budget in bytes (0 = none): the sampler plans for it, for this request
     * @param prefetchDepth streamed DiT blocks copied ahead
     * @param cpuOffload    {@link SamplerConfig#useCpuOffload()}: every LLM layer streamed, the VAE in host memory
     */
    public static List<String[]> run(String deviceName, int height, int width, int frames, int steps, long seed,
                                     double cfg, boolean tiling, boolean small, long budget, int prefetchDepth,
                                     boolean cpuOffload, List<String> summary) {
        DitConfig ditConfig = small ? new DitConfig(List.of(1, 2, 2), 16, 16, 128, 2, 4.0, 1, 1,
                List.of(16, 24, 24), 256.0, true, true, true, 64, 32, 2) : DitConfig.cfgDistill();
        VaeConfig vaeConfig = small ? new VaeConfig(3, 3, 16, List.of(8, 16, 32, 32), 1, 4, 32, 16, 0.476986, 4, 8,
                true) : VaeConfig.official();
        LlamaConfig llmConfig = small ? new LlamaConfig(512, 64, 4, 4, 2, 16, 128, 1e-5, 500000.0, null, false,
                false) : LlamaConfig.llama3_8b();
        ClipTextConfig clipConfig = small ? new ClipTextConfig(512, 32, 64, 2, 2, 77, true, 1e-5,
                ClipTextConfig.LEGACY_EOS_TOKEN_ID) : ClipTextConfig.clipL();
        int texts = cfg > 1 ? 2 : 1;
        SamplerConfig config = SamplerConfig.builder().device(deviceName).ditConfig(ditConfig).vaeTiling(tiling)
                .deviceMemoryBudget(budget).prefetchDepth(prefetchDepth).useCpuOffload(cpuOffload)
                .largestRequest(new RequestSize(height, width, frames, texts)).build();
        MemoryPlan plan = HunyuanVideoSampler.planMemory(config, ditConfig, vaeConfig, llmConfig, clipConfig);
        summary.add(plan.describe());
        Device device = new Device(deviceName);
        ScalarType textDtype = config.textEncoderPrecision().scalarType();
        List<String[]> rows = new ArrayList<>();
        torch.manual_seed(seed);

        List<PromptEmbeddings> embeddings = new ArrayList<>();
        List<Tensor> owned = new ArrayList<>();
        LlmEncoderOptions options = new LlmEncoderOptions(config.textLen(), config.hiddenStateSkipLayer(),
                config.applyFinalNorm());
        long wholePeak = 0;
        CudaMemory.resetPeak();
        long t0 = System.nanoTime();
        try (HunyuanVideoSampler sampler = HunyuanVideoSampler.withRandomWeights(config, ditConfig, vaeConfig, seed,
                plan)) {
            CudaMemory.synchronize();
            rows.add(row("DiT + VAE: random weights created", System.nanoTime() - t0,
                    CudaMemory.peakAllocatedBytes()));
            wholePeak = Math.max(wholePeak, CudaMemory.peakAllocatedBytes());
            long textNanos;
            try (PointerScope scope = new PointerScope()) {
                CudaMemory.resetPeak();
                t0 = System.nanoTime();
                LlmTextEncoder llm = LlmTextEncoder.create(llmConfig, () -> Parameters.random(device, textDtype,
                        seed), null, options, device, new LayerStreaming(plan.streamedLlmLayers(), 1));
                ClipTextEncoder clip = ClipTextEncoder.create(clipConfig, () -> Parameters.random(device,
                        config.textEncoderPrecision2().scalarType(), seed + 1), null, device);
                CudaMemory.synchronize();
                rows.add(row("text encoders: random weights created (" + plan.streamedLlmLayers()
                        + " LLM layers streamed)", System.nanoTime() - t0));
                t0 = System.nanoTime();
                for (int i = 0; i < texts; i++) {
                    Tensor[] ids = ids(options.maxLength(), PromptTemplate.VIDEO.cropStart() + VALID_TEXT_TOKENS,
                            llmConfig.vocabSize(), seed + i);
                    TextEncoding te = llm.encodeIds(ids[0], ids[1], PromptTemplate.VIDEO.cropStart());
                    Tensor[] clipIds = ids(clipConfig.maxPositions(), VALID_TEXT_TOKENS + 2, clipConfig.vocabSize(),
                            seed + 100 + i);
                    ClipOutput clipOut = clip.encodeIds(clipIds[0], clipIds[1]);
                    Tensor pooled = clipOut.pooled();
                    clipOut.lastHiddenState().releaseReference();
                    owned.add(te.states());
                    owned.add(te.mask());
                    owned.add(pooled);
                    embeddings.add(new PromptEmbeddings(te.states(), te.mask(), pooled));
                }
                CudaMemory.synchronize();
                textNanos = System.nanoTime() - t0;
                rows.add(row("text encoding (LLM + CLIP, " + texts + " prompt" + (texts > 1 ? "s" : "") + ")",
                        textNanos, CudaMemory.peakAllocatedBytes()));
                wholePeak = Math.max(wholePeak, CudaMemory.peakAllocatedBytes());
                llm.close();
                clip.close();
                CudaMemory.emptyCache();
                rows.add(new String[]{"device memory after releasing the encoders", "",
                        gib(CudaMemory.allocatedBytes())});
            }
            GenerationRequest request = GenerationRequest.builder("random-weight benchmark")
                    .size(height, width).videoLength(frames).inferSteps(steps).guidanceScale(cfg).seed(seed)
                    .build();
            try (SamplerResult r = sampler.predict(request, embeddings.get(0), texts > 1 ? embeddings.get(1) : null,
                    ProgressListener.NONE, CancellationToken.NONE)) {
                StageTimings t = r.timings();
                for (int i = 0; i < t.steps().size(); i++) {
                    rows.add(row("denoising step " + (i + 1) + (i == 0 ? " (includes warm-up)" : ""),
                            t.steps().get(i).toNanos()));
                }
                rows.add(row("denoising, total", t.denoising().toNanos()));
                rows.add(row("VAE decode" + (tiling ? " (tiled)" : "") + " + [0,1] mapping",
                        t.vaeDecoding().toNanos()));
                rows.add(row("predict total (denoise + decode)", t.total().toNanos(), t.peakDeviceBytes()));
                wholePeak = Math.max(wholePeak, t.peakDeviceBytes());
                rows.add(new String[]{"output", Arrays.toString(Tensors.shape(r.videos())), ""});
                summarize(summary, t, textNanos, ditConfig, config, request, texts, vaeConfig);
            }
        } finally {
            owned.forEach(Tensor::releaseReference);
        }
        summary.add(String.format(Locale.ROOT, "Whole-pipeline peak: %s%s", gib(wholePeak), budget > 0
                ? " (budget " + MemorySize.format(budget) + (wholePeak <= budget ? ", kept)" : ", EXCEEDED)") : ""));
        return rows;
    }

    /**
     * s/step (median of the steps after the first, which includes one-time setup; the only step if there is one),
     * the DiT's TFLOP/s by {@link DitConfig#flopsPerForward} with the nominal text length, and a 50-step projection.
     */
    private static void summarize(List<String> out, StageTimings t, long textNanos, DitConfig dit,
                                  SamplerConfig config, GenerationRequest request, int batch, VaeConfig vae) {
        List<Double> steps = new ArrayList<>();
        for (int i = t.steps().size() > 1 ? 1 : 0; i < t.steps().size(); i++) {
            steps.add(t.steps().get(i).toNanos() / 1e9);
        }
        steps.sort(null);
        double perStep = steps.get(steps.size() / 2);
        long latentFrames = (request.videoLength() - 1) / vae.timeCompressionRatio() + 1;
        long imageTokens = latentFrames / dit.patchSize().get(0)
                * (request.targetHeight() / vae.spatialCompressionRatio() / dit.patchSize().get(1))
                * (request.targetWidth() / vae.spatialCompressionRatio() / dit.patchSize().get(2));
        double flops = dit.flopsPerForward(imageTokens, config.textLen()) * batch;
        double text = textNanos / 1e9;
        double decode = t.vaeDecoding().toNanos() / 1e9;
        out.add(String.format(Locale.ROOT, "DiT: %.2f s/step (median of %d step%s after the first), %.3g FLOP per "
                        + "step, %.0f TFLOP/s", perStep, steps.size(), steps.size() == 1 ? "" : "s", flops,
                flops / perStep / 1e12));
        out.add(String.format(Locale.ROOT, "Projected 50-step run: text encoding %.1f s + 50 × %.2f s + VAE decode "
                + "%.1f s = %.0f s", text, perStep, decode, text + 50 * perStep + decode));
    }

    /** Token ids {@code [1, len]}: {@code valid} random ids (the first a BOS-like id) then zeros, right padded. */
    private static Tensor[] ids(int len, int valid, int vocab, long seed) {
        Random r = new Random(seed);
        long[] ids = new long[len];
        long[] mask = new long[len];
        for (int i = 0; i < valid && i < len; i++) {
            ids[i] = i == 0 ? vocab - 1 : r.nextInt(vocab);
            mask[i] = 1;
        }
        return new Tensor[]{Tensors.fromLongs(ids, 1, len), Tensors.fromLongs(mask, 1, len)};
    }

    private static String[] row(String stage, long nanos) {
        return new String[]{stage, seconds(nanos), ""};
    }

    private static String[] row(String stage, long nanos, long peakBytes) {
        return new String[]{stage, seconds(nanos), gib(peakBytes)};
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }

    private static String gib(long bytes) {
        return bytes == 0 ? "–" : String.format(Locale.ROOT, "%.2f GiB", CudaMemory.gib(bytes));
    }
}
