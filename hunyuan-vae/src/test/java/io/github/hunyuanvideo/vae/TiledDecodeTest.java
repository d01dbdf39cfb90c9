package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Cancellation;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tiled decoding with tile sizes other than the official ones (those {@link TilingConfig#fitting} picks under a
 * memory budget): the plans cover every output pixel once with blends between matching pixels, and the streamed
 * {@link Tiler} equals a literal transcription of the original's keep-every-tile loops on the {@code vae_tiny} network.
 */
class TiledDecodeTest {
    private static final VaeConfig OFFICIAL = VaeConfig.official();

    private static ReferenceCase ref;
    private static CausalVideoVae vae;

    @BeforeAll
    static void load() {
        ref = ReferenceCase.load("vae_tiny");
        vae = VaeTinyReferenceTest.tinyVae(ref);
    }

    @AfterAll
    static void close() {
        vae.close();
        ref.close();
    }

    static Stream<TilingConfig> officialCandidates() {
        return TilingConfig.candidates(OFFICIAL).stream();
    }

    /**
     * Along each axis, for every size up to a few tiles: the kept parts follow one another without gap or overlap and
     * sum to the decoded size, each tile's kept output starts where its input lies in the video, and each blend mixes a
     * tile's first outputs with the previous tile's outputs of the same pixels/frames.
     */
    @ParameterizedTest
    @MethodSource("officialCandidates")
    void plansCoverEveryOutputOnceAndBlendMatchingPixels(TilingConfig tiling) {
        Tiler tiler = new Tiler(tiling, OFFICIAL);
        for (long size = 1; size <= 4L * tiling.latentTileSize(OFFICIAL); size++) {
            TileAxis axis = tiler.decodeSpace(size);
            long[] first = new long[axis.count()];
            for (int i = 0; i < axis.count(); i++) {
                first[i] = OFFICIAL.decodedSize(axis.start[i]);
            }
            checkAxis(axis, first, OFFICIAL.decodedSize(size), "space " + size + " " + tiling);
        }
        for (long frames = 1; frames <= 4L * tiling.latentTileFrames(OFFICIAL); frames++) {
            TileAxis axis = tiler.decodeFrames(frames);
            long[] first = new long[axis.count()];
            for (int i = 1; i < axis.count(); i++) {
                // a later tile drops its causal first frame, so its outputs start with the next latent frame's
                first[i] = OFFICIAL.decodedFrames(axis.start[i] + 1);
            }
            checkAxis(axis, first, OFFICIAL.decodedFrames(frames), "time " + frames + " " + tiling);
        }
    }

    /** {@code first[i]}: the video index of tile i's output 0. */
    private static void checkAxis(TileAxis axis, long[] first, long decoded, String what) {
        assertEquals(decoded, axis.total, what);
        for (int i = 0; i < axis.count(); i++) {
            if (axis.keep[i] > 0) {
                assertEquals(first[i], axis.offset[i], what + ": tile " + i + " kept output lands elsewhere");
            }
            if (i > 0 && axis.outLength[i] > 0) {
                long e = Math.min(axis.blend, Math.min(axis.outLength[i - 1], axis.outLength[i]));
                assertEquals(first[i], first[i - 1] + axis.outLength[i - 1] - e, what + ": tile " + i + " blends "
                        + "with other pixels of the previous tile");
            }
        }
    }

    /**
     * Latents whose first channels hold their own frame, row and column, decoded by a context-free stand-in (each
     * latent voxel copied to the video voxels it covers): every tiling must give exactly the untiled result, which
     * only holds if each output voxel comes from tiles that cover it and every blend's weights sum to one.
     */
    @ParameterizedTest
    @MethodSource("officialCandidates")
    void coordinateLatentsDecodeToTheirCoordinatesWithEveryTiling(TilingConfig tiling) {
        for (long[] shape : new long[][]{{1, 16, 13, 20, 28}, {2, 16, 9, 9, 37}}) {
            try (PointerScope scope = new PointerScope()) {
                Tensor z = coordinates(shape);
                Tensor expected = nearest(z);
                Tensor tiled = new Tiler(tiling, OFFICIAL).decode(z, TiledDecodeTest::nearest, Cancellation.NEVER);
                assertArrayEquals(Tensors.shape(expected), Tensors.shape(tiled), tiling.toString());
                double worst = tiled.sub(expected).abs().max().item_double();
                // blends of equal values are exact up to float32 rounding of the weights; a misplaced pixel is off by ≥ 1
                assertTrue(worst < 1e-4, tiling + " " + java.util.Arrays.toString(shape) + ": off by " + worst);
            }
        }
    }

    /** [B, C, T, h, w] with channel 0 = latent frame, 1 = latent row, 2 = latent column, the rest 0. */
    static Tensor coordinates(long[] s) {
        Tensor z = torch.zeros(s);
        for (int axis = 0; axis < 3; axis++) {
            long[] view = {1, 1, 1, 1, 1};
            view[2 + axis] = s[2 + axis];
            Tensor ramp = torch.arange(new Scalar(s[2 + axis])).to(z.scalar_type()).view(view);
            z.narrow(1, axis, 1).copy_(ramp.expand(s[0], 1, s[2], s[3], s[4]));
        }
        return z;
    }

    /**
     * The decoder's geometry without its arithmetic: latent frame 0 → one video frame, later ones → 4 each, each latent
     * pixel → 8 × 8; the first 3 channels.
     */
    static Tensor nearest(Tensor z) {
        Tensor rgb = z.narrow(1, 0, 3);
        long t = z.size(2);
        Tensor frames = t == 1 ? rgb : torch.cat(new TensorVector(rgb.narrow(2, 0, 1),
                repeat(rgb.narrow(2, 1, t - 1), 2, OFFICIAL.timeCompressionRatio())), 2);
        // contiguous: the tiler blends tiles in place, which an expanded view would refuse
        return repeat(repeat(frames, 3, OFFICIAL.spatialCompressionRatio()), 4, OFFICIAL.spatialCompressionRatio())
                .contiguous();
    }

    private static Tensor repeat(Tensor x, int dim, long times) {
        long[] shape = Tensors.shape(x.unsqueeze(dim + 1));
        shape[dim + 1] = times;
        return x.unsqueeze(dim + 1).expand(shape).flatten(dim, dim + 1);
    }

    /** The transcription reproduces the official code's tiled decode of the case (its tiling, its latents). */
    @Test
    void transcriptionReproducesTheGoldenTiledDecode() {
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            Tensor video = officialDecode(VaeTinyReferenceTest.tilingForX2(ref), ref.tensor("out.tiled_posterior_mean"));
            ref.assertClose("out.tiled_decode", video, 1e-4);
        }
    }

    /**
     * The streamed tiler equals the transcription with other tile sizes on the case's network and latents: spatial
     * tiles of the case's size with longer temporal ones (spatial tiling only), larger spatial tiles (temporal only),
     * both larger (no tiling). Each tile goes through the same network calls either way, so only the order of the
     * blends' float32 operations may differ: 1e-6.
     */
    @ParameterizedTest
    @CsvSource({"1, 2", "2, 1", "2, 2"})
    void streamedTilerEqualsTheOriginalLoops(int spatialScale, int temporalScale) {
        TilingConfig caseTiling = VaeTinyReferenceTest.tilingForX2(ref);
        TilingConfig tiling = new TilingConfig(caseTiling.spatialTileSize() * spatialScale,
                caseTiling.temporalTileFrames() * temporalScale, caseTiling.overlapFactor(), true, true);
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            Tensor z = ref.tensor("out.tiled_posterior_mean");
            vae.setTiling(tiling);
            Tensor streamed = vae.decode(z);
            assertEquals(0.0, Tensors.relativeError(streamed, officialDecode(tiling, z)), 1e-6, tiling.toString());
        } finally {
            vae.setTiling(TilingConfig.of(vae.config()));
        }
    }

    // ---- the original's loops, transcribed: every decoded tile is kept, blended in place, cropped, concatenated ----

    /** {@code _decode}. */
    private static Tensor officialDecode(TilingConfig tiling, Tensor z) {
        VaeConfig c = vae.config();
        if (tiling.temporal() && z.size(2) > tiling.latentTileFrames(c)) {
            return temporalTiledDecode(tiling, z);
        }
        return spatialOrWhole(tiling, z);
    }

    private static Tensor spatialOrWhole(TilingConfig tiling, Tensor z) {
        int tile = tiling.latentTileSize(vae.config());
        if (tiling.spatial() && (z.size(3) > tile || z.size(4) > tile)) {
            return spatialTiledDecode(tiling, z);
        }
        return vae.decodeUntiled(z, Probe.NONE);
    }

    /** {@code temporal_tiled_decode}. */
    private static Tensor temporalTiledDecode(TilingConfig tiling, Tensor z) {
        int tile = tiling.latentTileFrames(vae.config());
        int overlap = (int) (tile * (1 - tiling.overlapFactor()));
        int blend = (int) (tiling.temporalTileFrames() * tiling.overlapFactor());
        int limit = tiling.temporalTileFrames() - blend;
        List<Tensor> row = new ArrayList<>();
        for (long i = 0; i < z.size(2); i += overlap) {
            Tensor decoded = spatialOrWhole(tiling, z.narrow(2, i, Math.min(tile + 1, z.size(2) - i)));
            row.add(i > 0 ? decoded.narrow(2, 1, decoded.size(2) - 1) : decoded);
        }
        List<Tensor> result = new ArrayList<>();
        for (int i = 0; i < row.size(); i++) {
            Tensor t = row.get(i);
            if (i > 0) {
                blendLoop(row.get(i - 1), t, 2, blend);
            }
            result.add(t.narrow(2, 0, Math.min(i > 0 ? limit : limit + 1, t.size(2))));
        }
        return torch.cat(new TensorVector(result.toArray(new Tensor[0])), 2);
    }

    /** {@code spatial_tiled_decode}. */
    private static Tensor spatialTiledDecode(TilingConfig tiling, Tensor z) {
        int tile = tiling.latentTileSize(vae.config());
        int overlap = (int) (tile * (1 - tiling.overlapFactor()));
        int blend = (int) (tiling.spatialTileSize() * tiling.overlapFactor());
        int limit = tiling.spatialTileSize() - blend;
        List<List<Tensor>> rows = new ArrayList<>();
        for (long i = 0; i < z.size(3); i += overlap) {
            List<Tensor> row = new ArrayList<>();
            for (long j = 0; j < z.size(4); j += overlap) {
                row.add(vae.decodeUntiled(z.narrow(3, i, Math.min(tile, z.size(3) - i))
                        .narrow(4, j, Math.min(tile, z.size(4) - j)), Probe.NONE));
            }
            rows.add(row);
        }
        List<Tensor> resultRows = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            List<Tensor> resultRow = new ArrayList<>();
            for (int j = 0; j < rows.get(i).size(); j++) {
                Tensor t = rows.get(i).get(j);
                if (i > 0) {
                    blendLoop(rows.get(i - 1).get(j), t, 3, blend);
                }
                if (j > 0) {
                    blendLoop(rows.get(i).get(j - 1), t, 4, blend);
                }
                resultRow.add(t.narrow(3, 0, Math.min(limit, t.size(3))).narrow(4, 0, Math.min(limit, t.size(4))));
            }
            resultRows.add(torch.cat(new TensorVector(resultRow.toArray(new Tensor[0])), 4));
        }
        return torch.cat(new TensorVector(resultRows.toArray(new Tensor[0])), 3);
    }

    /** {@code blend_t/v/h}: slice by slice, {@code b[x] = a[−e + x]·(1 − x/e) + b[x]·(x/e)}, Python's doubles. */
    private static void blendLoop(Tensor a, Tensor b, int dim, int extent) {
        long e = Math.min(extent, Math.min(a.size(dim), b.size(dim)));
        IntStream.range(0, (int) e).forEach(x -> b.narrow(dim, x, 1).copy_(
                a.narrow(dim, a.size(dim) - e + x, 1).mul(new Scalar(1 - (double) x / e))
                        .add(b.narrow(dim, x, 1).mul(new Scalar((double) x / e)))));
    }
}
