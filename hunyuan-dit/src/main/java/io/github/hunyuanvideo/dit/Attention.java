package io.github.hunyuanvideo.dit;

import java.util.Arrays;
import java.util.List;
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
     * 8-bit attention ({@link QuantizedAttention#attend}: INT8 Q and K, bf16 P and V, bf16 output) on a Hopper GPU
     * (compute capability 9.0) with head dim {@value QuantizedAttention#HEAD_DIM}: within issue 16's accuracy bars
     * (relative L1 ≈ 1.3 % against float32 attention). Where that kernel cannot run (the CPU, another GPU, another
     * head dim, a kernel that fails to compile) the blocks run {@link #SDPA} instead, and each model logs one warning
     * saying why.
     */
    INT8,
    /**
     * {@link #INT8} with its P·V product in FP8 too (e4m3 P and V, {@link QuantizedAttention.ValueProduct#FP8}): about
     * a quarter faster than {@link #INT8} at 720p, at about three times its error (relative L1 ≈ 4.1 %, cosine 0.9992
     * against float32 attention on Gaussian inputs: over issue 16's 3 % bar). The same fallback to {@link #SDPA}.
     */
    INT8_FP8;

    /** Whether this backend runs the 8-bit kernel (with its workspace, see {@link DitMemory}). */
    public boolean quantized() {
        return this != SDPA;
    }

    /**
     * The 8-bit kernel's P·V product of this backend.
     *
     * @throws IllegalStateException for {@link #SDPA}
     */
    public QuantizedAttention.ValueProduct valueProduct() {
        return switch (this) {
            case INT8 -> QuantizedAttention.ValueProduct.BF16;
            case INT8_FP8 -> QuantizedAttention.ValueProduct.FP8;
            case SDPA -> throw new IllegalStateException("SDPA runs no 8-bit kernel");
        };
    }

    /** The backend's name on a command line: {@code sdpa}, {@code int8}, {@code int8-fp8}. */
    public String optionName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Every backend's {@link #optionName}, in declaration order. */
    public static List<String> optionNames() {
        return Arrays.stream(values()).map(Attention::optionName).toList();
    }

    /**
     * The backend named {@code name}, case-insensitive: {@code sdpa}, {@code int8} or {@code int8-fp8}
     * ({@code int8_fp8} too).
     *
     * @throws IllegalArgumentException starting with {@code attention:} for any other name
     */
    public static Attention parse(String name) {
        for (Attention a : values()) {
            if (a.optionName().equalsIgnoreCase(name.replace('_', '-'))) {
                return a;
            }
        }
        throw new IllegalArgumentException("attention: expected one of " + optionNames() + ", got '" + name + "'");
    }
}
