package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.DitInputs;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.dit.LoraAdapter;
import io.github.hunyuanvideo.dit.LoraMerge;
import io.github.hunyuanvideo.io.SafetensorsWriter;
import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Precision;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * LoRA benchmark: what merging a LoRA at load time costs. It writes a random rank-{@code r} LoRA on every block
 * Linear of the DiT (original key format, bf16) to a temporary file, then builds the DiT with seeded random weights
 * on the device twice, without and with the LoRA merged through the same {@link LoraMerge} source the checkpoint
 * loaders use (reading the file, resolving its keys, the float32 merge and the rounding), and times one denoising
 * step of each model, alternating, so that both see the same clocks. Prints a markdown table; the file is deleted.
 *
 * <p>Arguments (all optional): {@code --device cuda|cuda:N|cpu} (default cuda), {@code --dtype bf16|fp16|fp32}
 * (default bf16), {@code --config HYVideo-T/2-cfgdistill|HYVideo-T/2|tiny} (default HYVideo-T/2-cfgdistill),
 * {@code --rank R} (default 32), {@code --latents BxCxTxHxW} (default {@code 1x16x33x68x120}: 544×960×129),
 * {@code --text-len N} (default 256), {@code --text-valid N} (default 40), {@code --warmup N} (default 1),
 * {@code --runs N} timed steps of each model (default 3), {@code --dir D} for the LoRA file (default
 * {@code java.io.tmpdir}). Both models are resident at once: twice the weights' memory.
 * CPU smoke test: {@code ... LoraBench --device cpu --dtype fp32 --config tiny --rank 4 --latents 1x16x5x8x12
 * --text-len 12 --text-valid 5 --warmup 0 --runs 1}.
 */
public final class LoraBench {
    private LoraBench() {
    }

