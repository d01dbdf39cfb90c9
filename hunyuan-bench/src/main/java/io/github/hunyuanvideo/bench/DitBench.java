package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.sampler.HunyuanVideoSampler;
import io.github.hunyuanvideo.sampler.MemoryPlan;
import io.github.hunyuanvideo.sampler.RequestSize;
import io.github.hunyuanvideo.sampler.SamplerConfig;
import io.github.hunyuanvideo.vae.VaeConfig;
import io.github.hunyuanvideo.dit.Attention;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.DitInputs;
import io.github.hunyuanvideo.dit.DitMemory;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.dit.QuantizedAttention;
import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.StageTimer;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Context;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * DiT benchmark: builds the full-size DiT with seeded random weights directly on the device (nothing of its size on
 * the host) and times one denoising forward per latent shape: median of the timed runs after the warm-up, the peak
 * CUDA memory of those runs ({@code torch.cuda.max_memory_allocated}: the caching allocator's peak of allocated
 * bytes, weights included), the achieved TFLOP/s (the count of {@code docs/benchmarks.md}: per block {@code 2·12·C²·L + 4·L²·C} with
 * {@code L} = image tokens + text length) and the SDPA backend. Prints markdown tables.
 *
 * <p>The SDPA backend cannot be queried through the Java API, so {@code --probe-sdp} (on by default) times one
 * attention of the benchmark's real shape with each backend alone and with the default choice; the default is the
 * backend whose time it matches. {@code --breakdown} adds one run under a {@link StageTimer} that prints the device
 * time of each stage of the blocks (GEMMs, norms, RoPE, attention, residual passes) and of the rest of the model.
 *
 * <p>Arguments (all optional):
 * <ul>
 *   <li>{@code --device cuda|cuda:N|cpu} (default cuda)</li>
 *   <li>{@code --dtype bf16|fp16|fp32} compute dtype (default bf16)</li>
 *   <li>{@code --config HYVideo-T/2-cfgdistill|HYVideo-T/2|tiny} ({@code tiny}: hidden 128, 2 heads, 2+2 blocks, for
 *       checking on a CPU that the program runs; default HYVideo-T/2-cfgdistill)</li>
 *   <li>{@code --latents BxCxTxHxW,...} (default {@code 1x16x33x68x120,1x16x33x90x160}: 544×960×129 and
 *       720×1280×129)</li>
 *   <li>{@code --text-len N} text tokens (default 256), {@code --text-valid N} of them valid (default 40)</li>
 *   <li>{@code --warmup N} (default 1), {@code --runs N} timed runs (default 3)</li>
 *   <li>{@code --sdp default|flash|cudnn|efficient|math}: allow only that SDPA backend (default: libtorch's
 *       choice)</li>
 *   <li>{@code --attention sdpa|int8|int8-fp8}: the blocks' attention backend of every timed forward (default sdpa;
 *       the 8-bit ones are {@link QuantizedAttention#attend} where its kernel runs, which the table's attention column
 *       says, else SDPA)</li>
 *   <li>{@code --probe-sdp true|false} (default true), {@code --breakdown true|false} (default false)</li>
 *   <li>{@code --blas default|cublas|cublaslt}: libtorch's preferred GEMM library (default: libtorch's choice)</li>
 *   <li>{@code --streamed-blocks N,M,...}: one model per entry, with its last N blocks streamed from host memory
 *       ({@link LayerStreaming}; default: all resident, or the sampler's memory plan under {@code --max-gpu-memory}),
 *       each built from the same seeded weights and run on the same inputs; every row says whether its output equals
 *       the first model's bit for bit, and for streamed models the time the copies take at the measured
 *       host-to-device bandwidth and how much of it shows (the step's time over the resident row's)</li>
 *   <li>{@code --prefetch-depth N} streamed blocks copied ahead (default 1)</li>
 *   <li>{@code --fp8 false|true|false,true}: one model per entry (times each {@code --streamed-blocks} entry);
 *       {@code true} holds the block Linear weights as an FP8 checkpoint loads them (random float8_e4m3fn values and a
 *       random per-tensor scale each, made on the device, dequantised before each GEMM), for the device bytes of its
 *       weights and its time per step against the model in the compute dtype (default false)</li>
 *   <li>{@code --max-gpu-memory SIZE} ({@code 24G}, {@code 12GiB}, {@code 16000M}): cap the CUDA caching allocator
 *       of device 0 at SIZE before anything is built (default: no cap); printed in the header. Without
 *       {@code --streamed-blocks}, the blocks the sampler's plan for this budget streams</li>
 * </ul>
 * GPU: {@code java ... io.github.hunyuanvideo.bench.DitBench}; CPU smoke test:
 * {@code ... DitBench --device cpu --dtype fp32 --config tiny --latents 1x16x5x16x16 --runs 1}.
 */
public final class DitBench {
    private static final String PYTHON_FIGURES = "Python (official, random bf16 weights, SDPA with varlen semantics, "
            + "H100 80GB HBM3, torch 2.11): 544×960×129 8.73 s (488 TFLOP/s), peak 34.8 GiB; 720×1280×129 23.58 s "
            + "(510 TFLOP/s), peak 43.1 GiB";
    private static final List<String> BACKENDS = List.of("flash", "cudnn", "efficient", "math");

    private DitBench() {
    }

    private record Options(String device, Precision dtype, String config, List<long[]> latents, int textLen,
                           int textValid, int warmup, int runs, String sdp, boolean probeSdp, boolean breakdown,
                           String blas, List<Integer> streamedBlocks, int prefetchDepth, List<Boolean> fp8,
                           long maxGpuMemory, Attention attention) {
    }

    public static void main(String[] args) {
        Options o = parse(args);
        Device device = new Device(o.device());
        if (device.is_cuda() && !CudaMemory.available()) {
            throw new IllegalArgumentException("--device " + o.device() + ": CUDA is not available");
        }
        DitConfig cfg = o.config().equals("tiny") ? tinyConfig() : DitConfig.byName(o.config());
        for (long[] s : o.latents()) {
            if (s.length != 5 || s[1] != cfg.inChannels()) {
                throw new IllegalArgumentException("--latents entry " + Arrays.toString(s) + " must be Bx"
                        + cfg.inChannels() + "xTxHxW");
            }
        }
        ScalarType dtype = o.dtype().scalarType();
        if (!o.blas().equals("default")) {
            if (!device.is_cuda()) {
                throw new IllegalArgumentException("--blas " + o.blas() + " needs a CUDA device");
            }
            torch.globalContext().setBlasPreferredBackend(o.blas().equals("cublas") ? torch.BlasBackend.Cublas
                    : torch.BlasBackend.Cublaslt);
        }
        String cap = MemoryCap.apply(o.maxGpuMemory(), device);
        List<Integer> streamedSettings = o.streamedBlocks() != null ? o.streamedBlocks()
                : List.of(plannedStreamedBlocks(o, cfg));
        // bytes per second of one page-locked host-to-device copy, to put the streamed bytes in time
        double copyBandwidth = device.is_cuda() && streamedSettings.stream().anyMatch(n -> n > 0)
                ? hostToDeviceBandwidth(device) : Double.NaN;
        Map<String, Double> residentMedians = new LinkedHashMap<>();
        List<String> rows = new ArrayList<>();
        // each shape's output of the first model of its weights (FP8 or not), which every other streaming setting
        // must equal bit for bit
        Map<String, Tensor> firstOutputs = new LinkedHashMap<>();
        for (boolean fp8 : o.fp8()) {
            for (int streamedBlocks : streamedSettings) {
                LayerStreaming streaming = new LayerStreaming(streamedBlocks, o.prefetchDepth());
                long t0 = System.nanoTime();
                try (HunyuanVideoTransformer dit = HunyuanVideoTransformer.randomInit(cfg, device, dtype, 0, streaming,
                        fp8)) {
                    CudaMemory.synchronize();
                    System.out.printf(Locale.ROOT, "%nDiT %s, random %s weights%s on %s, %d blocks streamed (prefetch "
                                    + "depth %d, slots %.2f GiB): built in %.1f s, %.2f GiB allocated (DitMemory: "
                                    + "%.2f GiB of weights on the device); %d CPU threads; SDPA: %s; BLAS: %s; "
                                    + "memory cap: %s%n", o.config(), o.dtype(), fp8 ? ", block Linears FP8" : "",
                            o.device(), streamedBlocks, o.prefetchDepth(), CudaMemory.gib(dit.streamingSlotBytes()),
                            (System.nanoTime() - t0) / 1e9, CudaMemory.gib(CudaMemory.allocatedBytes()),
                            CudaMemory.gib(deviceWeightBytes(cfg, dtype, fp8, dit)), torch.get_num_threads(), o.sdp(),
                            o.blas(), cap);
                    for (long[] shape : o.latents()) {
                        rows.add(benchmark(dit, cfg, shape, o, fp8, device, dtype, firstOutputs, residentMedians,
                                copyBandwidth));
                    }
                }
            }
        }
        firstOutputs.values().forEach(Tensor::releaseReference);
        System.out.println();
        System.out.println("| what | shape | streamed blocks | block weights | median | min | peak GPU memory | "
                + "copied per step | copy time | exposed | TFLOP/s | attention | output vs first |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
        System.out.println();
        System.out.println(PYTHON_FIGURES);
    }

    /**
     * The device bytes of {@code dit}'s weights as {@link DitMemory} plans them: the non-block weights, the resident
     * blocks and the streaming slots.
     */
    private static long deviceWeightBytes(DitConfig cfg, ScalarType dtype, boolean fp8, HunyuanVideoTransformer dit) {
        long[] blocks = DitMemory.blockBytes(cfg, dtype, fp8);
        long resident = Arrays.stream(blocks, 0, blocks.length - dit.streaming().streamedLayers()).sum();
        return DitMemory.nonBlockBytes(cfg, dtype, fp8) + resident + dit.streamingSlotBytes();
    }

    /**
     * The streamed block count of the sampler's memory plan for {@code --max-gpu-memory} and the largest of the
     * latents (its DiT alone: no text encoder counted; the plan is printed). 0 without a budget.
     */
    private static int plannedStreamedBlocks(Options o, DitConfig cfg) {
        if (o.maxGpuMemory() == 0) {
            return 0;
        }
        long[] largest = o.latents().stream().max(Comparator.comparingLong(s -> s[0] * s[2] * s[3] * s[4]))
                .orElseThrow();
        SamplerConfig config = SamplerConfig.builder().device(o.device()).ditConfig(cfg).loadTextEncoders(false)
                .precision(o.dtype()).deviceMemoryBudget(o.maxGpuMemory()).prefetchDepth(o.prefetchDepth())
                .largestRequest(new RequestSize((int) largest[3] * 8, (int) largest[4] * 8,
                        (int) (largest[2] - 1) * 4 + 1, (int) largest[0]))
                .useFp8(o.fp8().contains(true)).build();
        MemoryPlan plan = HunyuanVideoSampler.planMemory(config, cfg, VaeConfig.official(), null, null);
        System.out.println(plan.describe());
        return plan.streamedBlocks();
    }

    /** Bytes per second of a 1 GiB page-locked host-to-device copy (median of 3). */
    private static double hostToDeviceBandwidth(Device device) {
        long bytes = 1L << 30;
        try (PointerScope scope = new PointerScope()) {
            Tensor host = torch.empty(new long[]{bytes}, new TensorOptions(ScalarType.Byte),
                    new MemoryFormatOptional()).pin_memory();
            Tensor target = torch.empty(new long[]{bytes}, new TensorOptions(device).dtype(
                    new ScalarTypeOptional(ScalarType.Byte)), new MemoryFormatOptional());
            double[] t = new double[3];
            for (int i = -1; i < t.length; i++) {
                CudaMemory.synchronize();
                long start = System.nanoTime();
                target.copy_(host, true);
                CudaMemory.synchronize();
                if (i >= 0) {
                    t[i] = (System.nanoTime() - start) / 1e9;
                }
            }
            Arrays.sort(t);
            double bandwidth = bytes / t[1];
            System.out.printf(Locale.ROOT, "%nhost-to-device copy from page-locked memory: %.1f GB/s%n",
                    bandwidth / 1e9);
            return bandwidth;
        }
    }

    /**
     * One row: the median step of {@code dit} on latents of {@code shape}; its copy time is the streamed bytes at
     * {@code copyBandwidth}, and the exposed part is how much slower the step is than the resident model's of the
     * same weights and shape ({@code residentMedians}, filled by the resident rows).
     */
    private static String benchmark(HunyuanVideoTransformer dit, DitConfig cfg, long[] shape, Options o, boolean fp8,
                                    Device device, ScalarType dtype, Map<String, Tensor> firstOutputs,
                                    Map<String, Double> residentMedians, double copyBandwidth) {
        long[] grid = {shape[2] / cfg.patchSize().get(0), shape[3] / cfg.patchSize().get(1),
                shape[4] / cfg.patchSize().get(2)};
        long imageTokens = grid[0] * grid[1] * grid[2];
        double flops = cfg.flopsPerForward(imageTokens, o.textLen()) * shape[0];
        String what = "DiT forward " + shape[3] * 8 + "×" + shape[4] * 8 + "×" + ((shape[2] - 1) * 4 + 1);
        try (PointerScope scope = new PointerScope()) {
            long b = shape[0];
            DitInputs in = randomInputs(cfg, shape, o.textLen(), o.textValid(), device, dtype)
                    .withAttention(o.attention());
            String backend = o.sdp();
            if (o.probeSdp()) {
                backend = probeSdp(cfg, b, imageTokens + o.textValid(), device, dtype, o.sdp());
            }
            if (o.attention().quantized()) {
                boolean kernel = device.is_cuda() && cfg.headDim() == QuantizedAttention.HEAD_DIM
                        && QuantizedAttention.kernelAvailable(Math.max(device.index(), 0),
                        o.attention().valueProduct());
                String name = o.attention().optionName();
                backend = kernel ? name + " kernel" : name + " → SDPA fallback (" + backend + ")";
            }
            selectSdp(o.sdp());
            Tensor[] last = new Tensor[1];
            Runnable step = () -> {
                try (PointerScope s = new PointerScope()) {
                    Tensor out = dit.forward(in);
                    CudaMemory.synchronize();
                    if (last[0] != null) {
                        last[0].releaseReference();
                    }
                    last[0] = out.cpu();
                    last[0].retainReference();
                }
            };
            for (int i = 0; i < o.warmup(); i++) {
                step.run();
            }
            CudaMemory.synchronize();
            CudaMemory.resetPeak();
            long copiedBefore = dit.streamedBytesCopied();
            double[] times = new double[o.runs()];
            for (int i = 0; i < o.runs(); i++) {
                long s = System.nanoTime();
                step.run();
                times[i] = (System.nanoTime() - s) / 1e9;
                System.out.printf(Locale.ROOT, "  %s run %d: %.3f s%n", what, i + 1, times[i]);
            }
            long peak = CudaMemory.peakAllocatedBytes();
            double copiedPerStep = (dit.streamedBytesCopied() - copiedBefore) / (double) o.runs();
            String key = Arrays.toString(shape) + (fp8 ? " FP8" : "");
            String sameAsFirst;
            if (firstOutputs.containsKey(key)) {
                sameAsFirst = torch.equal(last[0], firstOutputs.get(key)) ? "bit-identical" : String.format(
                        Locale.ROOT, "differs (rel. %.2e)", Tensors.relativeError(last[0], firstOutputs.get(key)));
                last[0].releaseReference();
            } else {
                firstOutputs.put(key, last[0]);
                sameAsFirst = "first";
            }
            if (o.breakdown()) {
                breakdown(dit, in);
            }
            double[] sorted = times.clone();
            Arrays.sort(sorted);
            double median = sorted[sorted.length / 2];
            String copyTime = "–";
            String exposed = "–";
            if (dit.streaming().enabled()) {
                copyTime = Double.isNaN(copyBandwidth) ? "n/a" : String.format(Locale.ROOT, "%.2f s",
                        copiedPerStep / copyBandwidth);
                Double resident = residentMedians.get(key);
                exposed = resident == null ? "n/a (no resident row)" : String.format(Locale.ROOT, "%+.2f s",
                        median - resident);
            } else {
                residentMedians.put(key, median);
            }
            return String.format(Locale.ROOT, "| %s | latent %s | %d | %s | %.2f s | %.2f s | %.2f GiB | %.1f GB | %s "
                            + "| %s | %.0f | %s | %s |", what, Arrays.toString(shape), dit.streaming().streamedLayers(),
                    fp8 ? "FP8" : o.dtype(), median, sorted[0], CudaMemory.gib(peak), copiedPerStep / 1e9, copyTime,
                    exposed, flops / median / 1e12, backend, sameAsFirst);
        }
    }

    /**
     * Random inputs of one denoising step for latents of {@code shape}: timestep 997.093, {@code textLen} text tokens
     * of which the first {@code textValid} are valid, guidance 6016 (6.0 in bf16 as the pipeline feeds it), on
     * {@code device}; the text states in {@code dtype}. They belong to the caller's scope.
     */
    static DitInputs randomInputs(DitConfig cfg, long[] shape, int textLen, int textValid, Device device,
                                  ScalarType dtype) {
        TensorOptions onDevice = new TensorOptions(device).dtype(new ScalarTypeOptional(ScalarType.Float));
        long b = shape[0];
        Tensor x = torch.randn(shape, onDevice);
        Tensor t = torch.full(new long[]{b}, new org.bytedeco.pytorch.Scalar(997.093), onDevice);
        Tensor text = torch.randn(new long[]{b, textLen, cfg.textStatesDim()}, onDevice).to(dtype);
        Tensor mask = torch.zeros(new long[]{b, textLen}, new TensorOptions(ScalarType.Long));
        mask.narrow(1, 0, textValid).fill_(new org.bytedeco.pytorch.Scalar(1));
        Tensor text2 = torch.randn(new long[]{b, cfg.textStatesDim2()}, onDevice);
        Tensor guidance = torch.full(new long[]{b}, new org.bytedeco.pytorch.Scalar(6016.0), onDevice);
        return new DitInputs(x, t, text, mask, text2, guidance);
    }

    /**
     * One forward under a {@link StageTimer}: the blocks' own laps split them into GEMMs, norms, RoPE, attention and
     * residual passes; the probe's intermediates attribute the rest (embeddings, token refiner, final layer).
     */
    private static void breakdown(HunyuanVideoTransformer dit, DitInputs in) {
        Map<String, Double> stages;
        try (PointerScope s = new PointerScope(); StageTimer timer = StageTimer.start(in.latents().is_cuda())) {
            dit.forward(in, (name, value) -> {
                if (name.equals("final_layer")) {
                    StageTimer.lap("final layer");
                } else if (!name.startsWith("double_blocks.") && !name.startsWith("single_blocks.")) {
                    StageTimer.lap("embeddings + token refiner");
                }
            });
            StageTimer.lap("unpatchify");
            stages = timer.totals();
        }
        double total = stages.values().stream().mapToDouble(Double::doubleValue).sum();
        System.out.printf(Locale.ROOT, "  stage times of one forward (device time, summed over blocks), %.3f s:%n",
                total / 1e3);
        stages.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> System.out.printf(Locale.ROOT, "    %-58s %9.1f ms %6.2f %%%n", e.getKey(),
                        e.getValue(), 100 * e.getValue() / total));
    }

    /**
     * Times one SDPA call of the DiT's shape with libtorch's default choice and with each backend alone; returns the
     * backend whose time the default matches (or the forced one's name).
     */
    private static String probeSdp(DitConfig cfg, long batch, long len, Device device, ScalarType dtype,
                                   String forced) {
        long[] shape = {batch, cfg.headsNum(), len, cfg.headDim()};
        double flops = 4.0 * batch * len * len * cfg.hiddenSize();
        Map<String, Double> ms = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TensorOptions options = new TensorOptions(device).dtype(new ScalarTypeOptional(dtype));
            // The DiT's layout: [B, L, H, D] tensors seen as [B, H, L, D].
            long[] blhd = {batch, len, cfg.headsNum(), cfg.headDim()};
            Tensor q = torch.randn(blhd, options).transpose(1, 2);
            Tensor k = torch.randn(blhd, options).transpose(1, 2);
            Tensor v = torch.randn(blhd, options).transpose(1, 2);
            // The first call pays one-time setup (kernel selection, thread pools): keep it out of the table.
            timeSdpa(q, k, v);
            for (String b : prepend("default", BACKENDS)) {
                if (b.equals("math") && device.is_cuda()) {
                    // The math backend materialises the L×L scores: hundreds of GB at these lengths.
                    ms.put(b, Double.NaN);
                    continue;
                }
                selectSdp(b);
                try {
                    ms.put(b, timeSdpa(q, k, v));
                } catch (RuntimeException e) {
                    ms.put(b, Double.NaN);
                }
            }
        }
        selectSdp("default");
        String closest = "?";
        double best = Double.MAX_VALUE;
        for (String b : BACKENDS) {
            double d = Math.abs(ms.get(b) - ms.get("default"));
            if (!Double.isNaN(d) && d < best) {
                best = d;
                closest = b;
            }
        }
        System.out.printf(Locale.ROOT, "%n  SDPA %s, %s:%n", Arrays.toString(shape), dtype);
        ms.forEach((b, t) -> System.out.printf(Locale.ROOT, "    %-10s %s%n", b, Double.isNaN(t) ? "unavailable"
                : String.format(Locale.ROOT, "%9.2f ms  %6.0f TFLOP/s", t, flops / t / 1e9)));
        System.out.println("    default ≈ " + closest);
        return forced.equals("default") ? "default (≈ " + closest + ")" : forced;
    }

    private static List<String> prepend(String first, List<String> rest) {
        List<String> l = new ArrayList<>();
        l.add(first);
        l.addAll(rest);
        return l;
    }

    /** Milliseconds of one SDPA call (median of 3 after one warm-up). */
    static double timeSdpa(Tensor q, Tensor k, Tensor v) {
        return AttentionBench.medianMs(() -> torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0,
                false, new DoubleOptional(), false), 1, 3);
    }

    /** Enables only backend {@code name} ({@code default}: all of them, libtorch chooses). */
    static void selectSdp(String name) {
        Context ctx = torch.globalContext();
        boolean all = name.equals("default");
        ctx.setSDPUseFlash(all || name.equals("flash"));
        ctx.setSDPUseCuDNN(all || name.equals("cudnn"));
        ctx.setSDPUseMemEfficient(all || name.equals("efficient"));
        ctx.setSDPUseMath(all || name.equals("math"));
    }

    /** A small configuration with the real latent channels and text widths kept small, for CPU smoke tests. */
    static DitConfig tinyConfig() {
        return new DitConfig(List.of(1, 2, 2), 16, 16, 128, 2, 4.0, 2, 2, List.of(16, 24, 24), 256.0, true, true,
                true, 64, 32, 2);
    }

    private static Options parse(String[] args) {
        String device = "cuda";
        Precision dtype = Precision.BF16;
        String config = DitConfig.CFG_DISTILL_NAME;
        List<long[]> latents = List.of(new long[]{1, 16, 33, 68, 120}, new long[]{1, 16, 33, 90, 160});
        int textLen = 256;
        int textValid = 40;
        int warmup = 1;
        int runs = 3;
        String sdp = "default";
        boolean probe = true;
        boolean breakdown = false;
        String blas = "default";
        List<Integer> streamedBlocks = null;
        int prefetchDepth = 1;
        List<Boolean> fp8 = List.of(false);
        long maxGpuMemory = 0;
        Attention attention = Attention.SDPA;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--device" -> device = v;
                case "--dtype" -> dtype = Precision.parse(v);
                case "--config" -> config = v;
                case "--latents" -> latents = Arrays.stream(v.split(",")).map(DitBench::shape).toList();
                case "--text-len" -> textLen = positive(a, v);
                case "--text-valid" -> textValid = positive(a, v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--runs" -> runs = positive(a, v);
                case "--sdp" -> {
                    if (!v.equals("default") && !BACKENDS.contains(v)) {
                        throw new IllegalArgumentException("--sdp must be default or one of " + BACKENDS + ", got "
                                + v);
                    }
                    sdp = v;
                }
                case "--probe-sdp" -> probe = Boolean.parseBoolean(v);
                case "--breakdown" -> breakdown = Boolean.parseBoolean(v);
                case "--blas" -> {
                    if (!List.of("default", "cublas", "cublaslt").contains(v)) {
                        throw new IllegalArgumentException("--blas must be default, cublas or cublaslt, got " + v);
                    }
                    blas = v;
                }
                case "--streamed-blocks" -> streamedBlocks = Arrays.stream(v.split(",")).map(String::trim)
                        .map(Integer::parseInt).toList();
                case "--prefetch-depth" -> prefetchDepth = positive(a, v);
                case "--fp8" -> fp8 = Arrays.stream(v.split(",")).map(String::trim).map(DitBench::bool).toList();
                case MemoryCap.OPTION -> maxGpuMemory = MemoryCap.parse(v);
                case "--attention" -> attention = Attention.parse(v);
                default -> throw new IllegalArgumentException("unknown option " + a + " (see the class Javadoc)");
            }
        }
        if (textValid > textLen) {
            throw new IllegalArgumentException("--text-valid " + textValid + " exceeds --text-len " + textLen);
        }
        return new Options(device, dtype, config, latents, textLen, textValid, warmup, runs, sdp, probe, breakdown,
                blas, streamedBlocks, prefetchDepth, fp8, maxGpuMemory, attention);
    }

    /** {@code true} or {@code false}, nothing else (a typo must not silently run the other model). */
    private static boolean bool(String v) {
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException("--fp8 takes true, false or a list of them, got " + v);
        }
        return Boolean.parseBoolean(v);
    }

    private static int positive(String name, String v) {
        int n = Integer.parseInt(v);
        if (n < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + v);
        }
        return n;
    }

    /** {@code BxCxTxHxW} as its five sizes. */
    static long[] shape(String s) {
        return Arrays.stream(s.trim().split("x")).mapToLong(Long::parseLong).toArray();
    }
}
