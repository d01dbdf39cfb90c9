package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.CudaMemory;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Tiled encode/decode settings, with the semantics of {@code AutoencoderKLCausal3D.enable_tiling()} and its
 * {@code tile_*} attributes; {@code Tiler} turns them into tile plans. Sizes are in video units; the latent tile
 * sizes follow from the {@link VaeConfig} exactly as {@code AutoencoderKLCausal3D.__init__} derives them.
 *
 * @param spatialTileSize    tile edge in pixels ({@code tile_sample_min_size}, 256)
 * @param temporalTileFrames tile length in frames ({@code tile_sample_min_tsize}, 64)
 * @param overlapFactor      fraction of a tile blended with its neighbour ({@code tile_overlap_factor}, 0.25)
 * @param spatial            whether spatial tiling is on
 * @param temporal           whether temporal tiling is on
 */
public record TilingConfig(int spatialTileSize, int temporalTileFrames, double overlapFactor, boolean spatial,
                           boolean temporal) {
    /**
     * Latent tile sizes (spatial and temporal) below the official one step by this: with overlap 0.25 a tile of a
     * multiple of 4 latent units strides 3/4 of itself and keeps exactly the output its stride covers, so the blends
     * line up with the neighbour's pixels; other sizes would blend mismatched pixels and drop or repeat some.
     */
    private static final int LATENT_STEP = 4;
    /**
     * Smallest spatial latent tile {@link #fitting} uses (64 px for the official VAE): below it every pixel of a tile
     * lies within a few latent pixels of a replicate-padded edge, and at 64 px the decoder's own memory is already
     * smaller than the output video and the tile assembly at 544p, so smaller tiles would save little.
     */
    private static final int MIN_LATENT_TILE = 8;
    /** Smallest temporal latent tile (16 frames, decoded from 4 + 1 latent frames): the smallest aligned one. */
    private static final int MIN_LATENT_FRAMES = LATENT_STEP;

    /** Checks that every tile size is positive and that consecutive tiles advance. */
    public TilingConfig {
        if (spatialTileSize <= 0 || temporalTileFrames <= 0) {
            throw new IllegalArgumentException("tile sizes must be positive, got " + spatialTileSize + " px, "
                    + temporalTileFrames + " frames");
        }
        if (!(overlapFactor >= 0 && overlapFactor < 1)) {
            throw new IllegalArgumentException("overlapFactor must be in [0, 1), got " + overlapFactor);
        }
    }

    /** The official setting: both tilings on, 256-pixel and 64-frame tiles, overlap 0.25. */
    public static TilingConfig official() {
        return new TilingConfig(256, 64, 0.25, true, true);
    }

    /** Tiling on, with the tile sizes {@code config}'s {@code sample_size}/{@code sample_tsize} give (the default). */
    public static TilingConfig of(VaeConfig config) {
        return new TilingConfig(config.sampleSize(), config.sampleTsize(), 0.25, true, true);
    }

    /**
     * The tiling for decoding latents of {@code latentShape} within {@code budgetBytes} of device memory beyond the
     * weights, by {@link VaeMemory#decodeBytes}: the official one ({@link #of}) when it fits, otherwise, among the
     * smaller tilings that fit, the one with the fewest tiles, then the fewest decoded voxels (overlaps included),
     * then the larger tiles. Fewest tiles first because that is what separates the candidates: between the official
     * tiles and the smallest ones the tile count grows 20-fold at 544p and 720p, the decoded voxels by only 15 %, and
     * every tile adds fixed costs (kernel launches, small-tile convolutions, blends). Spatial tiles shrink in steps of
     * 4 latent pixels (32 px) down to 64 px, temporal tiles in steps of 4 latent frames (16 frames) down to 16;
     * overlap 0.25, both tilings on.
     *
     * @param latentShape [B, latent channels, T, h, w]
     * @param option      the setting the budget comes from, for the message (e.g. {@code "--max-gpu-memory"})
     * @throws IllegalArgumentException naming {@code option}, the video size, the smallest budget that would do and
     *                                  the budget, when not even the smallest tiles ({@link #smallest}) fit
     */
    public static TilingConfig fitting(VaeConfig config, ScalarType dtype, long[] latentShape, long budgetBytes,
                                       String option) {
        TilingConfig official = of(config);
        if (VaeMemory.decodeBytes(config, dtype, latentShape, official) <= budgetBytes) {
            return official;
        }
        Comparator<TilingConfig> faster = Comparator
                .<TilingConfig>comparingInt(t -> new Tiler(t, config).decodeTileCount(latentShape[2], latentShape[3],
                        latentShape[4]))
                .thenComparingLong(t -> new Tiler(t, config).decodedVoxels(latentShape[2], latentShape[3],
                        latentShape[4]));
        Optional<TilingConfig> best = candidates(config).stream()
                .filter(t -> VaeMemory.decodeBytes(config, dtype, latentShape, t) <= budgetBytes)
                .min(faster); // the first of equals, and candidates come largest first
        if (best.isPresent()) {
            return best.get();
        }
        TilingConfig leanest = leastMemory(config, dtype, latentShape);
        throw new IllegalArgumentException(String.format(Locale.ROOT,
                "%s: the VAE decode of %dx%dx%d needs at least %.1f GiB with the smallest tiles (%d px, %d frames); "
                        + "the budget leaves %.1f GiB", option, config.decodedSize(latentShape[3]),
                config.decodedSize(latentShape[4]), config.decodedFrames(latentShape[2]),
                Math.ceil(CudaMemory.gib(VaeMemory.decodeBytes(config, dtype, latentShape, leanest)) * 10) / 10,
                leanest.spatialTileSize(), leanest.temporalTileFrames(), CudaMemory.gib(budgetBytes)));
    }

    /**
     * The candidate of {@link #fitting} that needs the least memory for latents of {@code latentShape}: the
     * {@link #smallest} tiles, except for clips short enough that larger temporal tiles skip the temporal loop.
     */
    static TilingConfig leastMemory(VaeConfig config, ScalarType dtype, long[] latentShape) {
        return candidates(config).stream()
                .min(Comparator.comparingLong(t -> VaeMemory.decodeBytes(config, dtype, latentShape, t)))
                .orElseThrow();
    }

    /**
     * The smallest tiles {@link #fitting} uses: 8 latent pixels and 4 latent frames (64 px and 16 frames for the
     * official VAE), or the config's own where those are smaller; overlap 0.25.
     */
    public static TilingConfig smallest(VaeConfig config) {
        List<TilingConfig> all = candidates(config);
        return all.get(all.size() - 1);
    }

    /**
     * The tilings {@link #fitting} chooses from, largest first: the official one, then every combination of the
     * aligned smaller sizes (see {@link #LATENT_STEP}) down to {@link #MIN_LATENT_TILE} and {@link #MIN_LATENT_FRAMES}.
     */
    static List<TilingConfig> candidates(VaeConfig config) {
        TilingConfig official = of(config);
        int pixelsPerLatent = 1 << (config.blocks() - 1); // latentTileSize's divisor
        List<TilingConfig> out = new ArrayList<>();
        for (int size : shrinking(official.latentTileSize(config), MIN_LATENT_TILE)) {
            for (int frames : shrinking(official.latentTileFrames(config), MIN_LATENT_FRAMES)) {
                out.add(new TilingConfig(size * pixelsPerLatent, frames * config.timeCompressionRatio(),
                        official.overlapFactor(), true, true));
            }
        }
        return out;
    }

    /** {@code official}, then the multiples of {@link #LATENT_STEP} below it down to {@code minimum}. */
    private static List<Integer> shrinking(int official, int minimum) {
        List<Integer> sizes = new ArrayList<>(List.of(official));
        for (int n = (official - 1) / LATENT_STEP * LATENT_STEP; n >= minimum; n -= LATENT_STEP) {
            sizes.add(n);
        }
        return sizes;
    }

    /** Both tilings off: the whole input goes through the network at once. */
    public static TilingConfig disabled() {
        return official().withSpatial(false).withTemporal(false);
    }

    public TilingConfig withSpatial(boolean on) {
        return new TilingConfig(spatialTileSize, temporalTileFrames, overlapFactor, on, temporal);
    }

    public TilingConfig withTemporal(boolean on) {
        return new TilingConfig(spatialTileSize, temporalTileFrames, overlapFactor, spatial, on);
    }

    /** {@code tile_latent_min_size = int(sample_size / 2^(blocks − 1))}. */
    public int latentTileSize(VaeConfig config) {
        return (int) (spatialTileSize / Math.pow(2, config.blocks() - 1));
    }

    /** {@code tile_latent_min_tsize = sample_tsize // time_compression_ratio}. */
    public int latentTileFrames(VaeConfig config) {
        return temporalTileFrames / config.timeCompressionRatio();
    }
}
