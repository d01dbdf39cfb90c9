package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Cancellation;
import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.parallel.Communicator;
import io.github.hunyuanvideo.nn.parallel.TensorBroadcast;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.LongUnaryOperator;
import java.util.function.UnaryOperator;

/**
 * The official tiled encode and decode of {@code AutoencoderKLCausal3D} for one {@link TilingConfig}: which path
 * {@code _encode}/{@code _decode} take, the tile plans ({@link TileAxis}: tile sizes, strides, blend extents, kept
 * lengths) and the loops, streamed: each tile is computed, blended with the already blended edges of its upper and
 * left (or previous) neighbours, and its kept part written out at once. Only those edges outlive a tile, never the
 * tile's activations or the other tiles (the official code keeps every decoded tile until the end).
 *
 * <p>The network itself comes in as a function of one tile ({@code decoder(post_quant_conv(z))} or
 * {@code quant_conv(encoder(x))}); results belong to the caller's innermost {@link PointerScope}.
 */
final class Tiler {
    private static final int T = 2;
    private static final int H = 3;
    private static final int W = 4;

    private final TilingConfig tiling;
    private final VaeConfig config;

    Tiler(TilingConfig tiling, VaeConfig config) {
        this.tiling = tiling;
        this.config = config;
    }

    TilingConfig tiling() {
        return tiling;
    }

    // ---- decoding -------------------------------------------------------------------------------------------------

    /**
     * {@code _decode}: latents {@code z} to video, {@code decodeTile} run on each tile, assembled in one tensor;
     * {@code cancelled} is asked before the first tile and after each one ({@link Cancellation#check}).
     */
    Tensor decode(Tensor z, UnaryOperator<Tensor> decodeTile, BooleanSupplier cancelled) {
        UnaryOperator<Tensor> checked = checkingAfterEachTile(z, decodeTile, cancelled);
        if (!decodesInTime(z.size(T))) {
            return decodeSpatially(z, checked);
        }
        boolean tiled = decodesInSpace(z.size(H), z.size(W));
        long h = tiled ? decodeSpace(z.size(H)).total : config.decodedSize(z.size(H));
        long w = tiled ? decodeSpace(z.size(W)).total : config.decodedSize(z.size(W));
        return assembleFrames(z, decodeFrames(z.size(T)), config.outChannels(), h, w,
                tile -> decodeSpatially(tile, checked));
    }

    /** How many tiles decoding {@code z} runs the decoder on (1 when it fits one tile or tiling is off). */
    int decodeTileCount(Tensor z) {
        return decodeTileCount(z.size(T), z.size(H), z.size(W));
    }

    /** How many tiles decoding latents [T, h, w] runs the decoder on. */
    int decodeTileCount(long frames, long h, long w) {
        long times = decodesInTime(frames) ? decodeFrames(frames).count() : 1;
        long space = decodesInSpace(h, w) ? (long) decodeSpace(h).count() * decodeSpace(w).count() : 1;
        return Math.toIntExact(times * space);
    }

    /**
     * How many output voxels (frames × pixels) the decoder computes over all tiles of latents [T, h, w], overlaps
     * included: the work of the decode, which the convolutions at full resolution dominate.
     */
    long decodedVoxels(long frames, long h, long w) {
        long t = decodesInTime(frames) ? sum(decodeFrames(frames).length, config::decodedFrames)
                : config.decodedFrames(frames);
        boolean space = decodesInSpace(h, w);
        long rows = space ? sum(decodeSpace(h).length, config::decodedSize) : config.decodedSize(h);
        long cols = space ? sum(decodeSpace(w).length, config::decodedSize) : config.decodedSize(w);
        return t * rows * cols;
    }

    private static long sum(long[] lengths, LongUnaryOperator decoded) {
        return Arrays.stream(lengths).map(decoded).sum();
    }

