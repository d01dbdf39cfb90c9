package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.io.DType;
import io.github.hunyuanvideo.io.TorchCheckpoint;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Loading a {@link HunyuanVideoTransformer} from its checkpoint files: the official state dict (safetensors, or the
 * official {@code .pt} with its wrapper), the diffusers {@code HunyuanVideoTransformer3DModel} names
 * ({@code DiffusersNames}), and the official FP8 checkpoint with its scale map. Every load is strict: the checkpoint
 * must hold exactly the model's tensors, with their shapes and a floating dtype, checked before anything is copied.
 * Each load can merge LoRA adapters into the weights as they are bound ({@link LoraMerge}).
 */
public final class DitCheckpoint {
    private static final Logger LOG = LoggerFactory.getLogger(DitCheckpoint.class);
    /** The diffusers name of {@code img_in.proj.weight}: its presence tells the two namings apart. */
    private static final String DIFFUSERS_MARKER = "x_embedder.proj.weight";

    private DitCheckpoint() {
    }

    /**
     * A DiT checkpoint file or folder of safetensors shards. A {@code .pt}/{@code .pth} file is unwrapped like the
     * original's {@code Inference.load_state_dict}: {@code pytorch_model_<loadKey>.pt} is a bare state dict, any other
     * holds it under {@code loadKey} ({@code module} also accepts a bare state dict).
     */
    public static Weights open(Path path, String loadKey) throws IOException {
        String name = path.getFileName().toString();
        if (Files.isDirectory(path) || !(name.endsWith(".pt") || name.endsWith(".pth"))) {
            return Weights.open(path);
        }
        TorchCheckpoint ckpt;
        if (name.equals("pytorch_model_" + loadKey + ".pt")) {
            ckpt = TorchCheckpoint.open(path, null);
        } else if (loadKey.equals("module")) {
            ckpt = TorchCheckpoint.open(path);
        } else {
            ckpt = TorchCheckpoint.open(path, loadKey);
        }
        return Weights.of(List.of(ckpt));
    }

    /**
     * Loads the checkpoint at {@code weights} ({@link #open}), official or diffusers names as the checkpoint itself
     * shows, and closes it.
     *
     * @param dtype compute dtype (bf16 on the GPU, float32 for reference checks)
     * @throws IllegalArgumentException naming the file and the first missing, misshapen, mistyped or unexpected tensor
     */
    public static HunyuanVideoTransformer load(Path weights, DitConfig cfg, Device device, ScalarType dtype,
                                               String loadKey) throws IOException {
        return load(weights, cfg, device, dtype, loadKey, LoraMerge.none());
    }

    /**
     * {@link #load(Path, DitConfig, Device, ScalarType, String)} with {@code loras} merged into the weights they
     * target.
     */
    public static HunyuanVideoTransformer load(Path weights, DitConfig cfg, Device device, ScalarType dtype,
                                               String loadKey, LoraMerge loras) throws IOException {
        return load(weights, cfg, device, dtype, loadKey, loras, LayerStreaming.none());
    }

