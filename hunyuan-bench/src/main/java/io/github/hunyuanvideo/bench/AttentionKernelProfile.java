package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.dit.QuantizedAttention;
import io.github.hunyuanvideo.nn.CudaMemory;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.List;
import java.util.Locale;

/**
 * Where the 8-bit attention's time goes, for tuning the kernel: the quantization (torch ops, kernels) and the kernel
 * timed apart, at one DiT shape, for several compile-time variants of the kernel source ({@code -D} definitions, each
 * with its own quantization) side by side with their registers and local memory (spills; the driver's figures), each
 * variant's largest difference from the first and its accuracy against float32 attention on the first
 * {@value #CHECKED_HEADS} heads, and cuDNN bf16 SDPA on the same inputs. Prints markdown tables. CUDA (Hopper) only.
 *
 * <p>Arguments (optional): {@code --length L} (119096: 720×1280×129), {@code --heads H} (24),
 * {@code --variants ";STAGES=4;STAGES=2"} (variants separated by {@code ;}, definitions within one by
 * {@code ,}; an empty variant is the source as is; default: the source as is), {@code --iters N} (5, median
 * reported).
 */
public final class AttentionKernelProfile {
    private static final long CHECKED_HEADS = 2;

    private AttentionKernelProfile() {
    }

    public static void main(String[] args) {
        BenchOptions o = BenchOptions.parse(args, "--length", "--heads", "--variants", "--iters");
        long len = Long.parseLong(o.get("--length", "119096"));
        long heads = Long.parseLong(o.get("--heads", "24"));
        int iters = Integer.parseInt(o.get("--iters", "5"));
        List<String> variants = List.of(o.get("--variants", "").split(";", -1));
        if (!CudaMemory.available()) {
            throw new IllegalStateException("AttentionKernelProfile needs a CUDA device");
        }
        double flops = 4.0 * heads * len * len * QuantizedAttention.HEAD_DIM;
        try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            torch.manual_seed(11);
            TensorOptions bf16 = new TensorOptions(new Device("cuda:0"))
                    .dtype(new ScalarTypeOptional(ScalarType.BFloat16));
            long[] shape = {1, len, heads, QuantizedAttention.HEAD_DIM};
            Tensor q = torch.randn(shape, bf16);
            Tensor k = torch.randn(shape, bf16);
            Tensor v = torch.randn(shape, bf16);
            System.out.printf(Locale.ROOT, "L = %d, %d heads, head dim %d, bf16 inputs%n%n", len, heads,
                    QuantizedAttention.HEAD_DIM);
            System.out.println("| part | ms | TOPS |");
            System.out.println("|---|---|---|");
            QuantizedAttention.Kernels kernels = QuantizedAttention.compileKernels(0);
            row("quantize (torch ops, the reference's)",
                    AttentionBench.medianMs(() -> QuantizedAttention.quantize(q, k, v), 1, iters), 0);
            row("quantize (kernels)",
                    AttentionBench.medianMs(() -> QuantizedAttention.prepare(q, k, v, kernels), 1, iters), 0);
            DitBench.selectSdp("cudnn");
            Tensor qh = q.transpose(1, 2);
            Tensor kh = k.transpose(1, 2);
            Tensor vh = v.transpose(1, 2);
            row("cuDNN bf16 SDPA", DitBench.timeSdpa(qh, kh, vh), flops);
            DitBench.selectSdp("default");
            Tensor exact = torch.scaled_dot_product_attention(float32Heads(qh), float32Heads(kh), float32Heads(vh),
                    new TensorOptional(), 0.0, false, new DoubleOptional(), false).transpose(1, 2);
            System.out.println();
            System.out.println("| variant | registers | local bytes | kernel ms | TOPS | max abs vs first "
                    + "| cosine vs fp32 | rel L1 vs fp32 |");
            System.out.println("|---|---|---|---|---|---|---|---|");
            Tensor first = null;
            for (String variant : variants) {
                String[] defines = variant.isBlank() ? new String[0] : variant.split(",");
                try (PointerScope variantScope = new PointerScope()) {
                    QuantizedAttention.Kernels variantKernels = QuantizedAttention.compileKernels(0, defines);
                    // the variant's own quantization: a knob may change the operands' images (PV_FP8_EVERY: V's)
                    QuantizedAttention.Operands z = QuantizedAttention.prepare(q, k, v, variantKernels);
                    Tensor out = QuantizedAttention.attend(z, variantKernels);
                    double ms = AttentionBench.medianMs(() -> QuantizedAttention.attend(z, variantKernels), 1, iters);
                    double diff = first == null ? 0 : out.to(ScalarType.Float).sub(first.to(ScalarType.Float)).abs()
                            .max().item_double();
                    if (first == null) {
                        first = out;
                        first.retainReference();  // outlives the variant's scope
                    }
                    double[] accuracy = AttentionGpuCheck.compare(
                            out.narrow(2, 0, CHECKED_HEADS).to(ScalarType.Float), exact);
                    System.out.printf(Locale.ROOT, "| %s | %d | %d | %.1f | %.0f | %.2e | %.5f | %.4f |%n",
                            variant.isBlank() ? "(as is)" : variant, variantKernels.attention().registers(),
                            variantKernels.attention().localBytes(), ms, flops / ms / 1e9, diff,
                            accuracy[0], accuracy[1]);
                }
            }
        }
    }

    /** The first {@value #CHECKED_HEADS} heads of {@code [B, H, L, D]} in float32. */
    private static Tensor float32Heads(Tensor x) {
        return x.narrow(1, 0, CHECKED_HEADS).to(ScalarType.Float);
    }

    private static void row(String part, double ms, double flops) {
        System.out.printf(Locale.ROOT, "| %s | %.1f | %s |%n", part, ms,
                flops == 0 ? "–" : String.format(Locale.ROOT, "%.0f", flops / ms / 1e9));
    }
}
