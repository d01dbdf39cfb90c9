package io.github.hunyuanvideo.io.video;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One video as 8-bit RGB frames, packed frame by frame, row by row, pixel by pixel ({@code [T, H, W, 3]}).
 *
 * <p>Float input in [0, 1] becomes bytes as the original's {@code save_videos_grid} does it:
 * {@code floor(clamp(x, 0, 1) * 255)} computed in float32, i.e. truncation, not rounding. NaN becomes 0. Instances
 * are immutable.
 */
public final class VideoFrames {
    /** Most pixels (frames × height × width) of one video: its RGB bytes are one Java array. */
    public static final long MAX_PIXELS = (Integer.MAX_VALUE - 8) / 3;

    private final int frameCount;
    private final int height;
    private final int width;
    private final byte[] rgb;

    private VideoFrames(int frameCount, int height, int width, byte[] rgb) {
        this.frameCount = frameCount;
        this.height = height;
        this.width = width;
        this.rgb = rgb;
    }

    /**
     * Wraps packed RGB bytes laid out {@code [T, H, W, 3]} (copied).
     *
     * @throws IllegalArgumentException if a dimension is not positive or the array length does not match
     */
    public static VideoFrames fromRgb(byte[] thwc, int frames, int height, int width) {
        checkDims(frames, height, width);
        long n = (long) frames * height * width * 3;
        if (thwc.length != n) {
            throw new IllegalArgumentException("rgb array holds " + thwc.length + " bytes, expected " + n
                    + " for [T=" + frames + ", H=" + height + ", W=" + width + ", 3]");
        }
        return new VideoFrames(frames, height, width, thwc.clone());
    }

    /**
     * Converts a float video laid out {@code [3, T, H, W]} with values in [0, 1] (the layout of the sampler's output).
     *
     * @throws IllegalArgumentException if a dimension is not positive or the array length does not match
     */
    public static VideoFrames fromUnitFloats(float[] cthw, int frames, int height, int width) {
        checkDims(frames, height, width);
        long plane = (long) frames * height * width;
        if (cthw.length != plane * 3) {
            throw new IllegalArgumentException("float array holds " + cthw.length + " values, expected " + plane * 3
                    + " for [3, T=" + frames + ", H=" + height + ", W=" + width + "]");
        }
        byte[] out = new byte[(int) (plane * 3)];
        for (int c = 0; c < 3; c++) {
            int src = (int) (c * plane);
            for (int p = 0; p < plane; p++) {
                out[p * 3 + c] = (byte) toByte(cthw[src + p]);
            }
        }
        return new VideoFrames(frames, height, width, out);
    }

    /** floor(clamp(x, 0, 1) · 255) in float32; NaN → 0. */
    static int toByte(float x) {
        if (!(x > 0f)) {
            return 0;
        }
        return (int) (Math.min(x, 1f) * 255f);
    }

    /**
     * Converts one video tensor {@code [3, T, H, W]} (or {@code [1, 3, T, H, W]}) with values in [0, 1], on any device
     * and in any floating dtype. Values are read as float32 and converted exactly as by {@link #fromUnitFloats}, one
     * frame plane at a time (no full-size temporary besides a float32 copy when the input is not already a contiguous
     * float32 CPU tensor).
     *
     * @throws IllegalArgumentException if the shape is not one of those
     */
    public static VideoFrames fromTensor(Tensor video) {
        long[] s = Tensors.shape(video);
        if (s.length == 5 && s[0] == 1) {
            return fromTensor(video.select(0, 0));
        }
        if (s.length != 4 || s[0] != 3) {
            throw new IllegalArgumentException("video tensor must be [3, T, H, W] or [1, 3, T, H, W], got "
                    + Arrays.toString(s));
        }
        checkDims(s[1], s[2], s[3]);
        int frames = (int) s[1];
        int height = (int) s[2];
        int width = (int) s[3];
        int plane = height * width;
        byte[] out = new byte[frames * plane * 3];
        try (PointerScope scope = new PointerScope()) {
            Tensor c = video.to(torch.ScalarType.Float).cpu().contiguous();
            FloatPointer data = new FloatPointer(c.data_ptr()).capacity(3L * frames * plane);
            float[] buf = new float[plane];
            for (int ch = 0; ch < 3; ch++) {
                for (int t = 0; t < frames; t++) {
                    data.position(((long) ch * frames + t) * plane).get(buf);
                    int base = t * plane * 3 + ch;
                    for (int p = 0; p < plane; p++) {
                        out[base + p * 3] = (byte) toByte(buf[p]);
                    }
                }
            }
        }
        return new VideoFrames(frames, height, width, out);
    }

