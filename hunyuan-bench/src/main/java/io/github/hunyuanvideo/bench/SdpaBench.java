package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.TorchScript;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Function;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Times {@code scaled_dot_product_attention} at the DiT's attention shapes ({@code [1, 24, L, 128]} bf16) for each
 * memory layout the DiT could hand it — {@code [B, L, H, D]} tensors seen through a transpose (what a fused qkv
 * projection gives for free) or contiguous {@code [B, H, L, D]} — and each backend, to choose the layout and backend
 * of the DiT's attention. Prints a markdown table.
 *
 * <p>Arguments (optional): {@code --device cuda|cpu} (default cuda), {@code --lengths L1,L2,...} (default
 * {@code 67360,118840}: 544×960×129 and 720×1280×129 with 40 valid text tokens), {@code --heads H} (24),
 * {@code --head-dim D} (128), {@code --backends default,cudnn,flash}; {@code --kv-fractions 0.5,0.25} also times each
 * length against that fraction of keys, {@code --split-kv 2,4} attention over that many key blocks merged by their
 * log-sum-exp (cuDNN, CUDA only): whether the key length (the L2 cache) limits throughput. CPU smoke test:
 * {@code SdpaBench --device cpu --lengths 256 --heads 2 --head-dim 16 --backends default}.
 */
public final class SdpaBench {
    private SdpaBench() {
    }

    public static void main(String[] args) {
        BenchOptions o = BenchOptions.parse(args, "--device", "--lengths", "--heads", "--head-dim", "--backends",
                "--kv-fractions", "--split-kv");
        String device = o.get("--device", "cuda");
        List<Long> lengths = o.getNumbers("--lengths", List.of(67360.0, 118840.0)).stream().map(Double::longValue)
                .toList();
        long heads = o.getLong("--heads", 24);
        long headDim = o.getLong("--head-dim", 128);
        List<String> backends = List.of(o.get("--backends", "default,cudnn,flash").split(","));
        List<Double> kvFractions = o.getNumbers("--kv-fractions", List.of());
        List<Integer> splits = o.getNumbers("--split-kv", List.of()).stream().map(Double::intValue).toList();
        Device dev = new Device(device);
        ScalarType dtype = dev.is_cuda() ? ScalarType.BFloat16 : ScalarType.Float;
        System.out.println("| L | layout | backend | ms | TFLOP/s |");
        System.out.println("|---|---|---|---|---|");
        try (InferenceMode mode = new InferenceMode()) {
            for (long len : lengths) {
                double flops = 4.0 * len * len * heads * headDim;
                for (String layout : List.of("BLHD (transposed view)", "BHLD (contiguous)")) {
                    try (PointerScope scope = new PointerScope()) {
                        TensorOptions options = new TensorOptions(dev).dtype(new ScalarTypeOptional(dtype));
                        Tensor[] qkv = new Tensor[3];
                        for (int j = 0; j < 3; j++) {
                            qkv[j] = layout.startsWith("BLHD") ? blhd(dev, dtype, len, heads, headDim)
                                    : torch.randn(new long[]{1, heads, len, headDim}, options);
                        }
                        DitBench.timeSdpa(qkv[0], qkv[1], qkv[2]);
                        for (String b : backends) {
                            DitBench.selectSdp(b);
                            String cell;
                            try {
                                double ms = DitBench.timeSdpa(qkv[0], qkv[1], qkv[2]);
                                cell = String.format(Locale.ROOT, "%.2f | %.0f", ms, flops / ms / 1e9);
                            } catch (RuntimeException e) {
                                cell = "unavailable | –";
                            }
                            System.out.printf(Locale.ROOT, "| %d | %s | %s | %s |%n", len, layout, b, cell);
                        }
                        DitBench.selectSdp("default");
                    }
                }
            }
        }
        Function split = splits.isEmpty() ? null : TorchScript.compile(SPLIT_SOURCE, "split_attention");
        for (long len : lengths) {
            for (double f : kvFractions) {
                kvFraction(dev, dtype, len, Math.round(f * len), heads, headDim);
            }
            for (int parts : splits) {
                splitKv(split, dev, dtype, len, heads, headDim, parts);
            }
        }
        CudaMemory.synchronize();
    }