    /**
     * {@code decodeTile} asking {@code cancelled} after each tile, once it has been asked before the first. A tile
     * output the check throws away belongs to the loop's scope, which frees it while the exception unwinds.
     */
    private UnaryOperator<Tensor> checkingAfterEachTile(Tensor z, UnaryOperator<Tensor> decodeTile,
                                                        BooleanSupplier cancelled) {
        int total = decodeTileCount(z);
        Cancellation.check(cancelled, "tiles", 0, total);
        int[] done = {0};
        return tile -> {
            Tensor out = decodeTile.apply(tile);
            Cancellation.check(cancelled, "tiles", ++done[0], total);
            return out;
        };
    }

    /**
     * As {@link #decode(Tensor, UnaryOperator, BooleanSupplier)}, handing the frames to {@code sink}: one chunk per
     * temporal tile with temporal tiling, else the whole video.
     */
    void decode(Tensor z, UnaryOperator<Tensor> decodeTile, BooleanSupplier cancelled, FrameSink sink) {
        UnaryOperator<Tensor> checked = checkingAfterEachTile(z, decodeTile, cancelled);
        if (decodesInTime(z.size(T))) {
            temporal(z, decodeFrames(z.size(T)), tile -> decodeSpatially(tile, checked), sink);
        } else {
            sink.accept(decodeSpatially(z, checked), 0);
        }
    }

    /**
     * As {@link #decode(Tensor, UnaryOperator, BooleanSupplier, FrameSink)} shared by the ranks of {@code group}, each
     * with the same {@code z}: tile k (in the one-rank order) is decoded by rank {@code k mod N}, N tiles at a time, and
     * broadcast from it; rank 0 blends the tiles exactly as one rank does and hands the frames to its {@code sink},
     * the other ranks hand nothing to theirs. {@code cancelled} is asked on rank 0 only.
     */
    void decode(Tensor z, UnaryOperator<Tensor> decodeTile, BooleanSupplier cancelled, FrameSink sink,
                Communicator group) {
        if (group.worldSize() == 1) {
            decode(z, decodeTile, cancelled, sink);
            return;
        }
        SharedTiles tiles = new SharedTiles(decodeTiles(z), decodeTile, group, z.device());
        try {
            if (group.rank() == 0) {
                decode(z, tiles::take, cancelled, sink);
            } else {
                tiles.decodeAll();
            }
        } finally {
            tiles.release();
        }
    }

    /** The inputs of every tile {@code decode} runs the decoder on, in its order (views of {@code z}). */
    List<Tensor> decodeTiles(Tensor z) {
        List<Tensor> tiles = new ArrayList<>();
        if (!decodesInTime(z.size(T))) {
            spatialTiles(z, tiles);
            return tiles;
        }
        TileAxis frames = decodeFrames(z.size(T));
        for (int i = 0; i < frames.count(); i++) {
            spatialTiles(z.narrow(T, frames.start[i], frames.length[i]), tiles);
        }
        return tiles;
    }

    /** {@link #decodeSpatially}'s tile inputs, row by row. */
    private void spatialTiles(Tensor z, List<Tensor> tiles) {
        if (!decodesInSpace(z.size(H), z.size(W))) {
            tiles.add(z);
            return;
        }
        TileAxis rows = decodeSpace(z.size(H));
        TileAxis cols = decodeSpace(z.size(W));
        for (int r = 0; r < rows.count(); r++) {
            for (int c = 0; c < cols.count(); c++) {
                tiles.add(z.narrow(H, rows.start[r], rows.length[r]).narrow(W, cols.start[c], cols.length[c]));
            }
        }
    }

    /**
     * The decoded tiles of a decode shared by several ranks, made a round of N at a time (tile {@code base + r} by rank
     * r) and broadcast from their rank, shape first; rank 0 keeps each round's tiles until the blend loop takes them.
     */
    private static final class SharedTiles {
        private final List<Tensor> inputs;
        private final UnaryOperator<Tensor> decodeTile;
        private final Communicator group;
        private final Device device;
        private final Deque<Tensor> ready = new ArrayDeque<>();
        private int decoded;
        private int taken;

        SharedTiles(List<Tensor> inputs, UnaryOperator<Tensor> decodeTile, Communicator group, Device device) {
            this.inputs = inputs;
            this.decodeTile = decodeTile;
            this.group = group;
            this.device = device;
        }

