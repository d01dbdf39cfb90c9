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
 *
 * <p>The static methods draw the sheet of a whole video. For a video that arrives in chunks, {@link #collecting} makes
 * a sheet that keeps only the thumbnails of the frames it shows from each {@link #append}ed chunk; its
 * {@link #render()} then equals the static {@link #render(VideoFrames, int, int, int)} of the whole video. Not
 * thread-safe.
 */
public final class ContactSheet {
    /** Frames shown by default. */
    public static final int DEFAULT_FRAMES = 16;
    /** Thumbnails per row by default. */
    public static final int DEFAULT_COLUMNS = 4;
    /** Largest thumbnail width by default; narrower frames keep their size. */
    public static final int DEFAULT_TILE_WIDTH = 320;

    private final int frameCount;
    private final int height;
    private final int width;
    private final int columns;
    private final int tileH;
    private final int tileW;
    /** The frames shown, in order. */
    private final int[] picks;
    /** The thumbnail of each pick once its frame came, else null. */
    private final byte[][] tiles;

    private ContactSheet(int frameCount, int height, int width, int maxFrames, int columns, int maxTileWidth) {
        this.frameCount = frameCount;
        this.height = height;
        this.width = width;
        this.columns = columns;
        this.picks = frameIndices(frameCount, maxFrames);
        this.tileW = Math.min(width, maxTileWidth);
        this.tileH = Math.max(1, (int) Math.round((double) height * tileW / width));
        this.tiles = new byte[picks.length][];
    }

    /** Writes the default sheet ({@value #DEFAULT_FRAMES} frames, {@value #DEFAULT_COLUMNS} per row) to {@code target}. */
    public static Path write(VideoFrames video, Path target) throws IOException {
        return of(video).write(target);
    }

    /**
     * Writes the default sheet under {@code target} or, when a file of that name exists, the first free
     * {@link OutputNames#numbered numbered} name, never replacing a file (also against other processes at the same
     * time); returns the path written.
     */
    public static Path writeNew(VideoFrames video, Path target) throws IOException {
        return of(video).writeNew(target);
    }

    /** The default sheet of the whole {@code video}. */
    private static ContactSheet of(VideoFrames video) {
        ContactSheet sheet = collecting(video.frameCount(), video.height(), video.width());
        sheet.append(video, 0);
        return sheet;
    }

    /**
     * Renders a sheet of at most {@code maxFrames} frames, {@code columns} per row, each at most {@code maxTileWidth}
     * pixels wide (aspect ratio kept).
     *
     * @throws IllegalArgumentException if an argument is below 1
     */
    public static BufferedImage render(VideoFrames video, int maxFrames, int columns, int maxTileWidth) {
        ContactSheet sheet = collecting(video.frameCount(), video.height(), video.width(), maxFrames, columns,
                maxTileWidth);
        sheet.append(video, 0);
        return sheet.render();
    }

    /**
     * The default sheet ({@value #DEFAULT_FRAMES} frames, {@value #DEFAULT_COLUMNS} per row, thumbnails at most
     * {@value #DEFAULT_TILE_WIDTH} pixels wide) of a video of {@code frameCount} frames of {@code height × width}, to be
     * {@link #append}ed chunk by chunk.
     *
     * @throws IllegalArgumentException if a dimension is below 1
     */
    public static ContactSheet collecting(int frameCount, int height, int width) {
        return collecting(frameCount, height, width, DEFAULT_FRAMES, DEFAULT_COLUMNS, DEFAULT_TILE_WIDTH);
    }

    /**
     * The sheet of at most {@code maxFrames} frames, {@code columns} per row, each at most {@code maxTileWidth} pixels
     * wide, of a video of {@code frameCount} frames of {@code height × width}, to be {@link #append}ed chunk by chunk.
     *
     * @throws IllegalArgumentException if an argument is below 1
     */
    public static ContactSheet collecting(int frameCount, int height, int width, int maxFrames, int columns,
                                          int maxTileWidth) {
        if (frameCount < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("video dimensions must be positive, got T=" + frameCount + ", H="
                    + height + ", W=" + width);
        }
        if (maxFrames < 1) {
            throw new IllegalArgumentException("maxFrames must be >= 1, got " + maxFrames);
        }
        if (columns < 1) {
            throw new IllegalArgumentException("columns must be >= 1, got " + columns);
        }
        if (maxTileWidth < 1) {
            throw new IllegalArgumentException("maxTileWidth must be >= 1, got " + maxTileWidth);
        }
        return new ContactSheet(frameCount, height, width, maxFrames, columns, maxTileWidth);
    }

    /**
     * Takes the thumbnails of the frames the sheet shows among {@code chunk}, frames {@code firstFrame} onwards of
     * the video; the other frames are not kept.
     *
     * @throws IllegalArgumentException if the chunk's frame size differs from the video's or it reaches past the
     *                                  video's last frame
     */
    public void append(VideoFrames chunk, int firstFrame) {
        if (chunk.height() != height || chunk.width() != width) {
            throw new IllegalArgumentException("frames are " + chunk.width() + "x" + chunk.height() + ", the video is "
                    + width + "x" + height);
        }
        if (firstFrame < 0 || firstFrame + chunk.frameCount() > frameCount) {
            throw new IllegalArgumentException("frames " + firstFrame + ".." + (firstFrame + chunk.frameCount() - 1)
                    + " are outside the video's " + frameCount + " frames");
        }
        for (int k = 0; k < picks.length; k++) {
            int t = picks[k] - firstFrame;
            if (t >= 0 && t < chunk.frameCount()) {
                tiles[k] = shrink(chunk.frameRgb(t), height, width, tileH, tileW);
            }
        }
    }

    /**
     * The sheet.
     *
     * @throws IllegalStateException if a frame it shows was not appended
     */
    public BufferedImage render() {
        List<byte[]> shown = new ArrayList<>(picks.length);
        for (int k = 0; k < picks.length; k++) {
            if (tiles[k] == null) {
                throw new IllegalStateException("frame " + picks[k] + ", shown on the sheet, was not appended");
            }
            shown.add(tiles[k]);
        }
        Grid g = Grid.of(shown, tileH, tileW, columns, VideoGrid.DEFAULT_PADDING);
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

    /**
     * Writes the sheet to {@code target} (atomically, replacing a file of that name) and returns it.
     *
     * @throws IllegalStateException if a frame it shows was not appended
     */
    public Path write(Path target) throws IOException {
        return PngWriter.write(render(), target);
    }

    /**
     * Writes the sheet under {@code target} or a {@link OutputNames#numbered numbered} name, never replacing a file,
     * as {@link #writeNew(VideoFrames, Path)}; returns the path written.
     *
     * @throws IllegalStateException if a frame it shows was not appended
     */
    public Path writeNew(Path target) throws IOException {
        return PngWriter.writeNew(render(), target);
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
