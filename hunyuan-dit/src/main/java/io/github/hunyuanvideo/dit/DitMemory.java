package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.StreamedWeights;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The DiT's device memory, computed before anything loads: its weights (measured on the meta device through the same
 * binding code that loads them, so reordered or float32-kept parameters count as they are stored) and a calibrated
 * figure for the activations of one forward. For memory planning.
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

    private DitMemory() {
    }

    /** Bytes of the weights outside the blocks (embedders, token refiner, final layer), which stay on the device. */
    public static long nonBlockBytes(DitConfig cfg, ScalarType dtype) {
        long[] blocks = blockBytes(cfg, dtype);
        long all = StreamedWeights.layerBytes(dtype, p -> HunyuanVideoTransformer.of(cfg, p).close());
        long inBlocks = 0;
        for (long b : blocks) {
            inBlocks += b;
        }
        return all - inBlocks;
    }

    /** Bytes of each block in execution order (double blocks, then single blocks), as a streaming slot holds it. */
    public static long[] blockBytes(DitConfig cfg, ScalarType dtype) {
        long doubleBytes = StreamedWeights.layerBytes(dtype, p -> DoubleStreamBlock.load(p, "double_blocks.0", cfg)
                .close());
        long singleBytes = StreamedWeights.layerBytes(dtype, p -> SingleStreamBlock.load(p, "single_blocks.0", cfg)
                .close());
        long[] bytes = new long[cfg.doubleBlocks() + cfg.singleBlocks()];
        for (int b = 0; b < bytes.length; b++) {
            bytes[b] = b < cfg.doubleBlocks() ? doubleBytes : singleBytes;
        }
        return bytes;
    }

    /**
     * The activation peak of one forward beyond the weights ({@link #ACTIVATION_WIDTHS_PER_TOKEN}).
     *
     * @param latentShape {@code [B, C, T, H, W]} of the DiT's input (B includes the doubled batch of true CFG)
     * @param textTokens  text tokens per sample (the padded length is the upper bound)
     */
    public static long activationBytes(DitConfig cfg, ScalarType dtype, long[] latentShape, long textTokens) {
        long tokens = textTokens;
        long image = 1;
        for (int i = 0; i < 3; i++) {
            image *= latentShape[2 + i] / cfg.patchSize().get(i);
        }
        tokens += image;
        return (long) Math.ceil(ACTIVATION_WIDTHS_PER_TOKEN * cfg.hiddenSize() * torch.elementSize(dtype) * tokens
                * latentShape[0]);
    }
}
