package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import java.util.function.UnaryOperator;
import io.github.hunyuanvideo.nn.Scopes;

/**
 * The official tiled encode/decode loops, streamed: each tile is computed, blended with the already blended edges of
 * its upper and left (or previous) neighbours, and its kept part written out at once. Only those edges outlive a tile,
 * never the tile's activations or the other tiles (the official code keeps every decoded tile until the end).
 */
final class Tiler {
    private static final int T = 2;
    private static final int H = 3;
    private static final int W = 4;

    private Tiler() {
    }

    /**
     * {@code spatial_tiled_encode/decode}: runs {@code fn} on each [B, C, T, h, w] tile of {@code x} and returns the
     * blended, cropped and assembled result.
     */
    static Tensor spatial(Tensor x, TileAxis rows, TileAxis cols, int blend, UnaryOperator<Tensor> fn) {
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
                            blend(above[c], tile, H, blend);
                        }
                        if (c > 0) {
                            blend(left, tile, W, blend);
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
                            below[c] = Scopes.retained(tail(tile, H, blend));
                        }
                        Scopes.release(left);
                        left = c + 1 < cols.count() ? Scopes.retained(tail(tile, W, blend)) : null;
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
    static void temporal(Tensor x, TileAxis frames, int blend, UnaryOperator<Tensor> fn, FrameSink sink) {
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
                        blend(previous, tile, T, blend);
                    }
                    if (frames.keep[i] > 0) {
                        sink.accept(tile.narrow(T, 0, frames.keep[i]), frames.offset[i]);
                    }
                    if (i + 1 < frames.count()) {
                        next = Scopes.retained(tail(tile, T, blend));
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
