package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.dit.QuantizedAttention;
import io.github.hunyuanvideo.dit.QuantizedAttention.ValueProduct;
import io.github.hunyuanvideo.nn.CudaMemory;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The DiT's attention with cuDNN bf16 SDPA against the 8-bit attention ({@link QuantizedAttention#attend} with each
 * P·V product: what {@code --attention int8} and {@code --attention int8-fp8} run), in one run at the DiT's shapes
 * ({@code [1, L, 24, 128]}, no mask): milliseconds per call (median, the device synchronized around each call),
 * TFLOP/s counted as {@code 4·B·H·L²·D} for all, and the speed-ups. Then the accuracy of each against float32
 * attention (cosine similarity and relative L1 {@code Σ|out − ref| / Σ|ref|}) on Gaussian q/k/v and on keys with a large per-channel offset
 * ({@code K + 5·N(0, 1)} per head and channel, the same for every token, as real DiT keys carry), over the first
 * {@code --accuracy-heads} heads at the full length (float32 attention of all 24 heads at 119,096 tokens is heavy).
 * All see the same bf16-rounded inputs, so the errors are the attention's alone. Prints markdown tables.
 *
 * <p>Arguments (all optional): {@code --device cuda|cuda:N|cpu} (default cuda; {@code cpu} only smoke-tests the
 * program: libtorch's CPU SDPA, and INT8 falls back to it), {@code --length L1,L2,...} (default
 * {@code 67616,119096}: 544×960×129 and 720×1280×129), {@code --heads H} (24), {@code --iters N} timed calls (5),
 * {@code --warmup N} untimed calls first (1), {@code --accuracy-heads N} (2; 0 skips the accuracy table). Where the
 * 8-bit kernel cannot run (not Hopper; see its warning) the INT8 columns are the SDPA fallback, and the header says
 * so.
 */
public final class AttentionBench {
    /** The offset scale of the keys' per-channel offset in the accuracy table. */
    static final double KEY_OFFSET = 5;
    private static final long BATCH = 1;
    private static final long HEAD_DIM = QuantizedAttention.HEAD_DIM;

    private AttentionBench() {
    }

    /** The parsed command line. */
    private record Options(String deviceName, Device device, List<Long> lengths, long heads, int iters, int warmup,
                           long accuracyHeads) {
    }

    public static void main(String[] args) {
        run(args, System.out);
    }

    /** Runs the benchmark, printing to {@code out}. */
    static void run(String[] args, PrintStream out) {
        Options o = parse(args);
        int index = o.device().index() < 0 ? 0 : o.device().index();
        boolean kernel = o.device().is_cuda() && QuantizedAttention.kernelAvailable(index, ValueProduct.BF16)
                && QuantizedAttention.kernelAvailable(index, ValueProduct.FP8);
        String sdpaBackend = o.device().is_cuda() ? "cudnn" : "default";
        out.printf(Locale.ROOT, "%nAttention B=%d, H=%d, D=%d on %s; SDPA: %s bf16; INT8: %s; %d warm-up + %d timed "
                        + "calls, median%n%n", BATCH, o.heads(), HEAD_DIM, o.deviceName(), sdpaBackend,
                kernel ? "QuantizedAttention.attend (8-bit kernel)" : "unavailable here, the columns are its SDPA "
                        + "fallback", o.warmup(), o.iters());
        out.println("| L | SDPA ms | SDPA TFLOP/s | INT8 ms | INT8 TFLOP/s | speed-up | INT8-FP8 ms "
                + "| INT8-FP8 TFLOP/s | speed-up |");
        out.println("|---|---|---|---|---|---|---|---|---|");
        try (InferenceMode mode = new InferenceMode()) {
            for (long len : o.lengths()) {
                time(out, o, len, sdpaBackend);
            }
            if (o.accuracyHeads() > 0) {
                out.printf(Locale.ROOT, "%nAccuracy against float32 attention of the same bf16 inputs, heads 0-%d "
                        + "of [1, L, %d, %d]%n%n", o.accuracyHeads() - 1, o.heads(), HEAD_DIM);
                out.println("| L | inputs | SDPA bf16: cosine | SDPA bf16: rel. L1 | INT8: cosine | INT8: rel. L1 "
                        + "| INT8-FP8: cosine | INT8-FP8: rel. L1 |");
                out.println("|---|---|---|---|---|---|---|---|");
                for (long len : o.lengths()) {
                    for (double offset : new double[]{0, KEY_OFFSET}) {
                        accuracy(out, o, len, offset, sdpaBackend);
                    }
                }
            }
        }
    }

