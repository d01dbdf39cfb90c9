package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.CudaMemory;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decode memory estimate and the tiling chosen under a budget, for the full-size VAE. */
class VaeMemoryTest {
    private static final VaeConfig OFFICIAL = VaeConfig.official();
    private static final long GIB = 1L << 30;
    private static final String OPTION = "--max-gpu-memory";

    /**
     * The calibration runs ({@code VaeBench} on an H200: fp16, official tiles, peak allocated with the weights): the
     * estimate is at least the measured peak and at most 15 % above it.
     */
    @ParameterizedTest
    @CsvSource({"1x16x33x68x120, 10.31", "1x16x33x90x160, 10.82"})
    void officialEstimateCoversTheMeasuredPeak(String shape, double measuredGib) {
        double estimate = CudaMemory.gib(VaeMemory.weightBytes(OFFICIAL, ScalarType.Half)
                + VaeMemory.decodeBytes(OFFICIAL, ScalarType.Half, latents(shape), TilingConfig.of(OFFICIAL)));
        assertTrue(estimate >= measuredGib && estimate <= 1.15 * measuredGib, estimate + " GiB");
    }

    /** 246,478,803 parameters (the original's count) in fp16, plus float32 vectors and 512-byte blocks. */
    @Test
    void weightBytesCountEveryParameter() {
        long fp16 = VaeMemory.weightBytes(OFFICIAL, ScalarType.Half);
        assertTrue(fp16 >= 2L * 246_478_803 && fp16 < 2.01 * 246_478_803, Long.toString(fp16));
        assertTrue(VaeMemory.weightBytes(OFFICIAL, ScalarType.Float) > 1.99 * fp16);
        assertEquals(fp16, VaeMemory.weightBytes(OFFICIAL, ScalarType.BFloat16));
    }

    /**
     * Streamed, the encoder and the decoder each take two slots of their largest part, a 512-wide resnet: two
     * 3×3×3 convolutions of 512 × 512 weights with their biases in the model dtype, and two GroupNorms of float32
     * weight and bias, every tensor a multiple of 512 bytes (in fp16 108 MiB, against 0.46 GiB resident). The
     * encoder has 17 parts (conv_in, 3 + 3 + 3 + 2 in the down blocks, 3 in the mid block, the output head,
     * quant_conv), the decoder 21 (conv_in, 3 in the mid block, 4 + 4 + 4 + 3 in the up blocks, the output head,
     * post_quant_conv).
     */
    @ParameterizedTest
    @CsvSource({"Half, 2", "Float, 4"})
    void streamedWeightsAreFourSlotsOfAResnet(ScalarType dtype, long bytesPerValue) {
        long resnet = 2 * (512L * 512 * 27 + 512) * bytesPerValue + 4 * 512 * 4;
        assertEquals(4 * resnet, VaeMemory.streamedWeightBytes(OFFICIAL, dtype));
        long[][] parts = CausalVideoVae.partBytes(OFFICIAL, dtype);
        assertEquals(17, parts[0].length);
        assertEquals(21, parts[1].length);
    }

    /**
     * A tile at least as large along both axes never needs less, for every pair of candidate tilings, on latents that
     * every candidate tiles in time and space (a clip that fits one temporal tile skips the temporal loop and its
     * separate output buffer, so there a larger tile can need less).
     */
    @ParameterizedTest
    @ValueSource(strings = {"1x16x33x68x120", "1x16x33x90x160", "2x16x17x45x80"})
    void largerTilesNeedMore(String shape) {
        List<TilingConfig> all = TilingConfig.candidates(OFFICIAL);
        for (TilingConfig a : all) {
            for (TilingConfig b : all) {
                if (a.spatialTileSize() >= b.spatialTileSize() && a.temporalTileFrames() >= b.temporalTileFrames()) {
                    assertTrue(bytes(shape, a, ScalarType.Half) >= bytes(shape, b, ScalarType.Half), a + " vs " + b);
                }
            }
        }
    }

    /** Longer, taller, wider or batched latents need more; fp32 needs more than fp16, bf16 as much as fp16. */
    @ParameterizedTest
    @CsvSource({"1x16x33x68x120, 1x16x45x68x120", "1x16x33x68x120, 1x16x33x90x120", "1x16x33x68x120, 1x16x33x68x160",
            "1x16x33x68x120, 2x16x33x68x120", "1x16x9x20x20, 1x16x33x90x160", "1x16x1x8x8, 1x16x2x8x8"})
    void largerLatentsAndWiderTypesNeedMore(String smaller, String larger) {
        for (TilingConfig t : List.of(TilingConfig.of(OFFICIAL), TilingConfig.smallest(OFFICIAL),
                TilingConfig.disabled())) {
            long fp16 = bytes(smaller, t, ScalarType.Half);
            assertTrue(bytes(larger, t, ScalarType.Half) > fp16, t.toString());
            assertTrue(bytes(smaller, t, ScalarType.Float) > fp16, t.toString());
            assertEquals(fp16, bytes(smaller, t, ScalarType.BFloat16), t.toString());
        }
    }

