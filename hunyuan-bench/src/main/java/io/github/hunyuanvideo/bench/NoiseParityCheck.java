package io.github.hunyuanvideo.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.sampler.InitialNoise;
import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Checks that {@link InitialNoise} (the sampler's noise) equals PyTorch's seeded {@code randn} for every case of
 * {@code noise.json}: CUDA and CPU generators, fp16 and fp32, full-size latent shapes. Prints a markdown table of
 * {@code first16}, {@code sum} and {@code abs_sum} against the expected values and exits non-zero on any mismatch.
 *
 * <pre>
 * NoiseParityCheck NOISE_JSON [--device cpu|cuda|all]
 * </pre>
 * {@code --device} restricts the cases (default {@code all}; CUDA cases are reported as skipped when CUDA is absent,
 * which makes the run fail). A case passes when {@code first16} matches exactly, and {@code sum}/{@code abs_sum}
 * (accumulated in float64) agree to 1e-6 relative.
 */
public final class NoiseParityCheck {
    private static final double SUM_TOL = 1e-6;

    private NoiseParityCheck() {
    }

    /** One noise.json case's outcome. */
    public record Outcome(String device, String dtype, long seed, String shape, boolean ran, boolean passed,
                          String detail) {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args[0].startsWith("-")) {
            System.err.println("usage: NoiseParityCheck NOISE_JSON [--device cpu|cuda|all]");
            System.exit(2);
        }
        String only = "all";
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--device") && i + 1 < args.length) {
                only = args[++i];
            } else {
                System.err.println("unknown argument " + args[i]);
                System.exit(2);
            }
        }
        List<Outcome> out = run(Paths.get(args[0]), only);
        System.out.println("| device | dtype | seed | shape | result | detail |");
        System.out.println("|---|---|---|---|---|---|");
        boolean ok = !out.isEmpty();
        for (Outcome o : out) {
            System.out.printf(Locale.ROOT, "| %s | %s | %d | %s | %s | %s |%n", o.device, o.dtype, o.seed, o.shape,
                    !o.ran ? "SKIPPED" : o.passed ? "PASS" : "FAIL", o.detail);
            ok &= o.ran && o.passed;
        }
        System.out.println(ok ? "ALL PASS" : "NOT ALL PASS");
        System.exit(ok ? 0 : 1);
    }

    /** Runs every case of {@code noiseJson} whose device matches {@code only} ({@code cpu}, {@code cuda}, {@code all}). */
    public static List<Outcome> run(Path noiseJson, String only) throws IOException {
        JsonNode root = new ObjectMapper().readTree(noiseJson.toFile());
        List<Outcome> out = new ArrayList<>();
        boolean cuda = CudaMemory.available();
        for (JsonNode c : root.get("cases")) {
            String dev = c.get("device").asText();
            if (!only.equals("all") && !only.equals(dev)) {
                continue;
            }
            long[] shape = new long[c.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = c.get("shape").get(i).asLong();
            }
            long seed = c.get("seed").asLong();
            String dtype = c.get("dtype").asText();
            String shapeText = java.util.Arrays.toString(shape);
            if (dev.equals("cuda") && !cuda) {
                out.add(new Outcome(dev, dtype, seed, shapeText, false, false, "CUDA not available"));
                continue;
            }
            out.add(check(c, new Device(dev), seed, shape, dtype, shapeText));
        }
        return out;
    }

    private static Outcome check(JsonNode c, Device device, long seed, long[] shape, String dtype, String shapeText) {
        ScalarType st = switch (dtype) {
            case "float16" -> Precision.FP16.scalarType();
            case "float32" -> Precision.FP32.scalarType();
            case "bfloat16" -> Precision.BF16.scalarType();
            default -> throw new IllegalArgumentException("unknown dtype " + dtype);
        };
        try (PointerScope scope = new PointerScope(); InferenceMode g = new InferenceMode()) {
            Tensor noise = InitialNoise.drawOne(seed, shape, device, st);
            Tensor d = noise.to(ScalarType.Double);
            double sum = d.sum().item_double();
            double absSum = d.abs().sum().item_double();
            float[] first = Tensors.toFloatArray(noise.flatten(0, -1).narrow(0, 0, 16));
            int firstBad = -1;
            for (int i = 0; i < 16; i++) {
                if (first[i] != (float) c.get("first16").get(i).asDouble()) {
                    firstBad = i;
                    break;
                }
            }
            double eSum = c.get("sum").asDouble();
            double eAbs = c.get("abs_sum").asDouble();
            double sumErr = Math.abs(sum - eSum) / Math.max(1.0, Math.abs(eAbs));
            double absErr = Math.abs(absSum - eAbs) / Math.abs(eAbs);
            boolean pass = firstBad < 0 && sumErr <= SUM_TOL && absErr <= SUM_TOL;
            String detail = String.format(Locale.ROOT, "first16 %s; sum %.6f vs %.6f; abs_sum %.4f vs %.4f",
                    firstBad < 0 ? "equal" : "differs at " + firstBad + " (" + first[firstBad] + " vs "
                            + c.get("first16").get(firstBad).asDouble() + ")", sum, eSum, absSum, eAbs);
            return new Outcome(c.get("device").asText(), dtype, seed, shapeText, true, pass, detail);
        }
    }
}