        /** Rank 0: the next tile in the one-rank order, for {@code input}; handed to the caller's scope. */
        Tensor take(Tensor input) {
            if (taken >= inputs.size() || !Arrays.equals(Tensors.shape(input), Tensors.shape(inputs.get(taken)))) {
                throw new IllegalStateException("tile " + taken + ": the decode asked for a tile of "
                        + Arrays.toString(Tensors.shape(input)) + " outside the shared tile plan");
            }
            if (ready.isEmpty()) {
                round();
            }
            taken++;
            return Scopes.handOut(ready.poll());
        }

        /** The other ranks: every round, keeping nothing. */
        void decodeAll() {
            while (decoded < inputs.size()) {
                round();
            }
        }

        /** Decodes this rank's tile of the next round and broadcasts the round's tiles from their ranks. */
        private void round() {
            int base = decoded;
            int mine = base + group.rank();
            try (PointerScope scope = new PointerScope()) {
                Tensor own = mine < inputs.size() ? decodeTile.apply(inputs.get(mine)) : null;
                for (int r = 0; r < group.worldSize() && base + r < inputs.size(); r++) {
                    // edge tiles are smaller: the receivers learn each tile's shape first
                    Tensor tile = TensorBroadcast.fromRank(group, r, own, 5, device);
                    if (group.rank() == 0) {
                        ready.add(Scopes.retained(tile));
                    }
                }
            }
            decoded = Math.min(inputs.size(), base + group.worldSize());
        }

        /** Frees the tiles no one took (a decode that failed or was cancelled). */
        void release() {
            ready.forEach(Scopes::release);
            ready.clear();
        }
    }

    /** {@code _decode}'s first branch: temporal tiling when the clip is longer than one latent tile. */
    boolean decodesInTime(long latentFrames) {
        return tiling.temporal() && latentFrames > tiling.latentTileFrames(config);
    }

    /** {@code _decode}'s spatial branch: spatial tiling when the input is larger than one latent tile in H or W. */
    boolean decodesInSpace(long h, long w) {
        int tile = tiling.latentTileSize(config);
        return tiling.spatial() && (w > tile || h > tile);
    }

    /** {@code spatial_tiled_decode} when the input exceeds one latent tile, else the plain decoder. */
    private Tensor decodeSpatially(Tensor z, UnaryOperator<Tensor> decodeTile) {
        if (!decodesInSpace(z.size(H), z.size(W))) {
            return decodeTile.apply(z);
        }
        return spatial(z, decodeSpace(z.size(H)), decodeSpace(z.size(W)), decodeTile);
    }

    /** {@code spatial_tiled_decode}'s tiles along H or W of {@code size} latent pixels. */
    TileAxis decodeSpace(long size) {
        int tile = tiling.latentTileSize(config);
        int blend = (int) (tiling.spatialTileSize() * tiling.overlapFactor());
        int stride = (int) (tile * (1 - tiling.overlapFactor()));
        return TileAxis.spatial(size, tile, stride, tiling.spatialTileSize() - blend, blend, config::decodedSize);
    }

    /** {@code temporal_tiled_decode}'s tiles of {@code frames} latent frames. */
    TileAxis decodeFrames(long frames) {
        int tile = tiling.latentTileFrames(config);
        int blend = (int) (tiling.temporalTileFrames() * tiling.overlapFactor());
        int stride = (int) (tile * (1 - tiling.overlapFactor()));
        return TileAxis.temporal(frames, tile, stride, tiling.temporalTileFrames() - blend, blend,
                config::decodedFrames);
    }

    // ---- encoding -------------------------------------------------------------------------------------------------

    /** {@code _encode}: video {@code x} to its moments, {@code encodeTile} run on each tile. */
    Tensor encode(Tensor x, UnaryOperator<Tensor> encodeTile) {
        if (!(tiling.temporal() && x.size(T) > tiling.temporalTileFrames())) {
            return encodeSpatially(x, encodeTile);
        }
        boolean tiled = encodesInSpace(x.size(H), x.size(W));
        long h = tiled ? encodeSpace(x.size(H)).total : config.latentSize(x.size(H));
        long w = tiled ? encodeSpace(x.size(W)).total : config.latentSize(x.size(W));
        return assembleFrames(x, encodeFrames(x.size(T)), 2L * config.latentChannels(), h, w,
                tile -> encodeSpatially(tile, encodeTile));
    }