    /**
     * Over a table of budgets (GiB, weights excluded) and sizes: the official tiling whenever it fits, else a
     * smaller candidate that fits; below the smallest tiles' need, a message naming the option, the video size, the
     * smallest budget (rounded up) and the budget.
     */
    @ParameterizedTest
    @CsvSource({"1x16x33x90x160, 0.5", "1x16x33x90x160, 0.9", "1x16x33x90x160, 1", "1x16x33x90x160, 1.5",
            "1x16x33x90x160, 2", "1x16x33x90x160, 3", "1x16x33x90x160, 4", "1x16x33x90x160, 6",
            "1x16x33x90x160, 8", "1x16x33x90x160, 12", "1x16x33x68x120, 0.5", "1x16x33x68x120, 1",
            "1x16x33x68x120, 2", "1x16x33x68x120, 3", "1x16x33x68x120, 4", "1x16x33x68x120, 6",
            "1x16x33x68x120, 11", "1x16x9x34x60, 0.2", "1x16x9x34x60, 1", "1x16x9x34x60, 3", "2x16x17x45x80, 2",
            "2x16x17x45x80, 5", "1x16x61x90x160, 2", "1x16x61x90x160, 20"})
    void fittingPicksTheOfficialTilingOrASmallerOneThatFits(String shape, double budgetGib) {
        long[] z = latents(shape);
        long budget = (long) (budgetGib * GIB);
        TilingConfig official = TilingConfig.of(OFFICIAL);
        long minimum = VaeMemory.minimumDecodeBytes(OFFICIAL, ScalarType.Half, z);
        if (budget < minimum) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TilingConfig.fitting(OFFICIAL, ScalarType.Half, z, budget, OPTION));
            String size = OFFICIAL.decodedSize(z[3]) + "x" + OFFICIAL.decodedSize(z[4]) + "x"
                    + OFFICIAL.decodedFrames(z[2]);
            String expected = String.format(Locale.ROOT, "%s: the VAE decode of %s needs at least %.1f GiB with the "
                            + "smallest tiles (64 px, 16 frames); the budget leaves %.1f GiB", OPTION, size,
                    Math.ceil(CudaMemory.gib(minimum) * 10) / 10, budgetGib);
            assertEquals(expected, e.getMessage());
            return;
        }
        TilingConfig chosen = TilingConfig.fitting(OFFICIAL, ScalarType.Half, z, budget, OPTION);
        if (VaeMemory.decodeBytes(OFFICIAL, ScalarType.Half, z, official) <= budget) {
            assertEquals(official, chosen);
        } else {
            assertNotEquals(official, chosen);
            assertTrue(TilingConfig.candidates(OFFICIAL).contains(chosen), chosen.toString());
            assertTrue(VaeMemory.decodeBytes(OFFICIAL, ScalarType.Half, z, chosen) <= budget, chosen.toString());
        }
    }

    /** More budget never means more tiles; the smallest budget works, one byte less does not. */
    @ParameterizedTest
    @ValueSource(strings = {"1x16x33x68x120", "1x16x33x90x160", "2x16x17x45x80"})
    void moreBudgetNeverMeansMoreTiles(String shape) {
        long[] z = latents(shape);
        long minimum = VaeMemory.minimumDecodeBytes(OFFICIAL, ScalarType.Half, z);
        assertEquals(VaeMemory.decodeBytes(OFFICIAL, ScalarType.Half, z, TilingConfig.smallest(OFFICIAL)), minimum);
        assertThrows(IllegalArgumentException.class,
                () -> TilingConfig.fitting(OFFICIAL, ScalarType.Half, z, minimum - 1, OPTION));
        int previous = Integer.MAX_VALUE;
        for (long budget = minimum; budget < 14 * GIB; budget += GIB / 8) {
            TilingConfig t = TilingConfig.fitting(OFFICIAL, ScalarType.Half, z, budget, OPTION);
            int tiles = new Tiler(t, OFFICIAL).decodeTileCount(z[2], z[3], z[4]);
            assertTrue(tiles <= previous, budget + " bytes: " + t);
            previous = tiles;
        }
    }

    /** The smallest tiles are 64 px and 16 frames; the tiny configuration's own (32 px) are smaller still, and kept. */
    @Test
    void smallestTiles() {
        TilingConfig smallest = TilingConfig.smallest(OFFICIAL);
        assertEquals(64, smallest.spatialTileSize());
        assertEquals(16, smallest.temporalTileFrames());
        assertEquals(0.25, smallest.overlapFactor());
        VaeConfig tiny = new VaeConfig(3, 3, 4, List.of(8, 16, 32, 32), 2, 4, 32, 16, 0.476986, 4, 8, true);
        assertEquals(List.of(TilingConfig.of(tiny)), TilingConfig.candidates(tiny));
    }

    @Test
    void badShapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> VaeMemory.decodeBytes(OFFICIAL, ScalarType.Half,
                new long[]{1, 4, 33, 68, 120}, TilingConfig.of(OFFICIAL)));
        assertThrows(IllegalArgumentException.class, () -> VaeMemory.decodeBytes(OFFICIAL, ScalarType.Long,
                latents("1x16x33x68x120"), TilingConfig.of(OFFICIAL)));
        assertThrows(IllegalArgumentException.class, () -> VaeMemory.streamedWeightBytes(OFFICIAL, ScalarType.Long));
    }

    private static long bytes(String shape, TilingConfig t, ScalarType dtype) {
        return VaeMemory.decodeBytes(OFFICIAL, dtype, latents(shape), t);
    }

    private static long[] latents(String shape) {
        return Arrays.stream(shape.trim().split("x")).mapToLong(Long::parseLong).toArray();
    }
}
