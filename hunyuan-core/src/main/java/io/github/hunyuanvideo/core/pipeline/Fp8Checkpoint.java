package io.github.hunyuanvideo.core.pipeline;

import io.github.hunyuanvideo.io.CheckpointFormatException;
import io.github.hunyuanvideo.io.DType;
import io.github.hunyuanvideo.io.TensorInfo;
import io.github.hunyuanvideo.io.TensorSource;
import io.github.hunyuanvideo.io.TorchCheckpoint;
import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * The official FP8 DiT checkpoint ({@code --use-fp8}, spec §12) seen as a plain checkpoint: every
 * {@code float8_e4m3fn} block weight {@code w} is returned as {@code w.to(dtype) · scale.to(dtype)}, the value the
 * official forward computes before each matmul, with {@code scale} from the map under the Linear's module name. Other
 * tensors pass through. The dequantized weights take the memory of the compute dtype (no FP8 storage saving).
 */
final class Fp8Checkpoint implements TensorSource {
    private final Weights weights;
    private final Weights scales;
    private final ScalarType dtype;
    private final DType dtypeTag;

    private Fp8Checkpoint(Weights weights, Weights scales, ScalarType dtype) {
        this.weights = weights;
        this.scales = scales;
        this.dtype = dtype;
        this.dtypeTag = switch (dtype) {
            case Float -> DType.F32;
            case Half -> DType.F16;
            case BFloat16 -> DType.BF16;
            default -> throw new IllegalArgumentException("precision: FP8 weights dequantize to fp32/fp16/bf16, got "
                    + dtype);
        };
    }

    /**
     * Opens {@code fp8File} (wrapped under {@code loadKey} or bare) and its {@code scaleMap}, and checks that every
     * FP8 weight has a scale.
     *
     * @throws CheckpointFormatException naming the first FP8 weight without a scale
     */
    static Weights open(Path fp8File, Path scaleMap, String loadKey, ScalarType dtype) throws IOException {
        Weights w = DitTransformer.openDit(fp8File, loadKey);
        Weights s = null;
        try {
            s = Weights.of(List.of(TorchCheckpoint.open(scaleMap, null))); // the original torch.loads it as is
            for (String n : w.names()) {
                if (w.info(n).dtype() == DType.F8_E4M3 && !s.contains(moduleName(n))) {
                    throw new CheckpointFormatException(scaleMap, "no scale for FP8 weight '" + n + "' (expected key '"
                            + moduleName(n) + "')");
                }
            }
            return Weights.of(List.of(new Fp8Checkpoint(w, s, dtype)));
        } catch (IOException | RuntimeException e) {
            w.close();
            if (s != null) {
                s.close();
            }
            throw e;
        }
    }

    private static String moduleName(String weightName) {
        return weightName.endsWith(".weight") ? weightName.substring(0, weightName.length() - 7) : weightName;
    }

    @Override
    public Set<String> names() {
        return weights.names();
    }

    @Override
    public TensorInfo info(String name) {
        if (!weights.contains(name)) {
            return null;
        }
        TensorInfo i = weights.info(name);
        return i.dtype() != DType.F8_E4M3 ? i : new TensorInfo(name, dtypeTag, i.shape(), i.file());
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = weights.get(name);
        if (weights.info(name).dtype() != DType.F8_E4M3) {
            return t;
        }
        Tensor scale = scales.get(moduleName(name)).to(dtype);
        return t.to(dtype).mul(scale);
    }

    @Override
    public void close() {
        weights.close();
        scales.close();
    }
}