    /** A random {@code [1, len, H, D]} tensor seen as {@code [1, H, len, D]}: the DiT's q/k/v layout. */
    private static Tensor blhd(Device dev, ScalarType dtype, long len, long heads, long headDim) {
        TensorOptions options = new TensorOptions(dev).dtype(new ScalarTypeOptional(dtype));
        return torch.randn(new long[]{1, len, heads, headDim}, options).transpose(1, 2);
    }

    /** Default-backend SDPA of {@code len} queries against {@code kvLen} keys: does the key length change TFLOP/s? */
    private static void kvFraction(Device dev, ScalarType dtype, long len, long kvLen, long heads, long headDim) {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            Tensor q = blhd(dev, dtype, len, heads, headDim);
            Tensor k = blhd(dev, dtype, kvLen, heads, headDim);
            Tensor v = blhd(dev, dtype, kvLen, heads, headDim);
            DitBench.timeSdpa(q, k, v);
            double ms = DitBench.timeSdpa(q, k, v);
            System.out.printf(Locale.ROOT, "| q %d × kv %d | default | %.2f ms | %.0f TFLOP/s |%n", len, kvLen, ms,
                    4.0 * len * kvLen * heads * headDim / ms / 1e9);
        }
    }

    /** TorchScript: attention over {@code parts} key blocks merged by their log-sum-exp (cuDNN kernel). */
    private static final String SPLIT_SOURCE = """
            def split_attention(q: Tensor, k: Tensor, v: Tensor, parts: int) -> Tensor:
                n = k.size(2)
                step = (n + parts - 1) // parts
                acc = torch.zeros_like(q).float()
                lse = torch.full_like(q[:, :, :, :1].float(), -1e30)
                for i in range(parts):
                    a = i * step
                    b = min(n, a + step)
                    r = torch._scaled_dot_product_cudnn_attention(q, k[:, :, a:b], v[:, :, a:b], None, True)
                    l = r[1].reshape(q.size(0), q.size(1), q.size(2), 1)
                    m = torch.logaddexp(lse, l)
                    acc = acc * torch.exp(lse - m) + r[0].float() * torch.exp(l - m)
                    lse = m
                return acc.to(q.dtype)
            """;

    private static void splitKv(Function f, Device dev, ScalarType dtype, long len, long heads, long headDim,
                                int parts) {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            Tensor q = blhd(dev, dtype, len, heads, headDim);
            Tensor k = blhd(dev, dtype, len, heads, headDim);
            Tensor v = blhd(dev, dtype, len, heads, headDim);
            IValue[] in = {new IValue(q), new IValue(k), new IValue(v), new IValue(parts)};
            try {
                Tensor ref = torch.scaled_dot_product_attention(q, k, v);
                Tensor out = TorchScript.call(f, in);
                double err = out.to(ScalarType.Float).sub(ref.to(ScalarType.Float)).norm().item_double()
                        / ref.to(ScalarType.Float).norm().item_double();
                double[] ms = new double[3];
                for (int i = 0; i < 3; i++) {
                    CudaMemory.synchronize();
                    long t0 = System.nanoTime();
                    TorchScript.call(f, in);
                    CudaMemory.synchronize();
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
                Arrays.sort(ms);
                System.out.printf(Locale.ROOT, "| split-KV ×%d, L %d | cuDNN + LSE merge | %.2f ms | %.0f TFLOP/s |"
                        + " rel. error vs SDPA %.2e |%n", parts, len, ms[1],
                        4.0 * len * len * heads * headDim / ms[1] / 1e9, err);
            } catch (RuntimeException e) {
                System.out.println("| split-KV ×" + parts + ", L " + len + " | failed: " + e.getMessage()
                        .lines().findFirst().orElse("") + " |");
            }
        }
    }
}
