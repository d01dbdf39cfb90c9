package io.github.hunyuanvideo.dit;

import java.util.Arrays;
import java.util.Locale;

/**
 * The attention backend of the DiT's double- and single-stream blocks, chosen per forward call
 * ({@link DitInputs#attention()}), so that a denoising loop can choose it per step. Either keeps the blocks' varlen
 * segmentation (see {@code docs/dit.md}, "Joint attention and the text padding"); the token refiner's small masked
 * attention always runs SDPA.
 */
public enum Attention {
    /**
     * libtorch's {@code scaled_dot_product_attention} in the compute dtype (cuDNN or flash kernels on CUDA): the
     * original's numerics. The default everywhere.
     */
    SDPA,
    /**
     * 8-bit attention ({@link QuantizedAttention#attend}: INT8 Q and K, FP8 P and V, bf16 output) on a Hopper GPU
     * (compute capability 9.0) with head dim {@value QuantizedAttention#HEAD_DIM}. Where that kernel cannot run (the
     * CPU, another GPU, another head dim, a kernel that fails to compile) the blocks run {@link #SDPA} instead, and
     * each model logs one warning saying why.
     */
    INT8;

    /**
     * The backend named {@code name}, case-insensitive: {@code sdpa} or {@code int8}.
     *
     * @throws IllegalArgumentException starting with {@code attention:} for any other name
     */
    public static Attention parse(String name) {
        for (Attention a : values()) {
            if (a.name().equalsIgnoreCase(name)) {
                return a;
            }
        }
        throw new IllegalArgumentException("attention: expected one of " + Arrays.toString(values())
                .toLowerCase(Locale.ROOT) + ", got '" + name + "'");
    }
}
