package io.github.hunyuanvideo.vae;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongUnaryOperator;

/**
 * Where the official tiled loops put their tiles along one axis, how much of each tile's output they keep and how much
 * they blend: tiles start every {@code stride} input units; a tile's kept output is concatenated after the previous
 * one's, so {@link #offset} is the running sum of {@link #keep}. {@link Tiler} derives these from the tiling settings.
 */
final class TileAxis {
    /** Output slices blended with the previous tile's ({@code blend_extent}). */
    final int blend;
    final long[] start;
    final long[] length;
    /** Output length of each tile (after the first-frame drop of later temporal tiles). */
    final long[] outLength;
    final long[] keep;
    final long[] offset;
    final long total;

    private TileAxis(List<long[]> tiles, int blend) {
        this.blend = blend;
        int n = tiles.size();
        start = new long[n];
        length = new long[n];
        outLength = new long[n];
        keep = new long[n];
        offset = new long[n];
        long sum = 0;
        for (int i = 0; i < n; i++) {
            long[] t = tiles.get(i);
            start[i] = t[0];
            length[i] = t[1];
            outLength[i] = t[2];
            keep[i] = t[3];
            offset[i] = sum;
            sum += keep[i];
        }
        total = sum;
    }

    /**
     * {@code spatial_tiled_*}: tiles of {@code tile} input units every {@code stride}, blended over {@code blend}
     * output units; each keeps {@code [:limit]} of its output.
     */
    static TileAxis spatial(long size, int tile, int stride, int limit, int blend, LongUnaryOperator out) {
        checkStride(tile, stride);
        List<long[]> tiles = new ArrayList<>();
        for (long i = 0; i < size; i += stride) {
            long len = Math.min(tile, size - i);
            long o = out.applyAsLong(len);
            tiles.add(new long[]{i, len, o, Math.min(limit, o)});
        }
        return new TileAxis(tiles, blend);
    }

    /**
     * {@code temporal_tiled_*}: tiles of {@code tile + 1} input frames every {@code stride}, blended over
     * {@code blend} output frames; later tiles drop their first output frame (it repeats the previous tile's causal
     * coverage); the first tile keeps {@code [:limit + 1]}, the others {@code [:limit]}.
     */
    static TileAxis temporal(long size, int tile, int stride, int limit, int blend, LongUnaryOperator out) {
        checkStride(tile, stride);
        List<long[]> tiles = new ArrayList<>();
        for (long i = 0; i < size; i += stride) {
            long len = Math.min(tile + 1L, size - i);
            boolean first = i == 0;
            long o = out.applyAsLong(len) - (first ? 0 : 1);
            tiles.add(new long[]{i, len, o, Math.min(first ? limit + 1L : limit, o)});
        }
        return new TileAxis(tiles, blend);
    }

    int count() {
        return start.length;
    }

    private static void checkStride(int tile, int stride) {
        if (stride <= 0) {
            throw new IllegalArgumentException("a tile of " + tile + " latent/pixel units with this overlap factor "
                    + "does not advance (stride " + stride + "); use larger tiles or a smaller overlap");
        }
    }
}
