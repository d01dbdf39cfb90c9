package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.io.DType;
import io.github.hunyuanvideo.io.TensorInfo;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import io.github.hunyuanvideo.nn.Scopes;

/**
 * The HunyuanVideo diffusion transformer ({@code HYVideoDiffusionTransformer}, spec §6): patch and text embedding,
 * double-stream blocks, single-stream blocks and the final layer, predicting the flow-matching velocity.
 *
 * <p>Numerics follow the original's bf16 autocast (§6.9): every parameter is held in the compute dtype (also the
 * final layer's Linear, which the original stores in float32 but runs in bf16), matmuls run in it, and LayerNorm,
 * RMSNorm and RoPE compute in float32 and round back. Attention keeps the official varlen semantics: at batch 1 the
 * padded text tokens are dropped (exact), at batch &gt; 1 each sample's padding attends only to itself.
 *
 * <p>Not thread-safe: one forward at a time.
 */
public final class HunyuanVideoTransformer implements AutoCloseable {
    private final DitConfig cfg;
    private final Device device;
    private final ScalarType dtype;
    private final List<AutoCloseable> boxes = new ArrayList<>();
    private final PatchEmbed imgIn;
    private final SingleTokenRefiner txtIn;
    private final TimestepEmbedder timeIn;
    private final MlpEmbedder vectorIn;
    private final TimestepEmbedder guidanceIn;
    private final List<DoubleStreamBlock> doubleBlocks = new ArrayList<>();
    private final List<SingleStreamBlock> singleBlocks = new ArrayList<>();
    private final FinalLayer finalLayer;

