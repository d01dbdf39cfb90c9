package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.vae.CausalVideoVae;
import io.github.hunyuanvideo.vae.TilingConfig;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Context;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Where the VAE decoder's time goes: times its dominant operations at the shapes of one official tile
 * (a 128-channel 3×3×3 convolution over 65×256×256 frames, in NCDHW and channels-last-3d, with and without cuDNN
 * autotuning; the fp32 GroupNorm + SiLU) and one whole untiled tile decode {@code [1,16,17,32,32]}. Prints a markdown
 * table. Arguments (optional): {@code --device cuda|cpu} (default cuda), {@code --small} (8 channels over 9×32×32, for
 * a CPU smoke test).
 */
public final class VaeProfile {
    private VaeProfile() {
    }

    public static void main(String[] args) {
        String device = "cuda";
        boolean small = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = args[++i];
                case "--small" -> small = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Device dev = new Device(device);
        ScalarType dtype = dev.is_cuda() ? ScalarType.Half : ScalarType.Float;
        Context ctx = torch.globalContext();
        System.out.printf(Locale.ROOT, "cuDNN compiled in: %s, user-enabled: %s, version %d%n", Context.hasCuDNN(),
                ctx.userEnabledCuDNN(), Context.hasCuDNN() ? Context.versionCuDNN() : 0);
        long c = small ? 8 : 128;
        long[] in = small ? new long[]{1, c, 11, 34, 34} : new long[]{1, c, 67, 258, 258};
        System.out.println("| operation | shape | ms |");
        System.out.println("|---|---|---|");
        try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            TensorOptions opts = new TensorOptions(dev).dtype(new ScalarTypeOptional(dtype));
            Tensor x = torch.randn(in, opts);
            Tensor w = torch.randn(new long[]{c, c, 3, 3, 3}, opts).mul_(new org.bytedeco.pytorch.Scalar(0.02));
            Tensor b = torch.zeros(new long[]{c}, opts);
            long[] one = {1, 1, 1};
            long[] zero = {0, 0, 0};
            for (boolean bench : new boolean[]{false, true}) {
                ctx.setBenchmarkCuDNN(bench);
                row("conv3d k3 NCDHW, cudnn.benchmark=" + bench, in,
                        () -> torch.conv3d(x, w, new TensorOptional(b), one, zero, one, 1));
                Tensor xl = x.contiguous(torch.MemoryFormat.ChannelsLast3d);
                Tensor wl = w.contiguous(torch.MemoryFormat.ChannelsLast3d);
                row("conv3d k3 channels-last-3d, cudnn.benchmark=" + bench, in,
                        () -> torch.conv3d(xl, wl, new TensorOptional(b), one, zero, one, 1));
            }
            ctx.setBenchmarkCuDNN(false);
            // The shapes of up_blocks.3 and conv_out, the decoder's most expensive stages.
            long c2 = 2 * c;
            long[] in2 = {1, c2, in[2], in[3], in[4]};
            Tensor x2 = torch.randn(in2, opts);
            Tensor w21 = torch.randn(new long[]{c, c2, 3, 3, 3}, opts).mul_(new org.bytedeco.pytorch.Scalar(0.02));
            row("conv3d k3 2C→C NCDHW", in2, () -> torch.conv3d(x2, w21, new TensorOptional(b), one, zero, one, 1));
            Tensor w11 = torch.randn(new long[]{c, c2, 1, 1, 1}, opts).mul_(new org.bytedeco.pytorch.Scalar(0.02));
            row("conv3d k1 2C→C NCDHW", in2, () -> torch.conv3d(x2, w11, new TensorOptional(b), one, zero, one, 1));
            Tensor w3 = torch.randn(new long[]{3, c, 3, 3, 3}, opts).mul_(new org.bytedeco.pytorch.Scalar(0.02));
            Tensor b3 = torch.zeros(new long[]{3}, opts);
            row("conv3d k3 C→3 NCDHW", in, () -> torch.conv3d(x, w3, new TensorOptional(b3), one, zero, one, 1));
            Tensor w8 = torch.randn(new long[]{8, c, 3, 3, 3}, opts).mul_(new org.bytedeco.pytorch.Scalar(0.02));
            Tensor b8 = torch.zeros(new long[]{8}, opts);
            row("conv3d k3 C→8 NCDHW", in, () -> torch.conv3d(x, w8, new TensorOptional(b8), one, zero, one, 1));
            row("conv3d k3 C→3 channels-last-3d", in, () -> torch.conv3d(x.contiguous(torch.MemoryFormat.ChannelsLast3d),
                    w3.contiguous(torch.MemoryFormat.ChannelsLast3d), new TensorOptional(b3), one, zero, one, 1));
            long groups = small ? 4 : 32;
            Tensor gw = torch.ones(new long[]{c}, new TensorOptions(dev));
            Tensor gb = torch.zeros(new long[]{c}, new TensorOptions(dev));
            row("group_norm fp32 + silu + cast back", in, () -> {
                Tensor y = torch.group_norm(x.to(ScalarType.Float), groups, new TensorOptional(gw),
                        new TensorOptional(gb), 1e-6, false);
                torch.silu_(y);
                return y.to(dtype);
            });
            Tensor padded = torch.empty(new long[]{1, c, in[2] + 2, in[3] + 2, in[4] + 2}, opts,
                    new org.bytedeco.pytorch.MemoryFormatOptional());
            Tensor interior = padded.narrow(2, 2, in[2]).narrow(3, 1, in[3]).narrow(4, 1, in[4]);
            row("group_norm per group (chunked) into padded interior", in, () -> {
                long per = c / groups;
                for (long g = 0; g < groups; g++) {
                    try (PointerScope gs = new PointerScope()) {
                        Tensor y = torch.group_norm(x.narrow(1, g * per, per).to(ScalarType.Float), 1,
                                new TensorOptional(gw.narrow(0, g * per, per)),
                                new TensorOptional(gb.narrow(0, g * per, per)), 1e-6, false);
                        torch.silu_(y);
                        interior.narrow(1, g * per, per).copy_(y);
                    }
                }
                return interior;
            });
            CausalVideoVae vae = CausalVideoVae.withRandomWeights(small ? VaeBench.smallConfig() : VaeConfig.official(), dev, dtype, 1);
            vae.setTiling(TilingConfig.disabled());
            long[] z = small ? new long[]{1, 16, 3, 4, 4} : new long[]{1, 16, 17, 32, 32};
            Tensor lat = torch.randn(z, opts);
            for (boolean bench : new boolean[]{false, true}) {
                ctx.setBenchmarkCuDNN(bench);
                row("one tile decode, cudnn.benchmark=" + bench, z, () -> vae.decode(lat));
            }
            ctx.setBenchmarkCuDNN(false);
            long[] last = {0};
            CudaMemory.synchronize();
            last[0] = System.nanoTime();
            vae.decodeUntiled(lat, (module, out) -> {
                CudaMemory.synchronize();
                long now = System.nanoTime();
                System.out.printf(Locale.ROOT, "| tile stage %s | %s | %.1f |%n", module,
                        Arrays.toString(io.github.hunyuanvideo.nn.Tensors.shape(out)), (now - last[0]) / 1e6);
                last[0] = now;
            });
            vae.close();
        }
    }

    /** Median of 3 synchronised runs after one warm-up. */
    private static void row(String what, long[] shape, Supplier<Tensor> op) {
        double[] t = new double[3];
        for (int i = -1; i < 3; i++) {
            try (PointerScope s = new PointerScope()) {
                CudaMemory.synchronize();
                long start = System.nanoTime();
                op.get();
                CudaMemory.synchronize();
                if (i >= 0) {
                    t[i] = (System.nanoTime() - start) / 1e6;
                }
            }
        }
        Arrays.sort(t);
        System.out.printf(Locale.ROOT, "| %s | %s | %.1f |%n", what, Arrays.toString(shape), t[1]);
    }
}
