package io.github.hunyuanvideo.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.pytorch.Device;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The command line shared by the GPU-check mains that run a golden case on a device:
 * {@code <reference-dir> [--device cuda|cuda:N|cpu] [--dtype bf16|fp16|fp32] [--tol X]}, and the case files they read
 * from the reference folder.
 *
 * @param dir    the folder holding the case's {@code NAME.json} and {@code NAME.safetensors}
 * @param device the device name (default {@code cuda})
 * @param dtype  the precision to run in
 * @param tol    the largest relative error that passes
 */
public record GoldenCheckArgs(Path dir, String device, Precision dtype, double tol) {

    /**
     * Parses {@code args}.
     *
     * @param main         the main class's simple name, for the usage message
     * @param defaultDtype the precision when {@code --dtype} is absent
     * @param defaultTol   the tolerance when {@code --tol} is absent
     * @throws IllegalArgumentException for a missing folder argument, an option without a value or an unknown option
     */
    public static GoldenCheckArgs parse(String main, String[] args, Precision defaultDtype, double defaultTol) {
        if (args.length < 1 || args[0].startsWith("--")) {
            throw new IllegalArgumentException("usage: " + main + " <reference-dir> [--device cuda] [--dtype "
                    + defaultDtype + "] [--tol " + defaultTol + "]");
        }
        String device = "cuda";
        Precision dtype = defaultDtype;
        double tol = defaultTol;
        for (int i = 1; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--device" -> device = args[i + 1];
                case "--dtype" -> dtype = Precision.parse(args[i + 1]);
                case "--tol" -> tol = Double.parseDouble(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        return new GoldenCheckArgs(Paths.get(args[0]), device, dtype, tol);
    }

    /**
     * The "config" object of {@code NAME.json}, after checking that {@code NAME.json} and {@code NAME.safetensors}
     * are both there (before any heavy work).
     *
     * @throws NoSuchFileException naming the missing case file
     */
    public JsonNode caseConfig(String name) throws IOException {
        Path json = dir.resolve(name + ".json");
        for (Path p : new Path[]{json, caseTensors(name)}) {
            if (!Files.isRegularFile(p)) {
                throw new NoSuchFileException(p.toString(), null, "golden case file missing");
            }
        }
        return new ObjectMapper().readTree(json.toFile()).get("config");
    }

    /** {@code NAME.safetensors}: the case's weights and its {@code in.*}, {@code mid.*} and {@code out.*} tensors. */
    public Path caseTensors(String name) {
        return dir.resolve(name + ".safetensors");
    }

    /** The model's weights in a case's tensors: all but {@code in.*}, {@code mid.*} and {@code out.*}. */
    public static Weights modelWeights(Weights all) {
        return all.rename(n -> n.startsWith("in.") || n.startsWith("mid.") || n.startsWith("out.") ? null : n);
    }

    /**
     * The device to run on.
     *
     * @throws IllegalArgumentException for a CUDA device when CUDA is not available
     */
    public Device openDevice() {
        Device dev = new Device(device);
        if (dev.is_cuda() && !CudaMemory.available()) {
            throw new IllegalArgumentException("--device " + device + ": CUDA is not available");
        }
        return dev;
    }
}
