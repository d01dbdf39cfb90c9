package io.github.hunyuanvideo.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.dit.DitCheckpoint;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.dit.LoraAdapter;
import io.github.hunyuanvideo.dit.LoraMerge;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.nn.Precision;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs the {@code lora_tiny} golden case on a device in half precision: the {@code dit_tiny} DiT with the case's
 * LoRA merged at load time, once per adapter file of the case (its three key formats) and once as two adapters whose
 * scales add up to the case's, and prints the relative error of {@code out.x} against the float32 reference. Exits
 * with status 1 if one exceeds the tolerance.
 *
 * <p>Arguments: {@code <reference-dir>} holding {@code lora_tiny.json}, {@code lora_tiny.safetensors}, the folder
 * {@code lora_tiny/} and {@code dit_tiny.json} / {@code dit_tiny.safetensors}, then optionally
 * {@code --device cuda|cuda:N|cpu} (default cuda), {@code --dtype bf16|fp16|fp32} (default bf16) and {@code --tol T}
 * (default 0.02). Example: {@code java -cp ... io.github.hunyuanvideo.bench.LoraGpuCheck /path/to/reference}.
 */
public final class LoraGpuCheck {
    private LoraGpuCheck() {
    }

    public static void main(String[] args) throws IOException {
        GoldenCheckArgs a = GoldenCheckArgs.parse("LoraGpuCheck", args, Precision.BF16, 0.02);
        JsonNode lora = a.caseConfig("lora_tiny");
        DitConfig cfg = DitConfig.fromJson(a.caseConfig("dit_tiny"));
        double scale = lora.get("scale").asDouble();
        List<Path> files = new ArrayList<>();
        lora.get("formats").fieldNames().forEachRemaining(f -> files.add(a.dir().resolve(f)));
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                throw new NoSuchFileException(f.toString(), null, "golden case file missing");
            }
        }
        Device dev = a.openDevice();
        boolean ok = true;
        try (Weights all = Weights.open(a.caseTensors("lora_tiny")); Weights dit = Weights.open(
                a.caseTensors("dit_tiny"))) {
            long batch = all.get("in.x").size(0);
            System.out.printf(Locale.ROOT, "%nlora_tiny (rank %d, scale %s) on %s in %s vs the float32 reference "
                    + "(tolerance %.0e), batch of %d%n%n", lora.get("rank").asInt(), scale, a.device(), a.dtype(),
                    a.tol(), batch);
            System.out.println("| adapters | out.x relative error | ok |");
            System.out.println("|---|---|---|");
            for (Path f : files) {
                try (LoraAdapter adapter = LoraAdapter.read(f, scale)) {
                    ok &= run(GoldenCheckArgs.modelWeights(dit), cfg, dev, a, all, batch, List.of(adapter),
                            a.dir().relativize(f) + " (" + adapter.format() + ")");
                }
            }
            try (LoraAdapter first = LoraAdapter.read(files.get(1), scale / 2);
                 LoraAdapter second = LoraAdapter.read(files.get(files.size() - 1), scale / 2)) {
                ok &= run(GoldenCheckArgs.modelWeights(dit), cfg, dev, a, all, batch, List.of(first, second),
                        first.format() + " + " + second.format() + ", each at half the scale");
            }
        }
        if (!ok) {
            System.exit(1);
        }
    }

    private static boolean run(Weights base, DitConfig cfg, Device dev, GoldenCheckArgs a, Weights all, long batch,
                               List<LoraAdapter> adapters, String what) {
        try (PointerScope scope = new PointerScope();
             HunyuanVideoTransformer dit = DitCheckpoint.loadOfficial(base, cfg, dev, a.dtype().scalarType(),
                     LoraMerge.of(cfg, adapters, false))) {
            return DitGpuCheck.report(what, DitGpuCheck.check(dit, all, all, 0, batch), a.tol());
        }
    }
}
