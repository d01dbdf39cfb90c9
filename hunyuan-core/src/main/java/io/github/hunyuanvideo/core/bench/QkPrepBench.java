package io.github.hunyuanvideo.core.bench;

import io.github.hunyuanvideo.core.rope.FusedRope;
import io.github.hunyuanvideo.core.rope.Rope3d;
import io.github.hunyuanvideo.io.CudaMemory;
import io.github.hunyuanvideo.io.StageTimer;
import io.github.hunyuanvideo.io.Tensors;
import io.github.hunyuanvideo.io.nn.RmsNorm;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.CompilationUnit;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Function;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Locale;
import java.util.Map;

/**
 * Times the ways of preparing the attention operands of one DiT block at a real sequence length, to choose the
 * fastest: the q/k/v projection as one GEMM or as three, RMSNorm on a strided view of the fused projection or on a
 * contiguous q followed by the real-form RoPE of {@link Rope3d#applyHalves}, against {@link FusedRope} (RMSNorm and
 * RoPE as one TorchScript expression for libtorch's tensor-expression fuser) and a variant of its expression that
 * splits the halves before widening to float32. Device time per call from CUDA events, mean of {@code --reps} calls
 * after a warm-up; prints a markdown table.
 *
 * <p>Arguments (optional): {@code --device cuda|cpu} (default cuda), {@code --tokens S} (default 118840: 720×1280×129
 * plus 40 text tokens), {@code --heads H} (24), {@code --head-dim D} (128), {@code --reps N} (10). CPU smoke test:
 * {@code QkPrepBench --device cpu --tokens 64 --heads 2 --head-dim 16 --reps 1}.
 */
public final class QkPrepBench {
    /** {@link FusedRope}'s RMSNorm + RoPE with the halves split off the input before the float32 widening. */
    private static final String SPLIT_FIRST_SOURCE = """
            def qk(x: Tensor, weight: Tensor, cos: Tensor, sin: Tensor, eps: float) -> Tensor:
                norm = torch.linalg_vector_norm(x, 2.0, [-1], True, dtype=6)
                r = torch.rsqrt(norm * norm / x.size(-1) + eps)
                wa, wb = weight.chunk(2, -1)
                xa, xb = x.chunk(2, -1)
                a = xa.float() * r * wa
                b = xb.float() * r * wb
                return torch.cat([a * cos - b * sin, b * cos + a * sin], -1).to(x.dtype)
            """;

    private QkPrepBench() {
    }

