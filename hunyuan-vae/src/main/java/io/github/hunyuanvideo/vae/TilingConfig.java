package io.github.hunyuanvideo.vae;

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
