package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Tile plans, blend arithmetic and the chunked half-precision GroupNorm. */
class TilingTest {
    /** The official tiles of the full-size VAE. */
    private static final Tiler OFFICIAL = new Tiler(TilingConfig.official(), VaeConfig.official());

    /**
     * {@code temporal_tiled_decode}: 17-frame latent tiles every 12 blended over 16 frames; 33 latent frames → tiles
     * keep 49 + 48 + 32 = 129 frames; 17 → 49 + 16 = 65.
     */
    @Test
    void officialTemporalDecodeTiles() {
        TileAxis t = OFFICIAL.decodeFrames(33);
        assertEquals(16, t.blend);
        assertArrayEquals(new long[]{0, 12, 24}, t.start);
        assertArrayEquals(new long[]{65, 64, 32}, t.outLength);
        assertArrayEquals(new long[]{49, 48, 32}, t.keep);
        assertArrayEquals(new long[]{0, 49, 97}, t.offset);
        assertEquals(129, t.total);
        TileAxis shorter = OFFICIAL.decodeFrames(17);
        assertArrayEquals(new long[]{49, 16}, shorter.keep);
    }

    /**
     * {@code spatial_tiled_decode}: 720 × 1280 from 90 × 160 latents; 256-px tiles every 24 latent pixels, blended
     * over 64 pixels, keep 192.
     */
    @Test
    void officialSpatialDecodeTiles() {
        TileAxis rows = OFFICIAL.decodeSpace(90);
        assertEquals(64, rows.blend);
        assertArrayEquals(new long[]{192, 192, 192, 144}, rows.keep);
        assertEquals(720, rows.total);
        TileAxis cols = OFFICIAL.decodeSpace(160);
        assertArrayEquals(new long[]{192, 192, 192, 192, 192, 192, 128}, cols.keep);
        assertEquals(1280, cols.total);
    }

    /**
     * The mirror image, {@code temporal_tiled_encode} / {@code spatial_tiled_encode}: 65-frame tiles every 48 blended
     * over 4 latent frames keep 13, then 12; 256-px tiles every 192 blended over 8 latent pixels keep 24.
     */
    @Test
    void officialEncodeTiles() {
        TileAxis frames = OFFICIAL.encodeFrames(129);
        assertEquals(4, frames.blend);
        assertArrayEquals(new long[]{0, 48, 96}, frames.start);
        assertArrayEquals(new long[]{65, 65, 33}, frames.length);
        assertArrayEquals(new long[]{13, 12, 8}, frames.keep);
        assertEquals(33, frames.total);
        TileAxis rows = OFFICIAL.encodeSpace(720);
        assertEquals(8, rows.blend);
        assertArrayEquals(new long[]{0, 192, 384, 576}, rows.start);
        assertArrayEquals(new long[]{24, 24, 24, 18}, rows.keep);
        assertEquals(90, rows.total);
        assertEquals(160, OFFICIAL.encodeSpace(1280).total);
    }

    /** A stride of zero would loop forever in the official code: refused. */
    @Test
    void nonAdvancingTilesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> TileAxis.spatial(10, 1, 0, 1, 0, s -> s));
    }

    /** Tiler.blend equals the official per-slice loop, for random extents and sizes along every blended axis. */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void blendMatchesTheOfficialLoop(long seed) {
        Random rnd = new Random(seed);
        try (PointerScope scope = new PointerScope()) {
            for (int dim = 2; dim <= 4; dim++) {
                long[] shapeA = {1, 2, 3, 4, 5};
                long[] shapeB = {1, 2, 3, 4, 5};
                shapeA[dim] = 1 + rnd.nextInt(6);
                shapeB[dim] = 1 + rnd.nextInt(6);
                int extent = rnd.nextInt(8);
                Tensor a = torch.randn(shapeA);
                Tensor b = torch.randn(shapeB);
                float[] av = Tensors.toFloatArray(a);
                float[] bv = Tensors.toFloatArray(b);
                Tiler.blend(a, b, dim, extent);
                float[] expected = officialBlend(av, shapeA, bv, shapeB, dim, extent);
                assertArrayEquals(expected, Tensors.toFloatArray(b), "dim " + dim + " extent " + extent);
            }
        }
    }

    /** {@code b[..x..] = a[..size_a − e + x..]·(1 − x/e) + b[..x..]·(x/e)} element by element. */
    private static float[] officialBlend(float[] a, long[] sa, float[] b, long[] sb, int dim, int extent) {
        int e = (int) Math.min(extent, Math.min(sa[dim], sb[dim]));
        float[] out = b.clone();
        long[] idx = new long[5];
        for (int flat = 0; flat < b.length; flat++) {
            long rest = flat;
            for (int d = 4; d >= 0; d--) {
                idx[d] = rest % sb[d];
                rest /= sb[d];
            }
            int x = (int) idx[dim];
            if (x >= e) {
                continue;
            }
            long[] ai = idx.clone();
            ai[dim] = sa[dim] - e + x;
            long af = 0;
            for (int d = 0; d < 5; d++) {
                af = af * sa[d] + ai[d];
            }
            float wa = (float) (1 - (double) x / e);
            float wb = (float) ((double) x / e);
            out[flat] = a[(int) af] * wa + b[flat] * wb;
        }
        return out;
    }

    /** Half inputs are normalised with float32 statistics and arithmetic: same as one float32 GroupNorm, rounded. */
    @Test
    void halfGroupNormEqualsFloatGroupNorm() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(11);
            Tensor weight = torch.randn(16).mul(new Scalar(0.1)).add(new Scalar(1));
            Tensor bias = torch.randn(16).mul(new Scalar(0.1));
            GroupNorm norm = new GroupNorm(weight, bias, 4, 16);
            Tensor x = torch.randn(new long[]{1, 16, 3, 5, 6}).mul(new Scalar(3)).to(ScalarType.Half);
            Tensor out = torch.empty_like(x);
            norm.forwardInto(x, true, out);
            Tensor expected = torch.silu(torch.group_norm(x.to(ScalarType.Float), 4, new TensorOptional(weight),
                    new TensorOptional(bias), GroupNorm.EPS, false)).to(ScalarType.Half);
            assertEquals(ScalarType.Half, out.scalar_type().intern());
            assertEquals(0.0, Tensors.relativeError(out, expected), 1e-3);
        }
    }
}