    /**
     * {@link #load(Path, DitConfig, Device, ScalarType, String, LoraMerge)} with the blocks {@code streaming} names
     * kept in host memory and streamed to the device as they run.
     */
    public static HunyuanVideoTransformer load(Path weights, DitConfig cfg, Device device, ScalarType dtype,
                                               String loadKey, LoraMerge loras, LayerStreaming streaming)
            throws IOException {
        long t0 = System.nanoTime();
        try (Weights w = open(weights, loadKey)) {
            boolean diffusers = w.contains(DIFFUSERS_MARKER);
            HunyuanVideoTransformer m = diffusers ? loadDiffusers(w, cfg, device, dtype, loras, streaming)
                    : loadOfficial(w, cfg, device, dtype, loras, streaming);
            logLoaded(weights, diffusers ? "diffusers" : "official", dtype, t0);
            return m;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(weights + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads the official FP8 checkpoint of {@code --use-fp8} ({@link #open}) with its scale map
     * ({@code *_fp8_map.pt}), and closes both.
     *
     * @throws IllegalArgumentException naming the file and the first missing, misshapen, mistyped or unexpected tensor
     *                                  or scale
     */
    public static HunyuanVideoTransformer loadFp8(Path weights, Path fp8ScaleMap, DitConfig cfg, Device device,
                                                  ScalarType dtype, String loadKey) throws IOException {
        return loadFp8(weights, fp8ScaleMap, cfg, device, dtype, loadKey, LoraMerge.none());
    }

    /**
     * {@link #loadFp8(Path, Path, DitConfig, Device, ScalarType, String)} with {@code loras} merged into the
     * dequantised weights they target.
     */
    public static HunyuanVideoTransformer loadFp8(Path weights, Path fp8ScaleMap, DitConfig cfg, Device device,
                                                  ScalarType dtype, String loadKey, LoraMerge loras)
            throws IOException {
        return loadFp8(weights, fp8ScaleMap, cfg, device, dtype, loadKey, loras, LayerStreaming.none());
    }

    /**
     * {@link #loadFp8(Path, Path, DitConfig, Device, ScalarType, String, LoraMerge)} with the blocks
     * {@code streaming} names kept in host memory and streamed to the device as they run.
     */
    public static HunyuanVideoTransformer loadFp8(Path weights, Path fp8ScaleMap, DitConfig cfg, Device device,
                                                  ScalarType dtype, String loadKey, LoraMerge loras,
                                                  LayerStreaming streaming) throws IOException {
        long t0 = System.nanoTime();
        // The original torch.loads the scale map as it is: no wrapper to remove.
        try (Weights w = open(weights, loadKey);
             Weights scales = Weights.of(List.of(TorchCheckpoint.open(fp8ScaleMap, null)))) {
            HunyuanVideoTransformer m = loadFp8(w, scales, cfg, device, dtype, loras, streaming);
            logLoaded(weights, "official FP8", dtype, t0);
            return m;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(weights + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads tensors under the official state-dict names ({@code img_in.proj.weight}, ...).
     *
     * @throws IllegalArgumentException naming the first missing, misshapen, mistyped or unexpected tensor
     */
    public static HunyuanVideoTransformer loadOfficial(Weights officialNames, DitConfig cfg, Device device,
                                                       ScalarType dtype) {
        return loadOfficial(officialNames, cfg, device, dtype, LoraMerge.none());
    }

    /**
     * {@link #loadOfficial(Weights, DitConfig, Device, ScalarType)} with {@code loras} merged into the weights they
     * target.
     */
    public static HunyuanVideoTransformer loadOfficial(Weights officialNames, DitConfig cfg, Device device,
                                                       ScalarType dtype, LoraMerge loras) {
        return loadOfficial(officialNames, cfg, device, dtype, loras, LayerStreaming.none());
    }

    /**
     * {@link #loadOfficial(Weights, DitConfig, Device, ScalarType, LoraMerge)} with the blocks {@code streaming}
     * names kept in host memory and streamed to the device as they run.
     */
    public static HunyuanVideoTransformer loadOfficial(Weights officialNames, DitConfig cfg, Device device,
                                                       ScalarType dtype, LoraMerge loras, LayerStreaming streaming) {
        Map<String, long[]> expected = HunyuanVideoTransformer.expectedShapes(cfg);
        checkExactly(officialNames, expected, "official DiT checkpoint", false);
        loras.checkFits(expected);
        return build(cfg, Parameters.of(loras.over((name, shape, dev, dt) -> Parameters.copy(officialNames, name,
                shape, dev, dt)), device, dtype), streaming);
    }

    /**
     * Loads the tensors of a diffusers {@code HunyuanVideoTransformer3DModel}: the split q/k/v (and single-block MLP)
     * weights are concatenated on the device, and the final layer's (scale, shift) rows are put back into the
     * official (shift, scale) order.
     *
     * @throws IllegalArgumentException naming the first missing, misshapen, mistyped or unexpected tensor
     */
    public static HunyuanVideoTransformer loadDiffusers(Weights diffusersNames, DitConfig cfg, Device device,
                                                        ScalarType dtype) {
        return loadDiffusers(diffusersNames, cfg, device, dtype, LoraMerge.none());
    }

    /**
     * {@link #loadDiffusers(Weights, DitConfig, Device, ScalarType)} with {@code loras} merged into the weights they
     * target.
     */
    public static HunyuanVideoTransformer loadDiffusers(Weights diffusersNames, DitConfig cfg, Device device,
                                                        ScalarType dtype, LoraMerge loras) {
        return loadDiffusers(diffusersNames, cfg, device, dtype, loras, LayerStreaming.none());
    }

    /**
     * {@link #loadDiffusers(Weights, DitConfig, Device, ScalarType, LoraMerge)} with the blocks {@code streaming}
     * names kept in host memory and streamed to the device as they run.
     */
    public static HunyuanVideoTransformer loadDiffusers(Weights diffusersNames, DitConfig cfg, Device device,
                                                        ScalarType dtype, LoraMerge loras,
                                                        LayerStreaming streaming) {
        long hidden = cfg.hiddenSize();
        Map<String, long[]> expected = HunyuanVideoTransformer.expectedShapes(cfg);
        checkExactly(diffusersNames, DiffusersNames.expectedShapes(expected, hidden), "diffusers DiT checkpoint",
                false);
        loras.checkFits(expected);
        return build(cfg, Parameters.of(loras.over((name, shape, dev, dt) -> {
            DiffusersNames.Mapping m = DiffusersNames.map(name, shape[0], hidden);
            if (m.parts().size() == 1) {
                Tensor t = Parameters.copy(diffusersNames, m.parts().get(0), shape, dev, dt);
                if (!m.swapHalves()) {
                    return t;
                }
                long half = shape[0] / 2;
                return torch.cat(new TensorArrayRef(new TensorVector(t.narrow(0, half, half), t.narrow(0, 0, half))),
                        0);
            }
            TensorVector parts = new TensorVector();
            for (int i = 0; i < m.parts().size(); i++) {
                long[] partShape = shape.clone();
                partShape[0] = m.rows()[i];
                parts.push_back(Parameters.copy(diffusersNames, m.parts().get(i), partShape, dev, dt));
            }
            return torch.cat(new TensorArrayRef(parts), 0);
        }), device, dtype), streaming);
    }

    /**
     * Loads the official FP8 checkpoint of {@code --use-fp8} (the original's {@code fp8_optimization.py}): the 2-D
     * weights of the block Linears ({@code double_blocks.*}, {@code single_blocks.*}) are float8_e4m3fn and
     * {@code scales} maps each such Linear's module name (e.g. {@code double_blocks.0.img_attn_qkv}) to its per-tensor
     * scale; everything else is as in {@link #loadOfficial}. The FP8 weights stay float8_e4m3fn on the device, with
     * their scales rounded to {@code dtype}, and each Linear dequantises its weight into a temporary right before its
     * GEMM, exactly as the official forward does on every call ({@code weight.to(dtype) · scale.to(dtype)}): the
     * outputs equal the official FP8 model's, and the block weights take half the bytes of bf16 ones
     * ({@link DitMemory#blockBytes(DitConfig, ScalarType, boolean)}).
     *
     * @param fp8Weights the {@code *_fp8.pt} tensors under official names
     * @param scales     the {@code *_fp8_map.pt} tensors (one single-element tensor per FP8 Linear, nothing else)
     * @throws IllegalArgumentException naming the first missing, misshapen, mistyped or unexpected tensor or scale
     */
    public static HunyuanVideoTransformer loadFp8(Weights fp8Weights, Weights scales, DitConfig cfg, Device device,
                                                  ScalarType dtype) {
        return loadFp8(fp8Weights, scales, cfg, device, dtype, LoraMerge.none());
    }

    /**
     * {@link #loadFp8(Weights, Weights, DitConfig, Device, ScalarType)} with {@code loras} merged into the weights
     * they target, after dequantisation: the dequantised weight (in {@code dtype}, as the official computes it) plus
     * the update, rounded once to {@code dtype}. Those weights are held in {@code dtype}; the others stay FP8.
     */
    public static HunyuanVideoTransformer loadFp8(Weights fp8Weights, Weights scales, DitConfig cfg, Device device,
                                                  ScalarType dtype, LoraMerge loras) {
        return loadFp8(fp8Weights, scales, cfg, device, dtype, loras, LayerStreaming.none());
    }

    /**
     * {@link #loadFp8(Weights, Weights, DitConfig, Device, ScalarType, LoraMerge)} with the blocks {@code streaming}
     * names kept in host memory and streamed to the device as they run.
     */
    public static HunyuanVideoTransformer loadFp8(Weights fp8Weights, Weights scales, DitConfig cfg, Device device,
                                                  ScalarType dtype, LoraMerge loras, LayerStreaming streaming) {
        Map<String, long[]> expected = HunyuanVideoTransformer.expectedShapes(cfg);
        checkExactly(fp8Weights, expected, "FP8 DiT checkpoint", true);
        List<String> fp8Layers = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            String name = e.getKey();
            boolean fp8 = isFp8Layer(name, e.getValue());
            DType stored = fp8Weights.info(name).dtype();
            if (fp8 != (stored == DType.F8_E4M3)) {
                throw new IllegalArgumentException("FP8 DiT checkpoint: tensor '" + name + "' has dtype " + stored
                        + (fp8 ? "; block Linear weights must be float8_e4m3fn" : "; only block Linear weights may be "
                        + "float8_e4m3fn"));
            }
            if (fp8) {
                String layer = layerOf(name);
                if (!scales.contains(layer)) {
                    throw new IllegalArgumentException("FP8 scale map lacks the scale of '" + layer + "'");
                }
                if (scales.info(layer).numel() != 1) {
                    throw new IllegalArgumentException("FP8 scale of '" + layer + "' must hold one value, has shape "
                            + Arrays.toString(scales.info(layer).shape()));
                }
                fp8Layers.add(layer);
            }
        }
        List<String> unexpected = scales.names().stream().filter(n -> !fp8Layers.contains(n)).toList();
        if (!unexpected.isEmpty()) {
            throw new IllegalArgumentException("FP8 scale map has " + unexpected.size() + " entries that are no FP8 "
                    + "Linear of this model, first '" + unexpected.get(0) + "'");
        }
        loras.checkFits(expected);
        Parameters.Float8Weights kept = fp8BlockLinears(loras.targets(), name -> scales.get(layerOf(name)));
        return build(cfg, Parameters.of(loras.over((name, shape, dev, dt) -> {
            if (!isFp8Layer(name, shape) || dt == ScalarType.Float8_e4m3fn) {
                return Parameters.copy(fp8Weights, name, shape, dev, dt);
            }
            // A LoRA target: dequantised in the model dtype even when the merge asks for float32, the official
            // weight's values.
            Tensor w = fp8Weights.get(name).to(dev, dtype);
            w.mul_(scales.get(layerOf(name)).reshape().to(dev, dtype));
            return w.to(dt);
        }), kept, device, dtype), streaming);
    }

    /**
     * The weights {@link #loadFp8} keeps in float8: every block Linear weight but those a LoRA merges into
     * ({@code except}, which are held dequantised in the compute dtype), with {@code scale} giving each one's scale by
     * weight name.
     */
    static Parameters.Float8Weights fp8BlockLinears(Set<String> except, Function<String, Tensor> scale) {
        return new Parameters.Float8Weights() {
            @Override
            public boolean isFloat8(String name, long[] shape) {
                return isFp8Layer(name, shape) && !except.contains(name);
            }

            @Override
            public Tensor scale(String name) {
                return scale.apply(name);
            }
        };
    }

    /** The model bound from {@code params}, which are closed afterwards: the boxes retain what they keep. */
    private static HunyuanVideoTransformer build(DitConfig cfg, Parameters params, LayerStreaming streaming) {
        try (params) {
            return HunyuanVideoTransformer.of(cfg, params, streaming);
        }
    }

    /**
     * {@link Parameters#checkExactly} (names and shapes), then the dtypes: floating point, and float8_e4m3fn only where
     * {@code fp8} allows it (whose placement {@link #loadFp8} checks).
     */
    private static void checkExactly(Weights w, Map<String, long[]> expected, String what, boolean fp8) {
        Parameters.checkExactly(w, expected, what);
        for (String name : expected.keySet()) {
            DType d = w.info(name).dtype();
            if (d != DType.F32 && d != DType.F16 && d != DType.BF16 && d != DType.F64 && !(fp8 && d == DType.F8_E4M3)) {
                throw new IllegalArgumentException(what + ": tensor '" + name + "' has dtype " + d + "; expected "
                        + "bf16/fp16/fp32" + (d == DType.F8_E4M3 ? " (FP8 checkpoints load with loadFp8 and their "
                        + "scale map)" : ""));
            }
        }
    }

    /** Whether {@code --use-fp8} converts this parameter: the weight of a Linear inside a double or single block. */
    private static boolean isFp8Layer(String name, long[] shape) {
        return (name.startsWith("double_blocks.") || name.startsWith("single_blocks.")) && shape.length == 2;
    }

    /** The module name of weight {@code name} (its scale's key in the map). */
    private static String layerOf(String name) {
        return name.substring(0, name.length() - ".weight".length());
    }

    private static void logLoaded(Path weights, String names, ScalarType dtype, long t0) {
        LOG.info("DiT loaded from {} ({} names, {}) in {} ms", weights, names, dtype,
                (System.nanoTime() - t0) / 1_000_000);
    }
}
