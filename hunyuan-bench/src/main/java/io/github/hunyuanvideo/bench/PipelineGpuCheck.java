package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.sampler.PipelineCase;

import java.io.IOException;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Map;

/**
 * Runs the {@code pipeline_tiny} golden case ({@link PipelineCase}: the case's tiny DiT and VAE, precomputed text
 * embeddings as in the case) and prints the relative error of the latents after every step and of the video, as a
 * markdown table. Exits non-zero when one exceeds the tolerance.
 *
 * <pre>
 * PipelineGpuCheck REFERENCE_DIR [--device cuda] [--precision bf16] [--vae-precision fp16] [--tol 2e-2]
 * </pre>
 * REFERENCE_DIR holds {@code pipeline_tiny.*}, {@code dit_tiny.*} and {@code vae_tiny.*}. The initial noise is drawn by
 * the CPU generator (as the case did), so every device starts from the same latents, and the embedded guidance is fed
 * unrounded (6000, as in the float32 case; the original's bf16 run would feed 6016). On the CPU with
 * {@code --precision fp32 --vae-precision fp32 --tol 1e-4} this is the float32 golden test.
 */
public final class PipelineGpuCheck {
    private PipelineGpuCheck() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args[0].startsWith("-")) {
            System.err.println("usage: PipelineGpuCheck REFERENCE_DIR [--device cuda] [--precision bf16] "
                    + "[--vae-precision fp16] [--tol 2e-2]");
            System.exit(2);
        }
        String device = "cuda";
        Precision precision = Precision.BF16;
        Precision vaePrecision = Precision.FP16;
        double tol = 2e-2;
        for (int i = 1; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--device" -> device = v;
                case "--precision" -> precision = Precision.parse(v);
                case "--vae-precision" -> vaePrecision = Precision.parse(v);
                case "--tol" -> tol = Double.parseDouble(v);
                default -> {
                    System.err.println("unknown argument " + args[i]);
                    System.exit(2);
                }
            }
            i++;
        }
        Map<String, Double> errors = PipelineCase.load(Paths.get(args[0])).run(device, precision, vaePrecision);
        System.out.printf(Locale.ROOT, "pipeline_tiny on %s, DiT %s, VAE %s%n%n", device, precision, vaePrecision);
        System.out.println("| tensor | relative error | tolerance | result |");
        System.out.println("|---|---|---|---|");
        boolean ok = true;
        for (Map.Entry<String, Double> e : errors.entrySet()) {
            boolean pass = e.getValue() <= tol;
            ok &= pass;
            System.out.printf(Locale.ROOT, "| %s | %.3e | %.0e | %s |%n", e.getKey(), e.getValue(), tol,
                    pass ? "PASS" : "FAIL");
        }
        System.out.println(ok ? "ALL PASS" : "NOT ALL PASS");
        System.exit(ok ? 0 : 1);
    }

}
