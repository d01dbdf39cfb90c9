package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.dit.FusedRope;
import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.StageTimer;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.RmsNorm;
import io.github.hunyuanvideo.nn.TorchScript;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Function;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Times the ways of preparing the attention operands of one DiT block at a real sequence length, to choose the
 * fastest: the q/k/v projection as one GEMM or as three, RMSNorm on a strided view of the fused projection or on a
 * contiguous q followed by the real-form RoPE op by op, against {@link FusedRope} (RMSNorm and RoPE as one
 * TorchScript expression for libtorch's tensor-expression fuser) and other forms of that expression.
 * Device time per call from CUDA events, mean of {@code --reps} calls after a warm-up; prints a markdown table.
 *
 * <p>Arguments (optional): {@code --device cuda|cpu} (default cuda), {@code --tokens S} (default 118840: 720×1280×129
 * plus 40 text tokens), {@code --heads H} (24), {@code --head-dim D} (128), {@code --reps N} (10). CPU smoke test:
 * {@code QkPrepBench --device cpu --tokens 64 --heads 2 --head-dim 16 --reps 1}.
 */
public final class QkPrepBench {
    /**
     * Other TorchScript forms of {@link FusedRope#rmsNormApply}'s expression, all {@code qk(x, weight, cos, sin, eps)}
     * returning bf16 (dtype 15): which form the tensor-expression fuser turns into the fastest kernel.
     */
    private static final Map<String, String> CANDIDATES = new LinkedHashMap<>();

    static {
        String head = """
                def qk(x: Tensor, weight: Tensor, cos: Tensor, sin: Tensor, eps: float) -> Tensor:
                    norm = torch.linalg_vector_norm(x, 2.0, [-1], True, dtype=6)
                    r = torch.rsqrt(norm * norm / x.size(-1) + eps)
                """;
        CANDIDATES.put("float32 product split after widening", head + """
                    a, b = (x.float() * r * weight).chunk(2, -1)
                    return torch.cat([a * cos - b * sin, b * cos + a * sin], -1).to(15)
                """);
        CANDIDATES.put("stack of two bf16 halves", head + """
                    a, b = (x.float() * r * weight).chunk(2, -1)
                    y = torch.stack([(a * cos - b * sin).to(15), (b * cos + a * sin).to(15)], -2)
                    return y.view(x.size())
                """);
        CANDIDATES.put("slices instead of chunk", head + """
                    n = x.float() * r * weight
                    h = x.size(-1) // 2
                    a = n[..., :h]
                    b = n[..., h:]
                    return torch.cat([a * cos - b * sin, b * cos + a * sin], -1).to(15)
                """);
    }

    private QkPrepBench() {
    }

    public static void main(String[] args) {
        BenchOptions o = BenchOptions.parse(args, "--device", "--tokens", "--heads", "--head-dim", "--reps");
        String device = o.get("--device", "cuda");
        long heads = o.getLong("--heads", 24);
        int reps = (int) o.getLong("--reps", 10);
        Device dev = new Device(device);
        boolean cuda = dev.is_cuda();
        ScalarType dtype = cuda ? ScalarType.BFloat16 : ScalarType.Float;
        final long d = o.getLong("--head-dim", 128);
        final long c = heads * d;
        final long s = o.getLong("--tokens", 118840);
        final long h = heads;
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TensorOptions opt = new TensorOptions(dev).dtype(new ScalarTypeOptional(dtype));
            TensorOptions f32 = new TensorOptions(dev).dtype(new ScalarTypeOptional(ScalarType.Float));
            Tensor x = torch.randn(new long[]{s, c}, opt);
            Tensor w = torch.randn(new long[]{3 * c, c}, opt).mul_(new org.bytedeco.pytorch.Scalar(0.02));
            Tensor bias = torch.randn(new long[]{3 * c}, opt);
            Tensor normW = torch.rand(new long[]{d}, opt).add_(new org.bytedeco.pytorch.Scalar(0.5));
            Tensor angle = torch.rand(new long[]{s, d / 2}, f32).mul_(new org.bytedeco.pytorch.Scalar(6.0));
            FusedRope rope = FusedRope.of(angle.cos(), angle.sin());
            RmsNorm norm = new RmsNorm(normW, 1e-6);
            Tensor normWf = normW.to(ScalarType.Float);
            Tensor cos = angle.cos().view(s, 1, d / 2);
            Tensor sin = angle.sin().view(s, 1, d / 2);
            Tensor qkv = torch.addmm(bias, x, w.t());
            Tensor strided = qkv.narrow(1, 0, c).view(1, s, h, d);
            Tensor q = qkv.narrow(1, 0, c).contiguous().view(1, s, h, d);
            Tensor ref = ropeHalves(norm.forwardFused(q), cos, sin);
            Tensor q32 = q.to(ScalarType.Float);
            Tensor wq = w.narrow(0, 0, c);
            Map<String, Runnable> variants = new LinkedHashMap<>();
            variants.put("q/k/v GEMM, one N=3C", () -> torch.addmm(bias, x, w.t()));
            variants.put("q/k/v GEMM, three N=C", () -> {
                for (int p = 0; p < 3; p++) {
                    torch.addmm(bias.narrow(0, p * c, c), x, w.narrow(0, p * c, c).t());
                }
            });
            variants.put("q GEMM, bf16 out", () -> torch.mm(x, wq.t()));
            if (cuda) {
                // mm with a float32 output from half-precision operands exists on CUDA only.
                variants.put("q GEMM, float32 out", () -> torch.mm_out(torch.empty(new long[]{s, c}, f32,
                        new org.bytedeco.pytorch.MemoryFormatOptional()), x, wq.t(), ScalarType.Float));
            }
            variants.put("rms_norm on the strided q view", () -> norm.forwardFused(strided));
            variants.put("rms_norm on contiguous q", () -> norm.forwardFused(q));
            variants.put("RoPE op by op", () -> ropeHalves(q, cos, sin));
            variants.put("‖q‖ (linalg_vector_norm)", () -> torch.linalg_vector_norm(q,
                    new org.bytedeco.pytorch.Scalar(2.0), new long[]{-1}, true,
                    new ScalarTypeOptional(ScalarType.Float)));
            variants.put("FusedRope.rmsNormApply", () -> rope.rmsNormApply(q, norm));
            variants.put("FusedRope.rmsNormApply, float32 q", () -> rope.rmsNormApply(q32, norm));
            variants.put("FusedRope.apply (RoPE only)", () -> rope.apply(q));
            Map<String, Function> candidates = new LinkedHashMap<>();
            CANDIDATES.forEach((name, src) -> {
                Function f = TorchScript.compile(src, "qk");
                candidates.put(name, f);
                variants.put("candidate: " + name, () -> candidate(f, q, normWf, cos, sin));
            });
            // Warm-up: cuBLAS/cuDNN choices, and the TorchScript profiling runs before any fusion.
            for (int i = 0; i < 3; i++) {
                for (Runnable r : variants.values()) {
                    try (PointerScope inner = new PointerScope()) {
                        r.run();
                    }
                }
            }
            Map<String, Double> ms;
            try (StageTimer timer = StageTimer.start(cuda)) {
                StageTimer.lap("warm");
                for (int i = 0; i < reps; i++) {
                    for (Map.Entry<String, Runnable> v : variants.entrySet()) {
                        try (PointerScope inner = new PointerScope()) {
                            v.getValue().run();
                        }
                        StageTimer.lap(v.getKey());
                    }
                }
                ms = timer.totals();
            }
            Map<String, Double> errors = new LinkedHashMap<>();
            try (PointerScope inner = new PointerScope()) {
                errors.put("FusedRope.rmsNormApply", Tensors.relativeError(rope.rmsNormApply(q, norm), ref));
                candidates.forEach((name, f) -> errors.put("candidate: " + name,
                        Tensors.relativeError(candidate(f, q, normWf, cos, sin), ref)));
            }
            rope.close();
            norm.close();
            double bytes = (double) s * c * x.element_size();
            System.out.printf(Locale.ROOT, "%nq/k preparation, S=%d H=%d D=%d %s on %s; q is %.0f MB%n%n", s, h, d,
                    dtype, device, bytes / 1e6);
            System.out.println("| variant | ms per call | relative error vs rms_norm + RoPE op by op |");
            System.out.println("|---|---|---|");
            for (String n : variants.keySet()) {
                Double e = errors.get(n);
                System.out.printf(Locale.ROOT, "| %s | %.3f | %s |%n", n, ms.get(n) / reps,
                        e == null ? "" : String.format(Locale.ROOT, "%.2e", e));
            }
        }
        CudaMemory.synchronize();
    }

    /**
     * The rotation of x in the halves layout, op by op: {@code y_a = a·cos − b·sin}, {@code y_b = b·cos + a·sin} with
     * a, b the halves of the head dim, in float32, rounded once to x's dtype.
     *
     * @param x   {@code [B, S, H, D]}
     * @param cos float32 {@code [S, 1, D/2]}
     * @param sin float32 {@code [S, 1, D/2]}
     */
    private static Tensor ropeHalves(Tensor x, Tensor cos, Tensor sin) {
        long h = x.size(3) / 2;
        Tensor a = x.narrow(3, 0, h).to(ScalarType.Float);
        Tensor b = x.narrow(3, h, h).to(ScalarType.Float);
        return torch.cat(new TensorArrayRef(new TensorVector(a.mul(cos).sub(b.mul(sin)), b.mul(cos).add(a.mul(sin)))),
                -1).to(x.scalar_type());
    }

    private static Tensor candidate(Function f, Tensor q, Tensor weight, Tensor cos, Tensor sin) {
        return TorchScript.call(f, new IValue(q), new IValue(weight), new IValue(cos), new IValue(sin),
                new IValue(1e-6));
    }
}