    /**
     * Splits a batch {@code [N, 3, T, H, W]} (the sampler's output) into its videos.
     *
     * @throws IllegalArgumentException if the tensor is not 5-D with 3 channels
     */
    public static List<VideoFrames> listFromTensor(Tensor videos) {
        long[] s = Tensors.shape(videos);
        if (s.length != 5 || s[1] != 3) {
            throw new IllegalArgumentException("video batch must be [N, 3, T, H, W], got " + Arrays.toString(s));
        }
        List<VideoFrames> out = new ArrayList<>();
        for (long i = 0; i < s[0]; i++) {
            out.add(fromTensor(videos.select(0, i)));
        }
        return out;
    }

    /**
     * Splits a float batch laid out {@code [N, 3, T, H, W]} with values in [0, 1] into its videos.
     *
     * @throws IllegalArgumentException if the array length does not match
     */
    public static List<VideoFrames> listFromUnitFloats(float[] ncthw, int n, int frames, int height, int width) {
        checkDims(frames, height, width);
        if (n <= 0) {
            throw new IllegalArgumentException("video count must be positive, got " + n);
        }
        long per = 3L * frames * height * width;
        if (ncthw.length != per * n) {
            throw new IllegalArgumentException("float array holds " + ncthw.length + " values, expected " + per * n
                    + " for [N=" + n + ", 3, T=" + frames + ", H=" + height + ", W=" + width + "]");
        }
        List<VideoFrames> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(fromUnitFloats(Arrays.copyOfRange(ncthw, (int) (i * per), (int) ((i + 1) * per)), frames, height,
                    width));
        }
        return out;
    }

    private static void checkDims(long frames, long height, long width) {
        if (frames <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("video dimensions must be positive, got T=" + frames + ", H=" + height
                    + ", W=" + width);
        }
        if (frames * height * width > MAX_PIXELS) {
            throw new IllegalArgumentException("video of T=" + frames + ", H=" + height + ", W=" + width
                    + " exceeds 2 GiB of RGB bytes; write it in parts");
        }
    }

    /** Number of frames T. */
    public int frameCount() {
        return frameCount;
    }

    /** Frame height in pixels. */
    public int height() {
        return height;
    }

    /** Frame width in pixels. */
    public int width() {
        return width;
    }

    /** A copy of all frames, {@code [T, H, W, 3]}. */
    public byte[] toRgb() {
        return rgb.clone();
    }

    /** A copy of frame {@code t}, {@code [H, W, 3]}. */
    public byte[] frameRgb(int t) {
        Objects.checkIndex(t, frameCount);
        int size = height * width * 3;
        return Arrays.copyOfRange(rgb, t * size, (t + 1) * size);
    }

    /** Copies frame {@code t} into {@code dst} at {@code offset} ({@code H·W·3} bytes). */
    void copyFrame(int t, byte[] dst, int offset) {
        int size = height * width * 3;
        System.arraycopy(rgb, t * size, dst, offset, size);
    }

    /** Sample at frame {@code t}, row {@code y}, column {@code x}, channel {@code c} (0..255). */
    public int sample(int t, int y, int x, int c) {
        return rgb[((t * height + y) * width + x) * 3 + c] & 0xff;
    }

    /** Frame {@code t} as a {@link BufferedImage#TYPE_3BYTE_BGR} image. */
    public BufferedImage frameImage(int t) {
        Objects.checkIndex(t, frameCount);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        byte[] dst = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        int base = t * height * width * 3;
        for (int p = 0; p < height * width; p++) {
            dst[p * 3] = rgb[base + p * 3 + 2];
            dst[p * 3 + 1] = rgb[base + p * 3 + 1];
            dst[p * 3 + 2] = rgb[base + p * 3];
        }
        return img;
    }
}