    public static void main(String[] args) throws IOException {
        BenchOptions o = BenchOptions.parse(args, "--device", "--dtype", "--config", "--rank", "--latents",
                "--text-len", "--text-valid", "--warmup", "--runs", "--dir");
        String deviceName = o.get("--device", "cuda");
        Device device = new Device(deviceName);
        if (device.is_cuda() && !CudaMemory.available()) {
            throw new IllegalArgumentException("--device " + deviceName + ": CUDA is not available");
        }
        Precision precision = Precision.parse(o.get("--dtype", "bf16"));
        String config = o.get("--config", DitConfig.CFG_DISTILL_NAME);
        DitConfig cfg = config.equals("tiny") ? DitBench.tinyConfig() : DitConfig.byName(config);
        long rank = o.getLong("--rank", 32);
        long[] latents = DitBench.shape(o.get("--latents", "1x16x33x68x120"));
        int textLen = (int) o.getLong("--text-len", 256);
        int textValid = (int) o.getLong("--text-valid", 40);
        long warmup = o.getLong("--warmup", 1);
        long runs = o.getLong("--runs", 3);
        if (rank < 1 || runs < 1 || warmup < 0 || textValid > textLen || latents.length != 5
                || latents[1] != cfg.inChannels()) {
            throw new IllegalArgumentException("need --rank >= 1, --runs >= 1, --warmup >= 0, --text-valid <= "
                    + "--text-len and --latents Bx" + cfg.inChannels() + "xTxHxW");
        }
        ScalarType dtype = precision.scalarType();
        Path dir = Files.createTempDirectory(Path.of(o.get("--dir", System.getProperty("java.io.tmpdir"))),
                "lora-bench");
        Path file = dir.resolve("random-lora.safetensors");
        try {
            long params = writeRandomLora(file, cfg, rank);
            warmUp(device);
            double[] without = new double[1];
            double[] with = new double[1];
            try (PointerScope scope = new PointerScope();
                 HunyuanVideoTransformer base = timed(without, () -> build(cfg, device, dtype, LoraMerge.none()));
                 HunyuanVideoTransformer merged = timed(with, () -> buildWithLora(cfg, device, dtype, file))) {
                System.out.printf(Locale.ROOT, "%nDiT %s, random %s weights on %s; LoRA rank %d on every block "
                                + "Linear: %,d parameters (%.1f MB bf16, file in the page cache)%n%n", config,
                        precision, deviceName, rank, params, Files.size(file) / 1e6);
                double[][] steps = stepTimes(base, merged, DitBench.randomInputs(cfg, latents, textLen, textValid,
                        device, dtype), warmup, runs);
                double stepWithout = median(steps[0]);
                double stepWith = median(steps[1]);
                System.out.println("| what | without LoRA | with LoRA | cost |");
                System.out.println("|---|---|---|---|");
                System.out.printf(Locale.ROOT, "| build the DiT (random weights; with: + read, resolve, merge) "
                        + "| %.2f s | %.2f s | %+.2f s |%n", without[0], with[0], with[0] - without[0]);
                System.out.printf(Locale.ROOT, "| one step, latent %s, median of %d | %.3f s | %.3f s | ×%.4f |%n",
                        Arrays.toString(latents), runs, stepWithout, stepWith, stepWith / stepWithout);
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    private interface Build {
        HunyuanVideoTransformer get() throws IOException;
    }

    /** {@code build}'s model, its wall time (device work included) in {@code seconds[0]}. */
    private static HunyuanVideoTransformer timed(double[] seconds, Build build) throws IOException {
        long t0 = System.nanoTime();
        HunyuanVideoTransformer m = build.get();
        CudaMemory.synchronize();
        seconds[0] = (System.nanoTime() - t0) / 1e9;
        return m;
    }

    /** The DiT with the values of {@link Parameters#random} (seed 0) and {@code loras} merged. */
    private static HunyuanVideoTransformer build(DitConfig cfg, Device device, ScalarType dtype, LoraMerge loras) {
        torch.manual_seed(0);
        try (Parameters p = Parameters.of(loras.over(Parameters.randomValues()), device, dtype)) {
            return HunyuanVideoTransformer.of(cfg, p);
        }
    }

    private static HunyuanVideoTransformer buildWithLora(DitConfig cfg, Device device, ScalarType dtype, Path file)
            throws IOException {
        try (LoraAdapter lora = LoraAdapter.read(file, 1.0)) {
            return build(cfg, device, dtype, LoraMerge.of(cfg, List.of(lora), false));
        }
    }

    /**
     * Writes a LoRA of {@code rank} on every 2-D weight of the double and single blocks: A ~ N(0, 1/in), B ~ N(0,
     * 0.01²), bf16.
     *
     * @return its parameter count
     */
    private static long writeRandomLora(Path file, DitConfig cfg, long rank) throws IOException {
        torch.manual_seed(1);
        long params = 0;
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : HunyuanVideoTransformer.expectedShapes(cfg).entrySet()) {
                String name = e.getKey();
                long[] shape = e.getValue();
                if (shape.length != 2 || !(name.startsWith("double_blocks.") || name.startsWith("single_blocks."))) {
                    continue;
                }
                String module = "diffusion_model." + name.substring(0, name.length() - ".weight".length());
                tensors.put(module + ".lora_A.weight", torch.randn(rank, shape[1])
                        .mul_(new Scalar(1 / Math.sqrt(shape[1]))).to(ScalarType.BFloat16));
                tensors.put(module + ".lora_B.weight", torch.randn(shape[0], rank).mul_(new Scalar(0.01))
                        .to(ScalarType.BFloat16));
                params += rank * (shape[0] + shape[1]);
            }
            SafetensorsWriter.write(file, tensors, Map.of());
        }
        return params;
    }

    /** Initialises the device and its float32 GEMM before anything is timed. */
    private static void warmUp(Device device) {
        try (PointerScope scope = new PointerScope()) {
            Tensor m = torch.randn(256, 256).to(device, ScalarType.Float);
            m.addmm_(m, m, new Scalar(1.0), new Scalar(1.0));
            CudaMemory.synchronize();
        }
    }

    /** Seconds of each timed step, {@code [model][run]}, the two models alternating after the warm-up. */
    private static double[][] stepTimes(HunyuanVideoTransformer a, HunyuanVideoTransformer b, DitInputs in,
                                        long warmup, long runs) {
        HunyuanVideoTransformer[] models = {a, b};
        double[][] times = new double[2][(int) runs];
        for (long i = -warmup; i < runs; i++) {
            for (int m = 0; m < 2; m++) {
                try (PointerScope s = new PointerScope()) {
                    long t0 = System.nanoTime();
                    models[m].forward(in);
                    CudaMemory.synchronize();
                    if (i >= 0) {
                        times[m][(int) i] = (System.nanoTime() - t0) / 1e9;
                    }
                }
            }
        }
        return times;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
