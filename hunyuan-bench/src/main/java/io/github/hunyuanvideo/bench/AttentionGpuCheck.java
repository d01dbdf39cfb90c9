package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.dit.QuantizedAttention;
import io.github.hunyuanvideo.nn.CudaMemory;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Accuracy of the 8-bit attention (issue 16, stage 1): the CUDA kernel against float32 SDPA and against its torch-ops
 * reference ({@link QuantizedAttention#reference}), on Gaussian q/k/v and on keys with a large per-channel offset;
 * the reference against float32 SDPA too; and the kernel's time next to bf16 SDPA's (informative only: this kernel
 * is not yet the fast one). Prints a markdown table; exits with status 1 if a cosine is below 0.999 or a relative L1
 * above 3 % (kernel or reference against float32).
 *
 * <p>Arguments (optional): {@code --device cuda|cpu} (default cuda; on the CPU only the reference runs),
 * {@code --cases BxHxL,...} (default {@code 1x2x300,1x2x4100,1x24x67616}; head dim 128).
 */
public final class AttentionGpuCheck {
    static final double MIN_COSINE = 0.999;
    static final double MAX_REL_L1 = 0.03;
    private static final long HEAD_DIM = QuantizedAttention.HEAD_DIM;

    private AttentionGpuCheck() {
    }

    public static void main(String[] args) {
        if (!run(args, System.out)) {
            System.exit(1);
        }
    }

    /** Runs the check, printing to {@code out}; returns whether every case met the bars. */
    static boolean run(String[] args, PrintStream out) {
        BenchOptions o = BenchOptions.parse(args, "--device", "--cases");
        Device dev = new Device(o.get("--device", "cuda"));
        List<long[]> cases = List.of(o.get("--cases", "1x2x300,1x2x4100,1x24x67616").split(",")).stream()
                .map(AttentionGpuCheck::parseCase).toList();
        boolean kernel = dev.is_cuda() && QuantizedAttention.kernelAvailable(dev.index() < 0 ? 0 : dev.index());
        if (!kernel) {
            out.println(dev.is_cuda() ? "8-bit kernel unavailable on this GPU (see the warning): reference only"
                    : "8-bit kernel needs CUDA: reference only");
        }
        out.println("| B×H×L | inputs | kernel vs fp32: cosine | rel L1 | reference vs fp32: cosine | rel L1 "
                + "| kernel vs reference: max abs | kernel ms | SDPA bf16 ms | ok |");
        out.println("|---|---|---|---|---|---|---|---|---|---|");
        boolean ok = true;
        try (InferenceMode mode = new InferenceMode()) {
            for (long[] c : cases) {
                for (double offset : new double[]{0, 30}) {
                    ok &= checkCase(out, dev, c, offset, kernel);
                }
            }
        }
        return ok;
    }

    private static boolean checkCase(PrintStream out, Device dev, long[] c, double keyOffset, boolean kernel) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(7);
            TensorOptions f32 = new TensorOptions(dev).dtype(new ScalarTypeOptional(ScalarType.Float));
            long[] shape = {c[0], c[2], c[1], HEAD_DIM};
            Tensor q = torch.randn(shape, f32);
            Tensor k = torch.randn(shape, f32).add(torch.randn(new long[]{1, 1, c[1], HEAD_DIM}, f32)
                    .mul(new Scalar(keyOffset)));
            Tensor v = torch.randn(shape, f32);
            Tensor exact = sdpa(q, k, v);
            Tensor reference = QuantizedAttention.reference(q, k, v).to(ScalarType.Float);
            double[] ref = compare(reference, exact);
            boolean ok = meets(ref);
            String kernelCells;
            if (kernel) {
                Tensor qb = q.to(ScalarType.BFloat16);
                Tensor kb = k.to(ScalarType.BFloat16);
                Tensor vb = v.to(ScalarType.BFloat16);
                // Compare on the float32 inputs (what the reference saw); time on bf16 (what the DiT passes).
                Tensor ours = QuantizedAttention.attend(q, k, v).to(ScalarType.Float);
                double[] kern = compare(ours, exact);
                ok &= meets(kern);
                double maxAbs = ours.sub(reference).abs().max().item_double();
                double kernelMs = time(() -> QuantizedAttention.attend(qb, kb, vb));
                double sdpaMs = time(() -> sdpa(qb, kb, vb));
                kernelCells = String.format(Locale.ROOT, "%.5f | %.4f | %.5f | %.4f | %.2e | %.1f | %.1f",
                        kern[0], kern[1], ref[0], ref[1], maxAbs, kernelMs, sdpaMs);
            } else {
                kernelCells = String.format(Locale.ROOT, "– | – | %.5f | %.4f | – | – | –", ref[0], ref[1]);
            }
            out.printf(Locale.ROOT, "| %d×%d×%d | %s | %s | %s |%n", c[0], c[1], c[2],
                    keyOffset == 0 ? "Gaussian" : "K offset ×" + (int) keyOffset, kernelCells, ok ? "yes" : "NO");
            return ok;
        }
    }

    /** {cosine, relative L1} of {@code actual} against {@code expected}. */
    static double[] compare(Tensor actual, Tensor expected) {
        double cosine = torch.cosine_similarity(actual.flatten(), expected.flatten(), 0, 1e-12).item_double();
        double relL1 = actual.sub(expected).abs().sum().item_double() / expected.abs().sum().item_double();
        return new double[]{cosine, relL1};
    }

    private static boolean meets(double[] cosineAndRelL1) {
        return cosineAndRelL1[0] >= MIN_COSINE && cosineAndRelL1[1] <= MAX_REL_L1;
    }

    /** SDPA over {@code [B, L, H, D]}, returned as {@code [B, L, H, D]}. */
    private static Tensor sdpa(Tensor q, Tensor k, Tensor v) {
        return torch.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                new TensorOptional(), 0.0, false, new DoubleOptional(), false).transpose(1, 2);
    }

    /** Milliseconds of one call after a warm-up call, with the device synchronized around it. */
    private static double time(Supplier<Tensor> call) {
        try (PointerScope scope = new PointerScope()) {
            call.get();
            CudaMemory.synchronize();
            long t0 = System.nanoTime();
            call.get();
            CudaMemory.synchronize();
            return (System.nanoTime() - t0) / 1e6;
        }
    }

    private static long[] parseCase(String s) {
        String[] p = s.trim().split("x");
        if (p.length != 3) {
            throw new IllegalArgumentException("--cases: expected BxHxL, got " + s);
        }
        return new long[]{Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2])};
    }
}