    /** One row of the timing table: bf16 q/k/v {@code [1, len, H, 128]}, as the DiT passes them. */
    private static void time(PrintStream out, Options o, long len, String sdpaBackend) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(0);
            Tensor[] qkv = inputs(o.device(), len, o.heads(), 0);
            Tensor q = qkv[0].to(ScalarType.BFloat16);
            Tensor k = qkv[1].to(ScalarType.BFloat16);
            Tensor v = qkv[2].to(ScalarType.BFloat16);
            qkv[0].close();
            qkv[1].close();
            qkv[2].close();
            DitBench.selectSdp(sdpaBackend);
            double sdpaMs;
            try {
                sdpaMs = medianMs(() -> AttentionGpuCheck.sdpa(q, k, v), o.warmup(), o.iters());
            } finally {
                DitBench.selectSdp("default");
            }
            double flops = 4.0 * BATCH * o.heads() * len * len * HEAD_DIM;
            out.printf(Locale.ROOT, "| %d | %.2f | %.0f |", len, sdpaMs, flops / sdpaMs / 1e9);
            for (ValueProduct product : ValueProduct.values()) {
                double ms = medianMs(() -> QuantizedAttention.attend(q, k, v, product), o.warmup(), o.iters());
                out.printf(Locale.ROOT, " %.2f | %.0f | ×%.2f |", ms, flops / ms / 1e9, sdpaMs / ms);
            }
            out.println();
        }
    }

    /** One row of the accuracy table, over the first {@code --accuracy-heads} heads. */
    private static void accuracy(PrintStream out, Options o, long len, double keyOffset, String sdpaBackend) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(1);
            Tensor[] qkv = inputs(o.device(), len, o.accuracyHeads(), keyOffset);
            // the bf16 inputs every backend sees, and the same values in float32 for the reference
            Tensor q = qkv[0].to(ScalarType.BFloat16);
            Tensor k = qkv[1].to(ScalarType.BFloat16);
            Tensor v = qkv[2].to(ScalarType.BFloat16);
            // float32 SDPA without the L×L score matrix (mem-efficient kernel) on CUDA; the default on the CPU
            DitBench.selectSdp(o.device().is_cuda() ? "efficient" : "default");
            Tensor exact;
            try {
                exact = AttentionGpuCheck.sdpa(q.to(ScalarType.Float), k.to(ScalarType.Float),
                        v.to(ScalarType.Float));
                DitBench.selectSdp(sdpaBackend);
                double[] sdpa = AttentionGpuCheck.compare(AttentionGpuCheck.sdpa(q, k, v).to(ScalarType.Float), exact);
                out.printf(Locale.ROOT, "| %d | %s | %.5f | %.4f |", len, keyOffset == 0 ? "Gaussian"
                        : String.format(Locale.ROOT, "K + %.0f·N(0,1) per channel", keyOffset), sdpa[0], sdpa[1]);
                for (ValueProduct product : ValueProduct.values()) {
                    double[] int8 = AttentionGpuCheck.compare(
                            QuantizedAttention.attend(q, k, v, product).to(ScalarType.Float), exact);
                    out.printf(Locale.ROOT, " %.5f | %.4f |", int8[0], int8[1]);
                }
                out.println();
            } finally {
                DitBench.selectSdp("default");
            }
        }
    }

    /** Float32 Gaussian q, k, v {@code [1, len, heads, 128]} on {@code device}, see the other overload. */
    private static Tensor[] inputs(Device device, long len, long heads, double keyOffset) {
        return inputs(device, ScalarType.Float, BATCH, len, heads, keyOffset);
    }

    /**
     * Gaussian q, k, v {@code [batch, len, heads, 128]} of {@code dtype} on {@code device}, k plus
     * {@code keyOffset·N(0, 1)} per head and channel, constant over the tokens (real DiT keys carry such an offset).
     */
    static Tensor[] inputs(Device device, ScalarType dtype, long batch, long len, long heads, double keyOffset) {
        TensorOptions options = new TensorOptions(device).dtype(new ScalarTypeOptional(dtype));
        long[] shape = {batch, len, heads, HEAD_DIM};
        Tensor q = torch.randn(shape, options);
        Tensor k = torch.randn(shape, options);
        if (keyOffset != 0) {
            k.add_(torch.randn(new long[]{1, 1, heads, HEAD_DIM}, options).mul(new Scalar(keyOffset)));
        }
        return new Tensor[]{q, k, torch.randn(shape, options)};
    }

    /**
     * Milliseconds of one call: the median of {@code iters} timed calls after {@code warmup} untimed ones, the device
     * synchronized before and after each (wall time, device included); each call's tensors are freed after it.
     */
    static double medianMs(Supplier<?> call, int warmup, int iters) {
        double[] ms = new double[iters];
        for (int i = -warmup; i < iters; i++) {
            try (PointerScope scope = new PointerScope()) {
                CudaMemory.synchronize();
                long t0 = System.nanoTime();
                call.get();
                CudaMemory.synchronize();
                if (i >= 0) {
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
            }
        }
        Arrays.sort(ms);
        return ms[iters / 2];
    }

    private static Options parse(String[] args) {
        BenchOptions o = BenchOptions.parse(args, "--device", "--length", "--heads", "--iters", "--warmup",
                "--accuracy-heads");
        List<Long> lengths = new ArrayList<>();
        for (double l : o.getNumbers("--length", List.of(67616.0, 119096.0))) {
            if (l < 1 || l != Math.rint(l)) {
                throw new IllegalArgumentException("--length: lengths must be whole numbers >= 1, got " + l);
            }
            lengths.add((long) l);
        }
        long heads = atLeast(o, "--heads", 24, 1);
        int iters = (int) atLeast(o, "--iters", 5, 1);
        int warmup = (int) atLeast(o, "--warmup", 1, 0);
        long accuracyHeads = atLeast(o, "--accuracy-heads", 2, 0);
        if (accuracyHeads > heads) {
            throw new IllegalArgumentException("--accuracy-heads " + accuracyHeads + " exceeds --heads " + heads);
        }
        String name = o.get("--device", "cuda");
        Device device = new Device(name);
        if (device.is_cuda() && !CudaMemory.available()) {
            throw new IllegalArgumentException("--device " + name + ": CUDA is not available (AttentionBench times "
                    + "GPU kernels; --device cpu only smoke-tests the program)");
        }
        return new Options(name, device, lengths, heads, iters, warmup, accuracyHeads);
    }

    private static long atLeast(BenchOptions o, String name, long fallback, long min) {
        long v = o.getLong(name, fallback);
        if (v < min) {
            throw new IllegalArgumentException(name + " must be >= " + min + ", got " + v);
        }
        return v;
    }
}
