package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.StreamedWeights;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Set;

/**
 * The DiT's device memory, computed before anything loads: its weights (measured on the meta device through the same
 * binding code that loads them, so reordered, float32-kept or FP8 parameters count as they are stored) and a
 * calibrated figure for the activations of one forward. For memory planning.
 */
public final class DitMemory {
    /**
     * Device bytes of one forward's live activations per token (image tokens plus text tokens, times the batch), in
     * units of {@code hidden_size × element size}. Measured on an H100 with the full-size model in bf16 (2026-12-06,
     * DitBench, peak allocated minus the weights): 12.24 at 720×1280×129 (118,840 tokens) and 12.25 at 544×960×129
     * (67,360 tokens), resident or with every block streamed; the largest live set is a single-stream block's, whose
     * joined input, q/k/v, attention output and MLP activation ({@code 4 × hidden}) are alive together. Rounded up to
     * 13 so that a plan keeps a margin for the text length and the allocator's rounding.
     */
    public static final double ACTIVATION_WIDTHS_PER_TOKEN = 13.0;
    /**
     * What {@link Attention#INT8} and {@link Attention#INT8_FP8} add to {@link #ACTIVATION_WIDTHS_PER_TOKEN}, in the
     * same units: the quantized operands (INT8 Q and K, V as bf16 tile images, whose FP8 tiles take half their slot)
     * and the kernel's output beside the tensors of the SDPA path.
     * Measured on an H100 with the full-size model in bf16 (2026-12-06, DitBench, peak allocated INT8 minus SDPA):
     * 6.0 at 720×1280×129 (4.08 GiB) and 6.0 at 544×960×129 (2.32 GiB), with V's two e4m3 parts then and with bf16 V
     * now (the same bytes); rounded up to 6.5.
     */
    public static final double INT8_ATTENTION_WIDTHS_PER_TOKEN = 6.5;

    private DitMemory() {
    }

    /** Bytes of the weights outside the blocks (embedders, token refiner, final layer), which stay on the device. */
    public static long nonBlockBytes(DitConfig cfg, ScalarType dtype) {
        return nonBlockBytes(cfg, dtype, false);
    }

    /**
     * {@link #nonBlockBytes(DitConfig, ScalarType)} of a DiT whose block Linear weights are FP8 if {@code fp8} (as
     * {@link DitCheckpoint#loadFp8} keeps them); the FP8 format leaves these weights in the compute dtype, so the
     * figure is the same either way.
     */
    public static long nonBlockBytes(DitConfig cfg, ScalarType dtype, boolean fp8) {
        long all = StreamedWeights.layerBytes(meta(dtype, fp8), p -> HunyuanVideoTransformer.of(cfg, p).close());
        long inBlocks = 0;
        for (long b : blockBytes(cfg, dtype, fp8)) {
            inBlocks += b;
        }
        return all - inBlocks;
    }

    /** Bytes of each block in execution order (double blocks, then single blocks), as a streaming slot holds it. */
    public static long[] blockBytes(DitConfig cfg, ScalarType dtype) {
        return blockBytes(cfg, dtype, false);
    }

    /**
     * {@link #blockBytes(DitConfig, ScalarType)} with the block Linear weights in float8_e4m3fn plus their scales if
     * {@code fp8} (as {@link DitCheckpoint#loadFp8} keeps them without LoRA): about half of bf16's.
     */
    public static long[] blockBytes(DitConfig cfg, ScalarType dtype, boolean fp8) {
        long doubleBytes = blockBytes(cfg, 0, meta(dtype, fp8));
        long singleBytes = blockBytes(cfg, cfg.doubleBlocks(), meta(dtype, fp8));
        long[] bytes = new long[cfg.doubleBlocks() + cfg.singleBlocks()];
        for (int b = 0; b < bytes.length; b++) {
            bytes[b] = b < cfg.doubleBlocks() ? doubleBytes : singleBytes;
        }
        return bytes;
    }

    /**
     * Bytes of block {@code index} (double blocks, then single blocks) as {@code meta}, fresh parameters on the meta
     * device, bind it (each block by its own names: which of its weights are float8 may depend on them).
     */
    static long blockBytes(DitConfig cfg, int index, Parameters meta) {
        return StreamedWeights.layerBytes(meta, p -> {
            if (index < cfg.doubleBlocks()) {
                DoubleStreamBlock.load(p, "double_blocks." + index, cfg).close();
            } else {
                SingleStreamBlock.load(p, "single_blocks." + (index - cfg.doubleBlocks()), cfg).close();
            }
        });
    }

    /** Meta parameters of {@code dtype}, with every block Linear weight in float8 if {@code fp8}. */
    private static Parameters meta(ScalarType dtype, boolean fp8) {
        return Parameters.meta(dtype, fp8 ? DitCheckpoint.fp8BlockLinears(Set.of(), name -> {
            throw new IllegalStateException("meta parameters ask for no scale");
        }) : Parameters.Float8Weights.NONE);
    }

    /**
     * The activation peak of one forward beyond the weights with SDPA attention ({@link #ACTIVATION_WIDTHS_PER_TOKEN}).
     *
     * @param latentShape {@code [B, C, T, H, W]} of the DiT's input (B includes the doubled batch of true CFG)
     * @param textTokens  text tokens per sample (the padded length is the upper bound)
     */
    public static long activationBytes(DitConfig cfg, ScalarType dtype, long[] latentShape, long textTokens) {
        return activationBytes(cfg, dtype, latentShape, textTokens, Attention.SDPA);
    }

    /**
     * The activation peak of one forward beyond the weights with {@code attention}'s backend
     * ({@link #ACTIVATION_WIDTHS_PER_TOKEN}, plus {@link #INT8_ATTENTION_WIDTHS_PER_TOKEN} for the 8-bit backends).
     */
    public static long activationBytes(DitConfig cfg, ScalarType dtype, long[] latentShape, long textTokens,
                                       Attention attention) {
        long tokens = textTokens;
        long image = 1;
        for (int i = 0; i < 3; i++) {
            image *= latentShape[2 + i] / cfg.patchSize().get(i);
        }
        tokens += image;
        double widths = ACTIVATION_WIDTHS_PER_TOKEN
                + (attention.quantized() ? INT8_ATTENTION_WIDTHS_PER_TOKEN : 0);
        return (long) Math.ceil(widths * cfg.hiddenSize() * torch.elementSize(dtype) * tokens * latentShape[0]);
    }
}
