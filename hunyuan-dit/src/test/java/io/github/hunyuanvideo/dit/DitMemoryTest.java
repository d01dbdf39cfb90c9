package io.github.hunyuanvideo.dit;

import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link DitMemory}'s weight figures of the full-size model, with and without FP8 block Linears. */
class DitMemoryTest {
    private static final DitConfig CFG = DitConfig.cfgDistill();

    @Test
    void fp8BlocksTakeAboutHalfOfBf16() {
        long[] bf16 = DitMemory.blockBytes(CFG, ScalarType.BFloat16);
        long[] fp8 = DitMemory.blockBytes(CFG, ScalarType.BFloat16, true);
        assertEquals(bf16.length, fp8.length);
        long c = CFG.hiddenSize();
        long m = CFG.mlpHidden();
        // Linear weights per double block (both streams): modulation 6c², qkv 3c², proj c², fc1 and fc2 2cm each.
        long doubleWeights = 2 * (10 * c * c + 2 * c * m);
        // Per single block: linear1 (3c + m)·c, linear2 c·(c + m), modulation 3c².
        long singleWeights = (3 * c + m) * c + c * (c + m) + 3 * c * c;
        for (int b = 0; b < bf16.length; b++) {
            long weights = b < CFG.doubleBlocks() ? doubleWeights : singleWeights;
            // FP8 saves one byte per Linear weight element; biases, norms and the scales stay bf16.
            long saved = bf16[b] - fp8[b];
            assertTrue(saved > weights - 64 * 1024 && saved <= weights, "block " + b + ": saved " + saved);
            double ratio = (double) fp8[b] / bf16[b];
            assertTrue(ratio > 0.5 && ratio < 0.501, "block " + b + ": " + ratio);
        }
        long allBf16 = Arrays.stream(bf16).sum();
        long allFp8 = Arrays.stream(fp8).sum();
        assertTrue(allFp8 < 12_500_000_000L && allBf16 > 24_900_000_000L, allFp8 + " vs " + allBf16);
        assertEquals(DitMemory.nonBlockBytes(CFG, ScalarType.BFloat16),
                DitMemory.nonBlockBytes(CFG, ScalarType.BFloat16, true));
    }
}
