package io.github.hunyuanvideo.dit;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@link StepCache} setting's checks and memory figure, and the misuse a {@link StepCacheState} refuses. */
class StepCacheTest {
    @Test
    void thresholdsMustBeFiniteAndNonNegative() {
        for (double bad : new double[]{-0.01, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StepCache.teaCache(bad));
            assertTrue(e.getMessage().startsWith("threshold: must be a finite number >= 0"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> StepCache.firstBlock(bad));
        }
        assertEquals(0.0, StepCache.firstBlock(0).threshold());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StepCache.teaCache(0.1, List.of()));
        assertTrue(e.getMessage().startsWith("coefficients:"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StepCache.teaCache(0.1, List.of(1.0, Double.NaN)));
        assertThrows(IllegalArgumentException.class,
                () -> new StepCache(StepCache.Kind.FIRST_BLOCK, 0.1, List.of(1.0)));
        assertThrows(IllegalArgumentException.class, () -> new StepCache(StepCache.Kind.NONE, 0.1, List.of()));
        assertThrows(IllegalArgumentException.class, () -> StepCache.none().start(0));
    }

    @Test
    void settingsAreValues() {
        assertEquals(StepCache.teaCache(0.15), StepCache.teaCache(0.15, StepCache.TEA_CACHE_HUNYUAN_COEFFICIENTS));
        assertEquals(StepCache.none(), new StepCache(StepCache.Kind.NONE, 0, List.of()));
        assertEquals("teaCache(0.15)", StepCache.teaCache(0.15).toString());
        assertEquals("teaCache(0.2, [1.0, 0.0])", StepCache.teaCache(0.2, List.of(1.0, 0.0)).toString());
        assertEquals("firstBlock(0.06)", StepCache.firstBlock(0.06).toString());
        assertEquals("none", StepCache.none().toString());
        assertEquals(List.of(733.226126, -401.131952, 67.5869174, -3.149878, 0.0961237896),
                StepCache.teaCache(0.1).coefficients());
    }

    @Test
    void storedTensorsAreTwoImageTokenTensors() {
        DitConfig cfg = DitConfig.cfgDistill();
        long[] latents720p = {1, 16, 33, 90, 160};
        long oneResidual = 33L * 45 * 80 * 3072 * 2;
        assertEquals(729_907_200L, oneResidual, "one residual at 720p in bf16 is 0.73 GB");
        assertEquals(2 * oneResidual, StepCache.teaCache(0.15).storedBytes(cfg, latents720p, ScalarType.BFloat16));
        assertEquals(4 * oneResidual, StepCache.firstBlock(0.06).storedBytes(cfg, new long[]{2, 16, 33, 90, 160},
                ScalarType.BFloat16));
        assertEquals(0, StepCache.none().storedBytes(cfg, latents720p, ScalarType.BFloat16));
        assertEquals(0, StepCache.firstBlock(0).storedBytes(cfg, latents720p, ScalarType.BFloat16));
    }

    @Test
    void aStateServesOneGenerationOfItsSteps() {
        try (TinyDenoiser tiny = new TinyDenoiser(); PointerScope scope = new PointerScope()) {
            Tensor x = tiny.inputs.tensor("in.latents");
            for (StepCache setting : List.of(StepCache.none(), StepCache.teaCache(0.3), StepCache.firstBlock(0.3))) {
                StepCacheState cache = setting.start(2);
                tiny.model.forward(tiny.inputs(0, x), cache);
                if (setting.kind() != StepCache.Kind.NONE) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> tiny.model.forward(tiny.inputs(1, x.repeat(2, 1, 1, 1, 1)), cache));
                    assertTrue(e.getMessage().startsWith("latents: this step cache state holds tokens"),
                            e.getMessage());
                }
                tiny.model.forward(tiny.inputs(1, x), cache);
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> tiny.model.forward(tiny.inputs(1, x), cache));
                assertTrue(e.getMessage().contains("used up"), e.getMessage());
                assertEquals(2, cache.decisions().size());
                cache.close();
                assertThrows(IllegalStateException.class, () -> tiny.model.forward(tiny.inputs(0, x), cache));
                assertEquals(2, cache.decisions().size(), "the log outlives the stored tensors");
            }
        }
    }
}