    private HunyuanVideoTransformer(DitConfig cfg, ParamSource p, Device device, ScalarType dtype) {
        this.cfg = cfg;
        this.dtype = dtype;
        this.device = new Device(device.type(), device.index());
        this.device.retainReference();
        try {
            // Boxes are bound in the official state-dict order, each in its own scope so that host-side
            // temporaries (file views, concatenations) are freed as loading goes.
            long c = cfg.hiddenSize();
            imgIn = box(() -> PatchEmbed.load(p, cfg));
            txtIn = box(() -> SingleTokenRefiner.load(p, cfg));
            timeIn = box(() -> TimestepEmbedder.load(p, "time_in", c));
            vectorIn = box(() -> MlpEmbedder.load(p, "vector_in.in_layer", "vector_in.out_layer",
                    cfg.textStatesDim2(), c));
            guidanceIn = cfg.guidanceEmbed() ? box(() -> TimestepEmbedder.load(p, "guidance_in", c)) : null;
            for (int i = 0; i < cfg.doubleBlocks(); i++) {
                String prefix = "double_blocks." + i;
                doubleBlocks.add(box(() -> DoubleStreamBlock.load(p, prefix, cfg)));
            }
            for (int i = 0; i < cfg.singleBlocks(); i++) {
                String prefix = "single_blocks." + i;
                singleBlocks.add(box(() -> SingleStreamBlock.load(p, prefix, cfg)));
            }
            finalLayer = box(() -> FinalLayer.load(p, cfg));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private <T extends AutoCloseable> T box(Supplier<T> loader) {
        try (PointerScope scope = new PointerScope()) {
            T b = loader.get();
            boxes.add(b);
            return b;
        }
    }

    /**
     * Loads a checkpoint under the official state-dict names (safetensors, or the official {@code .pt} through
     * {@link Weights#open}, whose {@code "module"} wrapper it unwraps) strictly: every expected tensor must be present
     * with its shape and nothing else may be there; the check runs before any tensor is copied.
     *
     * @param officialNames the DiT's tensors (e.g. {@code img_in.proj.weight}, ...)
     * @param dtype         compute dtype (bf16 on the GPU, float32 for reference checks)
     * @throws IllegalArgumentException naming the first missing, misshapen or unexpected tensor
     */
    public static HunyuanVideoTransformer load(Weights officialNames, DitConfig cfg, Device device,
                                               ScalarType dtype) {
        checkTensors(officialNames, expectedShapes(cfg), "official DiT checkpoint", false);
        return new HunyuanVideoTransformer(cfg, (name, shape) -> officialNames.get(name, device, dtype), device,
                dtype);
    }

    /**
     * Loads the official FP8 checkpoint of {@code --use-fp8} (spec §12): the 2-D weights of the block Linears
     * ({@code double_blocks.*}, {@code single_blocks.*}) are float8_e4m3fn and {@code scales} maps each such Linear's
     * module name (e.g. {@code double_blocks.0.img_attn_qkv}) to its per-tensor scale; everything else is as in
     * {@link #load}. Each FP8 weight is dequantised once, here, exactly as the official forward does on every call
     * ({@code weight.to(dtype) · scale.to(dtype)}): the outputs equal the official FP8 model's, and the weights take
     * the compute dtype's memory on the device.
     *
     * @param fp8Weights the {@code *_fp8.pt} tensors under official names
     * @param scales     the {@code *_fp8_map.pt} tensors (one single-element tensor per FP8 Linear, nothing else)
     * @throws IllegalArgumentException naming the first missing, misshapen, mistyped or unexpected tensor or scale
     */
    public static HunyuanVideoTransformer loadFp8(Weights fp8Weights, Weights scales, DitConfig cfg, Device device,
                                                  ScalarType dtype) {
        Map<String, long[]> expected = expectedShapes(cfg);
        checkTensors(fp8Weights, expected, "FP8 DiT checkpoint", true);
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
                String layer = name.substring(0, name.length() - ".weight".length());
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
        return new HunyuanVideoTransformer(cfg, (name, shape) -> {
            if (!isFp8Layer(name, shape)) {
                return fp8Weights.get(name, device, dtype);
            }
            Tensor w = fp8Weights.get(name).to(device, dtype);
            w.mul_(scales.get(name.substring(0, name.length() - ".weight".length())).reshape()
                    .to(device, dtype));
            return w;
        }, device, dtype);
    }

    /** Whether {@code --use-fp8} converts this parameter: the weight of a Linear inside a double or single block. */
    private static boolean isFp8Layer(String name, long[] shape) {
        return (name.startsWith("double_blocks.") || name.startsWith("single_blocks.")) && shape.length == 2;
    }

    /**
     * Loads a diffusers {@code HunyuanVideoTransformer3DModel} checkpoint (spec §13.1), as strictly as
     * {@link #load}: fused q/k/v weights are concatenated on the device, and the final layer's (scale, shift) rows are
     * put back into the official (shift, scale) order.
     */
    public static HunyuanVideoTransformer loadDiffusers(Weights diffusersNames, DitConfig cfg, Device device,
                                                        ScalarType dtype) {
        long hidden = cfg.hiddenSize();
        checkTensors(diffusersNames, DiffusersNames.expectedShapes(expectedShapes(cfg), hidden),
                "diffusers DiT checkpoint", false);
        return new HunyuanVideoTransformer(cfg, (name, shape) -> {
            DiffusersNames.Mapping m = DiffusersNames.map(name, shape[0], hidden);
            if (m.swapHalves()) {
                Tensor t = diffusersNames.get(m.parts().get(0), device, dtype);
                long half = shape[0] / 2;
                return torch.cat(new TensorArrayRef(new TensorVector(t.narrow(0, half, half), t.narrow(0, 0, half))),
                        0);
            }
            if (m.parts().size() == 1) {
                return diffusersNames.get(m.parts().get(0), device, dtype);
            }
            TensorVector parts = new TensorVector();
            m.parts().forEach(part -> parts.push_back(diffusersNames.get(part, device, dtype)));
            return torch.cat(new TensorArrayRef(parts), 0);
        }, device, dtype);
    }

    /**
     * A model with random weights made directly on {@code device} (no host copy): matrices ~ N(0, 1/fan_in), norm
     * weights 1 + 0.1·N(0, 1), norm biases 0.1·N(0, 1), other vectors 0.05·N(0, 1). For benchmarks.
     */
    public static HunyuanVideoTransformer randomInit(DitConfig cfg, Device device, ScalarType dtype, long seed) {
        torch.manual_seed(seed);
        return new HunyuanVideoTransformer(cfg, (name, shape) -> {
            Tensor r = torch.randn(shape, new TensorOptions(device).dtype(new ScalarTypeOptional(dtype)));
            // In-place ops return an alias of the Java object, not a new handle: keep returning r itself.
            if (shape.length >= 2) {
                long fanIn = Arrays.stream(shape).skip(1).reduce(1, Math::multiplyExact);
                r.mul_(new Scalar(1.0 / Math.sqrt(fanIn)));
            } else if (name.contains("norm")) {
                r.mul_(new Scalar(0.1));
                if (name.endsWith(".weight")) {
                    r.add_(new Scalar(1.0));
                }
            } else {
                r.mul_(new Scalar(0.05));
            }
            return r;
        }, device, dtype);
    }

    /**
     * Every parameter the model binds, official name → shape, in the official state-dict order, computed on the meta
     * device (nothing is allocated).
     */
    public static Map<String, long[]> expectedShapes(DitConfig cfg) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            Device meta = new Device("meta");
            TensorOptions options = new TensorOptions(meta).dtype(new ScalarTypeOptional(ScalarType.Float));
            new HunyuanVideoTransformer(cfg, (name, shape) -> {
                if (shapes.put(name, shape.clone()) != null) {
                    throw new IllegalStateException("parameter '" + name + "' bound twice");
                }
                return torch.empty(shape, options, new MemoryFormatOptional());
            }, meta, ScalarType.Float).close();
        }
        return Collections.unmodifiableMap(shapes);
    }

