package io.github.hunyuanvideo.io.video;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes video frames as PNG files (lossless, 8-bit RGB), each through a temporary file renamed when complete
 * (replacing a file of that name; {@link #writeFramesNew} never replaces one). An {@code IOException} names the final
 * file and the reason.
 */
public final class PngWriter {
    private PngWriter() {
    }

    /** Writes frame {@code t} of {@code video} to {@code target} and returns it. */
    public static Path writeFrame(VideoFrames video, int t, Path target) throws IOException {
        return write(video.frameImage(t), target);
    }

    /**
     * Writes every frame into {@code folder} (created if missing) as {@code frame_00000.png}, {@code frame_00001.png},
     * ... and returns the paths in frame order ({@link PngFrameWriter#finish}).
     */
    public static List<Path> writeFrames(VideoFrames video, Path folder) throws IOException {
        try (PngFrameWriter w = PngFrameWriter.open(folder)) {
            w.append(video);
            return w.finish();
        }
    }

    /**
     * Writes every frame as {@link #writeFrames} into a new folder, never into an existing one: {@code folder} or, when
     * that exists, the first free {@link OutputNames#numbered numbered} name ({@code frames_1}, ...); see
     * {@link PngFrameWriter#finishNew}.
     *
     * @return the frame paths in frame order; their parent is the folder used
     */
    public static List<Path> writeFramesNew(VideoFrames video, Path folder) throws IOException {
        try (PngFrameWriter w = PngFrameWriter.open(folder)) {
            w.append(video);
            return w.finishNew();
        }
    }

    /** Writes {@code image} as PNG to {@code target} (atomically, replacing a file of that name) and returns it. */
    static Path write(BufferedImage image, Path target) throws IOException {
        try (AtomicOutput out = encode(image, target)) {
            return out.commit();
        }
    }

    /** Writes {@code image} as PNG under {@code target} or a numbered name, never replacing a file; returns it. */
    static Path writeNew(BufferedImage image, Path target) throws IOException {
        try (AtomicOutput out = encode(image, target)) {
            return out.commitNew(List.of());
        }
    }

    private static AtomicOutput encode(BufferedImage image, Path target) throws IOException {
        return encode(image, AtomicOutput.create(target));
    }

    /** Writes {@code image} as PNG into {@code out}'s temporary file; on failure deletes it. */
    static AtomicOutput encode(BufferedImage image, AtomicOutput out) throws IOException {
        try {
            if (!ImageIO.write(image, "png", out.temp().toFile())) {
                throw new IOException("no PNG writer in this Java runtime");
            }
        } catch (IOException e) {
            out.close();
            throw AtomicOutput.failure(out.target(), e);
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
        return out;
    }
}
