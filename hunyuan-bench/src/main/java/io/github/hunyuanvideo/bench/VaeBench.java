package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.MemorySize;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.vae.CausalVideoVae;
import io.github.hunyuanvideo.vae.TilingConfig;
import io.github.hunyuanvideo.vae.VaeConfig;
import io.github.hunyuanvideo.vae.VaeMemory;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Tiled VAE decode benchmark: the full-size {@code 884-16c-hy} VAE with seeded random weights, official tiles,
 * decoding latents of the 544p and 720p videos; prints a markdown table with the median time, the peak CUDA memory
 * ({@code torch.cuda.max_memory_allocated}: the caching allocator's peak of allocated bytes, weights included) and,
 * next to it, the estimate of {@link VaeMemory} (weights + decode) for the row's tiling, and the streamed weights
 * copied to the device per decode.
 *
 * <p>Arguments (all optional):
 * <ul>
 *   <li>{@code --device cuda|cuda:N|cpu}, default cuda</li>
 *   <li>{@code --dtype fp16|bf16|fp32}, default fp16 (the official VAE precision)</li>
 *   <li>{@code --shapes BxCxTxHxW,...} latent shapes, default {@code 1x16x33x68x120,1x16x33x90x160}
 *       (129×544×960 and 129×720×1280)</li>
 *   <li>{@code --modes buffer,sink} {@code buffer}: {@code decode(latents)} into one output tensor (what the pipeline
 *       does); {@code sink}: {@code decode(latents, sink)} streaming the frames to a consumer that drops them.
 *       Default buffer</li>
 *   <li>{@code --runs N} timed runs per row (median reported), default 3; {@code --warmup N}, default 1</li>
 *   <li>{@code --cudnn-benchmark true|false} cuDNN autotuning ({@code torch.backends.cudnn.benchmark}), default
 *       true</li>
 *   <li>{@code --tile-px P}, {@code --tile-frames F} tile sizes, default the config's (256 px, 64 frames)</li>
 *   <li>{@code --max-gpu-memory SIZE} (e.g. {@code 8G}, {@code 6GiB}, {@code 4000M}; units are powers of 1024) a
 *       device-memory budget for weights and decode: each row's tiling is {@link TilingConfig#fitting} for the budget
 *       minus the weights ({@link VaeMemory#weightBytes}, or {@link VaeMemory#streamedWeightBytes} streamed); not
 *       with {@code --tile-px}/{@code --tile-frames}</li>
 *   <li>{@code --streamed false|true|false,true} one model per entry, resident or with its weights streamed from
 *       host memory part by part ({@code CausalVideoVae} streamed), each built from the same seeded weights and
 *       timed in turn; default false</li>
 *   <li>{@code --small} a tiny VAE (widths 8..32) and latent 1x16x9x6x10, to check on a CPU that the program runs</li>
 * </ul>
 * Example (GPU): {@code java -cp ... io.github.hunyuanvideo.bench.VaeBench}; smoke test:
 * {@code ... VaeBench --device cpu --small --runs 1 --warmup 0}.
 */
public final class VaeBench {
    private static final String PYTHON_FIGURE = "Python (official, random fp16 weights, official tiles, H100 80GB "
            + "HBM3, torch 2.11): 544×960×129 in 19.7 s, peak 22.4 GiB (VAE alone)";

    private VaeBench() {
    }

    private record Options(String device, Precision dtype, List<long[]> shapes, List<String> modes, int runs,
                           int warmup, boolean cudnnBenchmark, Integer tilePx, Integer tileFrames, Long maxGpuMemory,
                           List<Boolean> streamed, boolean small) {
    }

    public static void main(String[] args) {
        Options o = parse(args);
        Device device = new Device(o.device());
        if (device.is_cuda() && !CudaMemory.available()) {
            throw new IllegalArgumentException("--device " + o.device() + ": CUDA is not available");
        }
        if (device.is_cuda() && o.cudnnBenchmark()) {
            // libtorch's default is off; left untouched when off so that the flag can rule this call out
            torch.globalContext().setBenchmarkCuDNN(true);
        }
        VaeConfig config = o.small() ? smallConfig() : VaeConfig.official();
        TilingConfig given = new TilingConfig(o.tilePx() != null ? o.tilePx() : config.sampleSize(),
                o.tileFrames() != null ? o.tileFrames() : config.sampleTsize(), 0.25, true, true);
        ScalarType dtype = o.dtype().scalarType();
        for (long[] s : o.shapes()) {
            if (s.length != 5 || s[1] != config.latentChannels()) {
                throw new IllegalArgumentException("--shapes entry " + Arrays.toString(s) + " must be Bx"
                        + config.latentChannels() + "xTxHxW");
            }
        }
        // chosen before anything loads, so a budget too small fails at once
        List<List<TilingConfig>> tilings = new ArrayList<>();
        for (boolean streamed : o.streamed()) {
            long weightEstimate = weightEstimate(config, dtype, streamed);
            tilings.add(o.shapes().stream().map(s -> o.maxGpuMemory() == null ? given : TilingConfig.fitting(config,
                    dtype, s, o.maxGpuMemory() - weightEstimate, "--max-gpu-memory")).toList());
        }
        for (int m = 0; m < o.streamed().size(); m++) {
            boolean streamed = o.streamed().get(m);
            long weightEstimate = weightEstimate(config, dtype, streamed);
            long t0 = System.nanoTime();
            try (CausalVideoVae vae = CausalVideoVae.withRandomWeights(config, device, dtype, 0, streamed)) {
                CudaMemory.synchronize();
                double buildS = (System.nanoTime() - t0) / 1e9;
                long weights = CudaMemory.allocatedBytes();
                System.out.printf(Locale.ROOT, "%nVAE %s, %s weights %s on %s (built in %.1f s, %.2f GiB on the GPU, "
                                + "estimated %.2f GiB), %s, overlap %.2f, cuDNN benchmark %s, %d CPU threads%n%n",
                        o.small() ? "small (test widths)" : "884-16c-hy", o.dtype(), weightsIn(streamed), o.device(),
                        buildS, CudaMemory.gib(weights), CudaMemory.gib(weightEstimate), o.maxGpuMemory() == null
                                ? "tiles as given" : String.format(Locale.ROOT,
                                "tiles fitting --max-gpu-memory %.2f GiB", CudaMemory.gib(o.maxGpuMemory())),
                        given.overlapFactor(), device.is_cuda() ? o.cudnnBenchmark() : "n/a",
                        torch.get_num_threads());
                System.out.println("| latent | video | tiles px / frames | mode | weights | median s | min s | max s | "
                        + "peak allocated GiB | estimated GiB | reserved GiB after | copied GiB per decode |");
                System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
                for (int i = 0; i < o.shapes().size(); i++) {
                    long[] shape = o.shapes().get(i);
                    TilingConfig tiling = tilings.get(m).get(i);
                    vae.setTiling(tiling);
                    long estimate = weightEstimate + VaeMemory.decodeBytes(config, dtype, shape, tiling);
                    for (String mode : o.modes()) {
                        row(vae, config, device, shape, mode, estimate, o);
                    }
                }
            }
        }
        System.out.println();
        System.out.println(PYTHON_FIGURE);
    }

    /** The device bytes {@link VaeMemory} expects the weights to take, resident or streamed. */
    private static long weightEstimate(VaeConfig config, ScalarType dtype, boolean streamed) {
        return streamed ? VaeMemory.streamedWeightBytes(config, dtype) : VaeMemory.weightBytes(config, dtype);
    }

    private static String weightsIn(boolean streamed) {
        return streamed ? "streamed" : "resident";
    }

    /** One table row; {@code estimate}: weights + decode by {@link VaeMemory} (for the buffer mode). */
    private static void row(CausalVideoVae vae, VaeConfig config, Device device, long[] shape, String mode,
                            long estimate, Options o) {
        double[] times = new double[o.runs()];
        long peak = 0;
        long copied = 0;
        long[] video = {0};
        try (PointerScope scope = new PointerScope()) {
            Tensor latents = torch.randn(shape, new TensorOptions(device).dtype(
                    new org.bytedeco.pytorch.ScalarTypeOptional(ScalarType.Float)));
            for (int i = -o.warmup(); i < o.runs(); i++) {
                CudaMemory.synchronize();
                CudaMemory.resetPeak();
                long copiedBefore = vae.streamedBytesCopied();
                long a = System.nanoTime();
                try (PointerScope run = new PointerScope()) {
                    if (mode.equals("buffer")) {
                        video[0] = vae.decode(latents).size(2);
                    } else {
                        long[] frames = {0};
                        vae.decode(latents, (chunk, first) -> frames[0] = first + chunk.size(2));
                        video[0] = frames[0];
                    }
                    CudaMemory.synchronize();
                }
                double s = (System.nanoTime() - a) / 1e9;
                if (i >= 0) {
                    times[i] = s;
                    peak = Math.max(peak, CudaMemory.peakAllocatedBytes());
                    copied += vae.streamedBytesCopied() - copiedBefore;
                }
            }
        }
        double[] sorted = times.clone();
        Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        String out = video[0] + "×" + config.decodedSize(shape[3]) + "×" + config.decodedSize(shape[4]);
        TilingConfig tiling = vae.tiling();
        System.out.printf(Locale.ROOT, "| %s | %s | %d / %d | %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | "
                        + "%.2f |%n", String.join("×", Arrays.stream(shape).mapToObj(Long::toString).toList()), out,
                tiling.spatialTileSize(), tiling.temporalTileFrames(), mode, weightsIn(vae.streamed()), median,
                sorted[0], sorted[sorted.length - 1], CudaMemory.gib(peak), CudaMemory.gib(estimate),
                CudaMemory.gib(CudaMemory.reservedBytes()), CudaMemory.gib(copied) / o.runs());
    }

    /** The vae_tiny widths with 16 latent channels, so the default latent layout stays valid. */
    static VaeConfig smallConfig() {
        return new VaeConfig(3, 3, 16, List.of(8, 16, 32, 32), 2, 4, 32, 16, 0.476986, 4, 8, true);
    }

    private static Options parse(String[] args) {
        String device = "cuda";
        Precision dtype = Precision.FP16;
        List<long[]> shapes = null;
        List<String> modes = List.of("buffer");
        int runs = 3;
        int warmup = 1;
        boolean cudnn = true;
        Integer tilePx = null;
        Integer tileFrames = null;
        Long maxGpuMemory = null;
        List<Boolean> streamed = List.of(false);
        boolean small = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--small" -> small = true;
                case "--device" -> device = value(args, ++i, a);
                case "--dtype" -> dtype = Precision.parse(value(args, ++i, a));
                case "--shapes" -> shapes = parseShapes(value(args, ++i, a));
                case "--modes" -> {
                    modes = List.of(value(args, ++i, a).split(","));
                    for (String m : modes) {
                        if (!m.equals("buffer") && !m.equals("sink")) {
                            throw new IllegalArgumentException("--modes entries are buffer or sink, got " + m);
                        }
                    }
                }
                case "--runs" -> runs = positive(value(args, ++i, a), a, 1);
                case "--warmup" -> warmup = positive(value(args, ++i, a), a, 0);
                case "--cudnn-benchmark" -> cudnn = Boolean.parseBoolean(value(args, ++i, a));
                case "--tile-px" -> tilePx = positive(value(args, ++i, a), a, 1);
                case "--tile-frames" -> tileFrames = positive(value(args, ++i, a), a, 1);
                case "--max-gpu-memory" -> maxGpuMemory = MemorySize.parse(a, value(args, ++i, a));
                case "--streamed" -> streamed = Arrays.stream(value(args, ++i, a).split(","))
                        .map(v -> bool(v.trim(), a)).toList();
                default -> throw new IllegalArgumentException("unknown argument " + a + " (see the class Javadoc)");
            }
        }
        if (maxGpuMemory != null && (tilePx != null || tileFrames != null)) {
            throw new IllegalArgumentException("--max-gpu-memory chooses the tiles: give it or --tile-px/--tile-frames");
        }
        if (shapes == null) {
            shapes = small ? List.of(new long[]{1, 16, 9, 6, 10})
                    : List.of(new long[]{1, 16, 33, 68, 120}, new long[]{1, 16, 33, 90, 160});
        }
        return new Options(device, dtype, shapes, modes, runs, warmup, cudnn, tilePx, tileFrames, maxGpuMemory,
                streamed, small);
    }

    private static List<long[]> parseShapes(String s) {
        List<long[]> out = new ArrayList<>();
        for (String shape : s.split(",")) {
            try {
                out.add(Arrays.stream(shape.trim().split("x")).mapToLong(Long::parseLong).toArray());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--shapes entry '" + shape + "' is not BxCxTxHxW", e);
            }
        }
        return out;
    }

    /** {@code true} or {@code false}, nothing else (a typo must not silently mean false). */
    private static boolean bool(String v, String flag) {
        return switch (v) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(flag + " entries are true or false, got '" + v + "'");
        };
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i];
    }

    private static int positive(String v, String flag, int min) {
        try {
            int n = Integer.parseInt(v);
            if (n < min) {
                throw new IllegalArgumentException(flag + " must be ≥ " + min + ", got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be an integer, got " + v, e);
        }
    }
}
