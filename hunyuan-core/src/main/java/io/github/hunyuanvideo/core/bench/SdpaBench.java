package io.github.hunyuanvideo.core.bench;

import io.github.hunyuanvideo.io.CudaMemory;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
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
 * {@code --head-dim D} (128), {@code --backends default,cudnn,flash}. CPU smoke test:
 * {@code SdpaBench --device cpu --lengths 256 --heads 2 --head-dim 16 --backends default}.
 */
public final class SdpaBench {
    private SdpaBench() {
    }

    public static void main(String[] args) {
        String device = "cuda";
        List<Long> lengths = List.of(67360L, 118840L);
        long heads = 24;
        long headDim = 128;
        List<String> backends = List.of("default", "cudnn", "flash");
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            String v = args[i + 1];
            switch (args[i]) {
                case "--device" -> device = v;
                case "--lengths" -> {
                    lengths = new ArrayList<>();
                    for (String s : v.split(",")) {
                        lengths.add(Long.parseLong(s.trim()));
                    }
                }
                case "--heads" -> heads = Long.parseLong(v);
                case "--head-dim" -> headDim = Long.parseLong(v);
                case "--backends" -> backends = List.of(v.split(","));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
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
                            qkv[j] = layout.startsWith("BLHD")
                                    ? torch.randn(new long[]{1, len, heads, headDim}, options).transpose(1, 2)
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
        CudaMemory.synchronize();
    }
}