    private boolean encodesInSpace(long h, long w) {
        int tile = tiling.spatialTileSize();
        return tiling.spatial() && (w > tile || h > tile);
    }

    /** {@code spatial_tiled_encode} when the input exceeds one tile, else the plain encoder. */
    private Tensor encodeSpatially(Tensor x, UnaryOperator<Tensor> encodeTile) {
        if (!encodesInSpace(x.size(H), x.size(W))) {
            return encodeTile.apply(x);
        }
        return spatial(x, encodeSpace(x.size(H)), encodeSpace(x.size(W)), encodeTile);
    }

    /** {@code spatial_tiled_encode}'s tiles along H or W of {@code size} pixels. */
    TileAxis encodeSpace(long size) {
        int tile = tiling.spatialTileSize();
        int latentTile = tiling.latentTileSize(config);
        int blend = (int) (latentTile * tiling.overlapFactor());
        int stride = (int) (tile * (1 - tiling.overlapFactor()));
        return TileAxis.spatial(size, tile, stride, latentTile - blend, blend, config::latentSize);
    }

    /** {@code temporal_tiled_encode}'s tiles of {@code frames} video frames. */
    TileAxis encodeFrames(long frames) {
        int tile = tiling.temporalTileFrames();
        int latentTile = tiling.latentTileFrames(config);
        int blend = (int) (latentTile * tiling.overlapFactor());
        int stride = (int) (tile * (1 - tiling.overlapFactor()));
        return TileAxis.temporal(frames, tile, stride, latentTile - blend, blend, config::latentFrames);
    }

    // ---- loops ----------------------------------------------------------------------------------------------------

    /** The temporal loop into one [B, channels, frames, h, w] tensor in the input's dtype and on its device. */
    private static Tensor assembleFrames(Tensor x, TileAxis frames, long channels, long h, long w,
                                         UnaryOperator<Tensor> fn) {
        long[] shape = {x.size(0), channels, frames.total, h, w};
        Tensor out = torch.empty(shape, x.options(), new MemoryFormatOptional());
        temporal(x, frames, fn, (chunk, first) -> out.narrow(T, first, chunk.size(T)).copy_(chunk));
        return out;
    }

    /**
     * {@code spatial_tiled_encode/decode}: runs {@code fn} on each [B, C, T, h, w] tile of {@code x} and returns the
     * blended, cropped and assembled result.
     */
    private static Tensor spatial(Tensor x, TileAxis rows, TileAxis cols, UnaryOperator<Tensor> fn) {
        Tensor out = null;
        Tensor[] above = new Tensor[cols.count()];
        Tensor[] below = new Tensor[cols.count()];
        Tensor left = null;
        try {
            for (int r = 0; r < rows.count(); r++) {
                for (int c = 0; c < cols.count(); c++) {
                    try (PointerScope ignored = new PointerScope()) {
                        Tensor tile = fn.apply(x.narrow(H, rows.start[r], rows.length[r])
                                .narrow(W, cols.start[c], cols.length[c]));
                        checkLength(tile, H, rows.outLength[r]);
                        checkLength(tile, W, cols.outLength[c]);
                        if (r > 0) {
                            blend(above[c], tile, H, rows.blend);
                        }
                        if (c > 0) {
                            blend(left, tile, W, cols.blend);
                        }
                        if (out == null) {
                            long[] shape = Tensors.shape(tile);
                            shape[H] = rows.total;
                            shape[W] = cols.total;
                            out = Scopes.retained(torch.empty(shape, tile.options(), new MemoryFormatOptional()));
                        }
                        out.narrow(H, rows.offset[r], rows.keep[r]).narrow(W, cols.offset[c], cols.keep[c])
                                .copy_(tile.narrow(H, 0, rows.keep[r]).narrow(W, 0, cols.keep[c]));
                        if (r + 1 < rows.count()) {
                            below[c] = Scopes.retained(tail(tile, H, rows.blend));
                        }
                        Scopes.release(left);
                        left = c + 1 < cols.count() ? Scopes.retained(tail(tile, W, cols.blend)) : null;
                    }
                }
                releaseAll(above);
                Tensor[] swap = above;
                above = below;
                below = swap;
            }
        } catch (RuntimeException e) {
            Scopes.release(out);
            throw e;
        } finally {
            Scopes.release(left);
            releaseAll(above);
            releaseAll(below);
        }
        return Scopes.handOut(out);
    }