    private static void checkTensors(Weights w, Map<String, long[]> expected, String what, boolean fp8) {
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            String name = e.getKey();
            if (!w.contains(name)) {
                throw new IllegalArgumentException(what + " lacks tensor '" + name + "' (expected shape "
                        + Arrays.toString(e.getValue()) + ")");
            }
            TensorInfo info = w.info(name);
            if (!Arrays.equals(info.shape(), e.getValue())) {
                throw new IllegalArgumentException(what + ": tensor '" + name + "' has shape "
                        + Arrays.toString(info.shape()) + ", expected " + Arrays.toString(e.getValue()));
            }
            DType d = info.dtype();
            if (d != DType.F32 && d != DType.F16 && d != DType.BF16 && d != DType.F64 && !(fp8 && d == DType.F8_E4M3)) {
                throw new IllegalArgumentException(what + ": tensor '" + name + "' has dtype " + d + "; expected "
                        + "bf16/fp16/fp32" + (d == DType.F8_E4M3 ? " (FP8 checkpoints load with loadFp8 and their "
                        + "scale map)" : ""));
            }
        }
        List<String> unexpected = w.names().stream().filter(n -> !expected.containsKey(n)).toList();
        if (!unexpected.isEmpty()) {
            throw new IllegalArgumentException(what + " has " + unexpected.size() + " unexpected tensor(s), first '"
                    + unexpected.get(0) + "'");
        }
    }

    /** The configuration. */
    public DitConfig config() {
        return cfg;
    }

    /** The compute dtype. */
    public ScalarType dtype() {
        return dtype;
    }

    /** The device holding the weights. */
    public Device device() {
        return device;
    }

    /**
     * One denoising step's velocity prediction (spec §6.4). Inputs may live on any device; they are moved to the
     * model's. The result is in the compute dtype on the model's device, created in inference mode (do not update it
     * in place outside inference mode), and belongs to the caller's innermost open {@link PointerScope} (or to the
     * caller if none is open).
     *
     * @param x           latents {@code [B, C_in, T, H, W]}, T/H/W divisible by the patch
     * @param t           timesteps {@code [B]} (0…1000, float)
     * @param textStates  LLM states {@code [B, L_txt, text_states_dim]}
     * @param textMask    {@code [B, L_txt]}, 1 for valid tokens, right padded, at least one valid token per row
     * @param textStates2 pooled CLIP states {@code [B, text_states_dim_2]}
     * @param freqsCos    RoPE cos table {@code [T'·H'·W', head_dim]} ({@link Rope3d#freqs})
     * @param freqsSin    RoPE sin table, same shape
     * @param guidance    embedded guidance {@code [B]} (scale·1000); required iff the config embeds guidance
     *                    (ignored otherwise, as in the original)
     * @return velocity {@code [B, C_out, T, H, W]}
     */
    public Tensor forward(Tensor x, Tensor t, Tensor textStates, Tensor textMask, Tensor textStates2,
                          Tensor freqsCos, Tensor freqsSin, Tensor guidance) {
        return forward(x, t, textStates, textMask, textStates2, freqsCos, freqsSin, guidance, null);
    }

    /**
     * {@link #forward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)} reporting the intermediates
     * to {@code probe} (may be {@code null}).
     */
    public Tensor forward(Tensor x, Tensor t, Tensor textStates, Tensor textMask, Tensor textStates2,
                          Tensor freqsCos, Tensor freqsSin, Tensor guidance, DitProbe probe) {
        Inputs in = Inputs.check(cfg, x, t, textStates, textMask, textStates2, freqsCos, freqsSin, guidance);
        Tensor out;
        try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            out = run(in, x, t, textStates, textMask, textStates2, freqsCos, freqsSin, guidance, probe);
            out.retainReference();
        }
        return Scopes.handOut(out);
    }

    private Tensor run(Inputs in, Tensor x, Tensor t, Tensor textStates, Tensor textMask, Tensor textStates2,
                       Tensor freqsCos, Tensor freqsSin, Tensor guidance, DitProbe probe) {
        // Batch 1: drop the padded text tokens (exact, spec §6.8) so that every attention runs unmasked.
        Tensor txtStates = textStates.narrow(1, 0, in.textLength);
        Tensor txtMask = textMask.narrow(1, 0, in.textLength);
        DitProbe.emit(probe, "cu_seqlens", in.cuSeqlens());

        Tensor tDev = t.to(device, ScalarType.Float);
        Tensor timeEmb = timeIn.forward(tDev);
        Tensor vecEmb = vectorIn.forward(textStates2.to(device, dtype));
        DitProbe.emit(probe, "time_in", timeEmb);
        DitProbe.emit(probe, "vector_in", vecEmb);
        Tensor vec = timeEmb.add(vecEmb);
        if (guidanceIn != null) {
            Tensor g = guidanceIn.forward(guidance.to(device, ScalarType.Float));
            DitProbe.emit(probe, "guidance_in", g);
            vec = vec.add(g);
        }
        DitProbe.emit(probe, "vec", vec);
        // Every modulation Linear reads SiLU(vec): computed once for all blocks.
        Tensor siluVec = torch.silu(vec);

        Tensor img = imgIn.forward(onDevice(x), dtype);
        DitProbe.emit(probe, "img_in", img);
        Tensor txt = txtIn.forward(onDevice(txtStates), tDev, onDevice(txtMask), in.padded(), probe);
        DitProbe.emit(probe, "txt_in", txt);

        Tensor joined;
        try (FusedRope rope = rope(freqsCos, freqsSin, in.textLength)) {
            for (int i = 0; i < doubleBlocks.size(); i++) {
                doubleBlocks.get(i).forward(img, txt, siluVec, rope, in.valid);
                DitProbe.emit(probe, "double_blocks." + i + ".img", img);
                DitProbe.emit(probe, "double_blocks." + i + ".txt", txt);
            }
            joined = torch.cat(new TensorArrayRef(new TensorVector(img, txt)), 1);
            img.close();
            txt.close();
            for (int i = 0; i < singleBlocks.size(); i++) {
                singleBlocks.get(i).forward(joined, siluVec, rope, in.valid);
                DitProbe.emit(probe, "single_blocks." + i, joined);
            }
        }
        Tensor tokens = finalLayer.forward(joined.narrow(1, 0, in.imageTokens), siluVec);
        DitProbe.emit(probe, "final_layer", tokens);
        return Unpatchify.apply(tokens, in.grid, in.patch);
    }

    /** {@code t} on the model's device, in its own dtype. */
    private Tensor onDevice(Tensor t) {
        return t.to(device, t.scalar_type());
    }

    /**
     * The RoPE tables on the device: image rows from the official tables (each angle is repeated for both members of
     * a pair: every other column), identity rows (cos 1, sin 0) for the text tokens.
     */
    private FusedRope rope(Tensor cos, Tensor sin, long textTokens) {
        try (PointerScope scope = new PointerScope()) {
            long d = cos.size(1);
            Tensor c = cos.to(device, ScalarType.Float).slice(1, new LongOptional(0), new LongOptional(d), 2);
            Tensor s = sin.to(device, ScalarType.Float).slice(1, new LongOptional(0), new LongOptional(d), 2);
            TensorOptions f32 = new TensorOptions(device).dtype(new ScalarTypeOptional(ScalarType.Float));
            long[] text = {textTokens, d / 2};
            return FusedRope.of(torch.cat(new TensorArrayRef(new TensorVector(c, torch.ones(text, f32))), 0),
                    torch.cat(new TensorArrayRef(new TensorVector(s, torch.zeros(text, f32))), 0));
        }
    }

    /** Releases all weights. */
    @Override
    public void close() {
        for (int i = boxes.size() - 1; i >= 0; i--) {
            Scopes.closeAll(boxes.get(i));
        }
        boxes.clear();
        device.releaseReference();
    }

    /** Validated shapes of one forward call, and the attention segmentation derived from the text mask. */
    private record Inputs(long[] grid, long[] patch, long imageTokens, long textLength, long[] valid) {
        static Inputs check(DitConfig cfg, Tensor x, Tensor t, Tensor textStates, Tensor textMask,
                            Tensor textStates2, Tensor freqsCos, Tensor freqsSin, Tensor guidance) {
            require(x != null && x.dim() == 5 && x.size(1) == cfg.inChannels(), "x",
                    "[B, " + cfg.inChannels() + ", T, H, W]", x);
            long b = x.size(0);
            long[] patch = cfg.patchSize().stream().mapToLong(Integer::longValue).toArray();
            long[] grid = new long[3];
            for (int i = 0; i < 3; i++) {
                if (x.size(2 + i) % patch[i] != 0) {
                    throw new IllegalArgumentException("x: T, H, W " + Arrays.toString(Tensors.shape(x))
                            + " must be divisible by the patch " + Arrays.toString(patch));
                }
                grid[i] = x.size(2 + i) / patch[i];
            }
            long li = grid[0] * grid[1] * grid[2];
            require(t != null && t.dim() == 1 && t.size(0) == b, "t", "[" + b + "]", t);
            require(textStates != null && textStates.dim() == 3 && textStates.size(0) == b
                    && textStates.size(2) == cfg.textStatesDim(), "text_states",
                    "[" + b + ", L_txt, " + cfg.textStatesDim() + "]", textStates);
            long lt = textStates.size(1);
            require(textMask != null && textMask.dim() == 2 && textMask.size(0) == b && textMask.size(1) == lt,
                    "text_mask", "[" + b + ", " + lt + "]", textMask);
            require(textStates2 != null && textStates2.dim() == 2 && textStates2.size(0) == b
                    && textStates2.size(1) == cfg.textStatesDim2(), "text_states_2",
                    "[" + b + ", " + cfg.textStatesDim2() + "]", textStates2);
            for (Tensor f : new Tensor[]{freqsCos, freqsSin}) {
                require(f != null && f.dim() == 2 && f.size(0) == li && f.size(1) == cfg.headDim(),
                        "freqs_cos/freqs_sin", "[" + li + ", " + cfg.headDim() + "] (T'·H'·W', head_dim)", f);
            }
            if (cfg.guidanceEmbed()) {
                require(guidance != null && guidance.dim() == 1 && guidance.size(0) == b, "guidance",
                        "[" + b + "] (required by a guidance-distilled model)", guidance);
            }
            long[] mask = Tensors.toLongArray(textMask);
            long[] validText = new long[(int) b];
            for (int s = 0; s < b; s++) {
                int n = 0;
                while (n < lt && mask[(int) (s * lt + n)] == 1) {
                    n++;
                }
                for (long j = n; j < lt; j++) {
                    if (mask[(int) (s * lt + j)] != 0) {
                        throw new IllegalArgumentException("text_mask row " + s + " must be 1s then 0s (right "
                                + "padding), found " + mask[(int) (s * lt + j)] + " at position " + j);
                    }
                }
                if (n == 0) {
                    throw new IllegalArgumentException("text_mask row " + s + " has no valid token");
                }
                validText[s] = n;
            }
            long textLength = b == 1 ? validText[0] : lt;
            long[] valid = Arrays.stream(validText).map(n -> li + n).toArray();
            return new Inputs(grid, patch, li, textLength, valid);
        }

        private static void require(boolean ok, String name, String expected, Tensor got) {
            if (!ok) {
                throw new IllegalArgumentException(name + " must be " + expected + ", got "
                        + (got == null ? "null" : Arrays.toString(Tensors.shape(got))));
            }
        }

        /** Whether any sample has padded text tokens left (batch &gt; 1 only). */
        boolean padded() {
            return Arrays.stream(valid).anyMatch(v -> v != imageTokens + textLength);
        }

        /** The official {@code cu_seqlens}: per sample, the end of the first segment and of the padded one. */
        Tensor cuSeqlens() {
            long total = imageTokens + textLength;
            long[] cu = new long[2 * valid.length + 1];
            for (int s = 0; s < valid.length; s++) {
                cu[2 * s + 1] = s * total + valid[s];
                cu[2 * s + 2] = (s + 1) * total;
            }
            return Tensors.fromLongs(cu, cu.length);
        }
    }
}
