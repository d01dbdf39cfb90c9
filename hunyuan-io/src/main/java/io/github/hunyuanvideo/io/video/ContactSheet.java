package io.github.hunyuanvideo.io.video;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A PNG overview of a video: evenly spaced frames (always the first and the last), shrunk to thumbnails by area
 * averaging, laid out row by row as {@code make_grid} with 2 pixels of black padding.
 */
public final class ContactSheet {
    /** Frames shown by default. */
    public static final int DEFAULT_FRAMES = 16;
    /** Thumbnails per row by default. */
    public static final int DEFAULT_COLUMNS = 4;
    /** Largest thumbnail width by default; narrower frames keep their size. */
    public static final int DEFAULT_TILE_WIDTH = 320;

    private ContactSheet() {
    }

    /** Writes the default sheet ({@value #DEFAULT_FRAMES} frames, {@value #DEFAULT_COLUMNS} per row) to {@code target}. */
    public static Path write(VideoFrames video, Path target) throws IOException {
        return PngWriter.write(render(video, DEFAULT_FRAMES, DEFAULT_COLUMNS, DEFAULT_TILE_WIDTH), target);
    }

    /**
     * Writes the default sheet under {@code target} or, when a file of that name exists, the first free
     * {@link OutputNames#numbered numbered} name, never replacing a file (also against other processes at the same
     * time); returns the path written.
     */
    public static Path writeNew(VideoFrames video, Path target) throws IOException {
        return PngWriter.writeNew(render(video, DEFAULT_FRAMES, DEFAULT_COLUMNS, DEFAULT_TILE_WIDTH), target);
    }

    /**
     * Renders a sheet of at most {@code maxFrames} frames, {@code columns} per row, each at most {@code maxTileWidth}
     * pixels wide (aspect ratio kept).
     *
     * @throws IllegalArgumentException if an argument is below 1
     */
    public static BufferedImage render(VideoFrames video, int maxFrames, int columns, int maxTileWidth) {
        if (maxFrames < 1) {
            throw new IllegalArgumentException("maxFrames must be >= 1, got " + maxFrames);
        }
        if (columns < 1) {
            throw new IllegalArgumentException("columns must be >= 1, got " + columns);
        }
        if (maxTileWidth < 1) {
            throw new IllegalArgumentException("maxTileWidth must be >= 1, got " + maxTileWidth);
        }
        int[] picks = frameIndices(video.frameCount(), maxFrames);
        int tileW = Math.min(video.width(), maxTileWidth);
        int tileH = Math.max(1, (int) Math.round((double) video.height() * tileW / video.width()));
        List<byte[]> tiles = new ArrayList<>(picks.length);
        for (int t : picks) {
            tiles.add(shrink(video.frameRgb(t), video.height(), video.width(), tileH, tileW));
        }
        Grid g = Grid.of(tiles, tileH, tileW, columns, VideoGrid.DEFAULT_PADDING);
        BufferedImage img = new BufferedImage(g.width(), g.height(), BufferedImage.TYPE_3BYTE_BGR);
        byte[] dst = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        byte[] src = g.rgb();
        for (int p = 0; p < src.length; p += 3) {
            dst[p] = src[p + 2];
            dst[p + 1] = src[p + 1];
            dst[p + 2] = src[p];
        }
        return img;
    }

    /** {@code min(count, max)} frame indices spread evenly from the first to the last frame. */
    static int[] frameIndices(int count, int max) {
        int n = Math.min(count, max);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = n == 1 ? 0 : (int) Math.round((double) i * (count - 1) / (n - 1));
        }
        return out;
    }

    /** Area-average downscale of packed RGB (each output pixel = mean of the input pixels its box covers). */
    static byte[] shrink(byte[] rgb, int h, int w, int outH, int outW) {
        if (outH == h && outW == w) {
            return rgb;
        }
        byte[] out = new byte[outH * outW * 3];
        for (int oy = 0; oy < outH; oy++) {
            int y0 = (int) ((long) oy * h / outH);
            int y1 = Math.max(y0 + 1, (int) ((long) (oy + 1) * h / outH));
            for (int ox = 0; ox < outW; ox++) {
                int x0 = (int) ((long) ox * w / outW);
                int x1 = Math.max(x0 + 1, (int) ((long) (ox + 1) * w / outW));
                int n = (y1 - y0) * (x1 - x0);
                for (int c = 0; c < 3; c++) {
                    long sum = 0;
                    for (int y = y0; y < y1; y++) {
                        for (int x = x0; x < x1; x++) {
                            sum += rgb[(y * w + x) * 3 + c] & 0xff;
                        }
                    }
                    out[(oy * outW + ox) * 3 + c] = (byte) ((sum + n / 2) / n);
                }
            }
        }
        return out;
    }
}