    /**
     * {@code temporal_tiled_encode/decode}: runs {@code fn} on each [B, C, t, H, W] tile of {@code x}, drops the first
     * output frame of later tiles, blends each with the previous one and hands the kept frames to {@code sink}.
     */
    private static void temporal(Tensor x, TileAxis frames, UnaryOperator<Tensor> fn, FrameSink sink) {
        Tensor previous = null;
        try {
            for (int i = 0; i < frames.count(); i++) {
                Tensor next = null;
                try (PointerScope ignored = new PointerScope()) {
                    Tensor tile = fn.apply(x.narrow(T, frames.start[i], frames.length[i]));
                    if (i > 0) {
                        tile = tile.narrow(T, 1, tile.size(T) - 1);
                    }
                    checkLength(tile, T, frames.outLength[i]);
                    if (i > 0) {
                        blend(previous, tile, T, frames.blend);
                    }
                    if (frames.keep[i] > 0) {
                        sink.accept(tile.narrow(T, 0, frames.keep[i]), frames.offset[i]);
                    }
                    if (i + 1 < frames.count()) {
                        next = Scopes.retained(tail(tile, T, frames.blend));
                    }
                }
                Scopes.release(previous);
                previous = next;
            }
        } finally {
            Scopes.release(previous);
        }
    }

    /**
     * {@code blend_v/blend_h/blend_t} in place: with {@code e = min(extent, |edge|, |b|)} along {@code dim},
     * {@code b[x] = edge[|edge| − e + x]·(1 − x/e) + b[x]·(x/e)} for x &lt; e. {@code edge} holds the trailing slices
     * of the previous tile as it was after its own blends.
     */
    static void blend(Tensor edge, Tensor b, int dim, int extent) {
        long e = Math.min(extent, Math.min(edge.size(dim), b.size(dim)));
        if (e == 0) {
            return;
        }
        float[] keepPrevious = new float[(int) e];
        float[] keepCurrent = new float[(int) e];
        for (int i = 0; i < e; i++) {
            // the official arithmetic: Python doubles, applied as float32 scalars
            keepPrevious[i] = (float) (1 - (double) i / e);
            keepCurrent[i] = (float) ((double) i / e);
        }
        long[] wShape = new long[(int) b.dim()];
        Arrays.fill(wShape, 1);
        wShape[dim] = e;
        Tensor wa = Tensors.fromFloats(keepPrevious, wShape).to(b.device(), ScalarType.Float);
        Tensor wb = Tensors.fromFloats(keepCurrent, wShape).to(b.device(), ScalarType.Float);
        Tensor head = b.narrow(dim, 0, e);
        Tensor a = edge.narrow(dim, edge.size(dim) - e, e);
        head.copy_(a.mul(wa).add(head.mul(wb)));
    }

    /** An independent copy of the last {@code min(extent, size)} slices of {@code t} along {@code dim}. */
    private static Tensor tail(Tensor t, int dim, int extent) {
        long n = Math.min(extent, t.size(dim));
        return t.narrow(dim, t.size(dim) - n, n).clone();
    }

    private static void checkLength(Tensor tile, int dim, long expected) {
        if (tile.size(dim) != expected) {
            throw new IllegalStateException("tile has " + tile.size(dim) + " entries along dim " + dim + ", the "
                    + "tiling plan expected " + expected);
        }
    }

    private static void releaseAll(Tensor[] ts) {
        for (int i = 0; i < ts.length; i++) {
            Scopes.release(ts[i]);
            ts[i] = null;
        }
    }
}