    public static void main(String[] args) {
        String device = "cuda";
        long tokens = 118840;
        long heads = 24;
        long headDim = 128;
        int reps = 10;
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            String v = args[i + 1];
            switch (args[i]) {
                case "--device" -> device = v;
                case "--tokens" -> tokens = Long.parseLong(v);
                case "--heads" -> heads = Long.parseLong(v);
                case "--head-dim" -> headDim = Long.parseLong(v);
                case "--reps" -> reps = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Device dev = new Device(device);
        boolean cuda = dev.is_cuda();
        ScalarType dtype = cuda ? ScalarType.BFloat16 : ScalarType.Float;
        final long d = headDim;
        final long c = heads * d;
        final long s = tokens;
        final long h = heads;
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TensorOptions opt = new TensorOptions(dev).dtype(new ScalarTypeOptional(dtype));
            TensorOptions f32 = new TensorOptions(dev).dtype(new ScalarTypeOptional(ScalarType.Float));
            Tensor x = torch.randn(new long[]{s, c}, opt);
            Tensor w = torch.randn(new long[]{3 * c, c}, opt).mul_(new org.bytedeco.pytorch.Scalar(0.02));
            Tensor bias = torch.randn(new long[]{3 * c}, opt);
            Tensor normW = torch.rand(new long[]{d}, opt).add_(new org.bytedeco.pytorch.Scalar(0.5));
            Tensor angle = torch.rand(new long[]{s, d / 2}, f32).mul_(new org.bytedeco.pytorch.Scalar(6.0));
            Tensor table = torch.polar(torch.ones_like(angle), angle);
            FusedRope rope = FusedRope.of(angle.cos(), angle.sin());
            RmsNorm norm = new RmsNorm(normW, 1e-6);
            Function splitFirst = new CompilationUnit(SPLIT_FIRST_SOURCE).get_functions().get(0);
            Tensor normWf = normW.to(ScalarType.Float);
            Tensor cos = angle.cos().view(s, 1, d / 2);
            Tensor sin = angle.sin().view(s, 1, d / 2);
            Tensor qkv = torch.addmm(bias, x, w.t());
            Tensor strided = qkv.narrow(1, 0, c).view(1, s, h, d);
            Tensor q = qkv.narrow(1, 0, c).contiguous().view(1, s, h, d);
            Tensor ref = Rope3d.applyHalves(norm.forwardFused(q), table);
            Runnable[] variants = {
                () -> torch.addmm(bias, x, w.t()),
                () -> {
                    for (int p = 0; p < 3; p++) {
                        torch.addmm(bias.narrow(0, p * c, c), x, w.narrow(0, p * c, c).t());
                    }
                },
                () -> norm.forwardFused(strided),
                () -> norm.forwardFused(q),
                () -> Rope3d.applyHalves(q, table),
                () -> rope.rmsNormApply(q, norm),
                () -> rope.apply(q),
                () -> splitFirst.apply(new IValueVector(new IValue(q), new IValue(normWf), new IValue(cos),
                        new IValue(sin), new IValue(1e-6))),
            };
            String[] names = {
                "q/k/v GEMM, one N=3C", "q/k/v GEMM, three N=C", "rms_norm on the strided q view",
                "rms_norm on contiguous q", "RoPE (Rope3d.applyHalves)", "FusedRope.rmsNormApply",
                "FusedRope.apply (RoPE only)", "TorchScript variant: halves split before float32",
            };
            // Warm-up: cuBLAS/cuDNN choices, and the TorchScript profiling runs before any fusion.
            for (int i = 0; i < 3; i++) {
                for (Runnable r : variants) {
                    try (PointerScope inner = new PointerScope()) {
                        r.run();
                    }
                }
            }
            Map<String, Double> ms;
            try (StageTimer timer = StageTimer.start(cuda)) {
                StageTimer.lap("warm");
                for (int i = 0; i < reps; i++) {
                    for (int v = 0; v < variants.length; v++) {
                        try (PointerScope inner = new PointerScope()) {
                            variants[v].run();
                        }
                        StageTimer.lap(names[v]);
                    }
                }
                ms = timer.totals();
            }
            double fusedError;
            double splitError;
            try (PointerScope inner = new PointerScope()) {
                fusedError = Tensors.relativeError(rope.rmsNormApply(q, norm), ref);
                splitError = Tensors.relativeError(new Tensor(splitFirst.apply(new IValueVector(new IValue(q),
                        new IValue(normWf), new IValue(cos), new IValue(sin), new IValue(1e-6))).toTensor()), ref);
            }
            rope.close();
            norm.close();
            double bytes = (double) s * c * x.element_size();
            System.out.printf(Locale.ROOT, "%nq/k preparation, S=%d H=%d D=%d %s on %s; q is %.0f MB%n%n", s, h, d,
                    dtype, device, bytes / 1e6);
            System.out.println("| variant | ms per call |");
            System.out.println("|---|---|");
            for (String n : names) {
                System.out.printf(Locale.ROOT, "| %s | %.3f |%n", n, ms.get(n) / reps);
            }
            System.out.printf(Locale.ROOT, "%nvs rms_norm + applyHalves (two roundings): FusedRope %.3e, variant "
                    + "%.3e relative error%n", fusedError, splitError);
        }
        CudaMemory.synchronize();
    }
}
