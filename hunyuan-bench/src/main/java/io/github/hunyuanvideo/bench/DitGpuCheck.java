package io.github.hunyuanvideo.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.dit.Attention;
import io.github.hunyuanvideo.dit.DitCheckpoint;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.DitInputs;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Runs the {@code dit_tiny} golden case in half precision on the GPU and prints the relative error
 * {@code ‖ours − ref‖ / ‖ref‖} of {@code out.x} against the float32 reference: the batch of 2 (different text masks,
 * padded segments) and each sample alone (the batch-1 path that drops the padded text). Exits with status 1 if one
 * exceeds the tolerance.
 *
 * <p>If {@code <reference-dir>/pt/} holds {@code dit_tiny_fp8.pt}, {@code dit_tiny_fp8_map.pt} and
 * {@code dit_tiny_fp8.safetensors}, the official FP8 checkpoint is checked too, against the official FP8 forward.
 *
 * <p>Arguments: {@code <reference-dir>} holding {@code dit_tiny.json} and {@code dit_tiny.safetensors} (only those
 * two files are needed, plus the optional FP8 ones), then optionally {@code --device cuda|cuda:N|cpu} (default cuda),
 * {@code --dtype bf16|fp16|fp32} (default bf16) and {@code --tol T} (default 0.02).
 * Example: {@code java -cp ... io.github.hunyuanvideo.bench.DitGpuCheck /path/to/reference}.
 */
public final class DitGpuCheck {
    private DitGpuCheck() {
    }

    public static void main(String[] args) throws IOException {
        GoldenCheckArgs a = GoldenCheckArgs.parse("DitGpuCheck", args, Precision.BF16, 0.02);
        Path dir = a.dir();
        String device = a.device();
        Precision dtype = a.dtype();
        double tol = a.tol();
        JsonNode config = a.caseConfig("dit_tiny");
        Device dev = a.openDevice();
        boolean ok = true;
        try (PointerScope scope = new PointerScope(); Weights all = Weights.open(a.caseTensors("dit_tiny"));
             HunyuanVideoTransformer dit = DitCheckpoint.loadOfficial(GoldenCheckArgs.modelWeights(all),
                     DitConfig.fromJson(config), dev, dtype.scalarType())) {
            long batch = all.get("in.x").size(0);
            System.out.printf(Locale.ROOT, "%ndit_tiny on %s in %s vs the float32 reference (tolerance %.0e)%n%n",
                    device, dtype, tol);
            System.out.println("| run | out.x relative error | ok |");
            System.out.println("|---|---|---|");
            ok &= report("batch of " + batch, check(dit, all, 0, batch), tol);
            for (long s = 0; s < batch; s++) {
                ok &= report("sample " + s + " alone", check(dit, all, s, 1), tol);
            }
            Path fp8 = dir.resolve("pt");
            if (Files.isRegularFile(fp8.resolve("dit_tiny_fp8.pt"))) {
                try (Weights ref = Weights.open(fp8.resolve("dit_tiny_fp8.safetensors"));
                     HunyuanVideoTransformer fp8Dit = DitCheckpoint.loadFp8(fp8.resolve("dit_tiny_fp8.pt"),
                             fp8.resolve("dit_tiny_fp8_map.pt"), DitConfig.fromJson(config), dev, dtype.scalarType(),
                             "module")) {
                    ok &= report("FP8 checkpoint, batch of " + batch + " (vs the official FP8 forward)",
                            check(fp8Dit, all, ref, 0, batch), tol);
                }
            }
        }
        if (!ok) {
            System.exit(1);
        }
    }

    private static double check(HunyuanVideoTransformer dit, Weights all, long from, long count) {
        return check(dit, all, all, from, count);
    }

    /** Relative error of out.x of samples [from, from+count) against {@code ref}'s {@code out.x}. */
    static double check(HunyuanVideoTransformer dit, Weights all, Weights ref, long from, long count) {
        return check(dit, all, ref, from, count, Attention.SDPA);
    }

    /** {@link #check(HunyuanVideoTransformer, Weights, Weights, long, long)} with the blocks' {@code attention}. */
    static double check(HunyuanVideoTransformer dit, Weights all, Weights ref, long from, long count,
                        Attention attention) {
        try (PointerScope scope = new PointerScope()) {
            DitInputs in = new DitInputs(all.get("in.x"), all.get("in.t"), all.get("in.text_states"),
                    all.get("in.text_mask"), all.get("in.text_states_2"),
                    all.contains("in.guidance") ? all.get("in.guidance") : null, attention);
            Tensor out = dit.forward(in.samples(from, count));
            return Tensors.relativeError(out, ref.get("out.x").narrow(0, from, count));
        }
    }

    /** Prints one table row; returns whether {@code err} is within {@code tol}. */
    static boolean report(String run, double err, double tol) {
        boolean ok = err <= tol;
        System.out.printf(Locale.ROOT, "| %s | %.3e | %s |%n", run, err, ok ? "yes" : "NO");
        return ok;
    }
}
