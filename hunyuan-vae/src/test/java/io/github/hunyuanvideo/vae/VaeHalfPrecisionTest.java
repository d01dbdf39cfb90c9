package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The half-precision path (fp16 weights and convolutions, chunked fp32 GroupNorm, fp16 tiles and blends) on the CPU
 * against the float32 golden case, within the GPU tolerance 2e-2.
 */
class VaeHalfPrecisionTest {
    private static final double TOL = 2e-2;

    @Test
    void halfPrecisionEncodeAndTiledDecode() {
        try (ReferenceCase ref = ReferenceCase.load("vae_tiny");
             CausalVideoVae vae = CausalVideoVae.load(ref.modelWeights(), VaeConfig.fromJson(ref.config()),
                     new Device("cpu"), ScalarType.Half);
             PointerScope scope = new PointerScope()) {
            vae.setTiling(TilingConfig.disabled());
            DiagonalGaussian posterior = vae.encode(ref.tensor("in.x"));
            assertEquals(ScalarType.Half, posterior.mean().scalar_type().intern());
            ref.assertClose("out.posterior_mean", posterior.mean(), TOL);
            ref.assertClose("out.posterior_logvar", posterior.logvar(), TOL);

            vae.setTiling(VaeTinyReferenceTest.tilingForX2(ref));
            ref.assertClose("out.tiled_decode", vae.decode(ref.tensor("out.tiled_posterior_mean")), TOL);
        }
    }
}
