package io.github.hunyuanvideo.io.video;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Writes video frames as PNG files (lossless, 8-bit RGB), each through a temporary file renamed when complete.
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
     * ... and returns the paths in frame order.
     */
    public static List<Path> writeFrames(VideoFrames video, Path folder) throws IOException {
        Files.createDirectories(folder);
        int digits = Math.max(5, Integer.toString(video.frameCount() - 1).length());
        List<Path> out = new ArrayList<>(video.frameCount());
        for (int t = 0; t < video.frameCount(); t++) {
            out.add(writeFrame(video, t, folder.resolve(String.format(Locale.ROOT, "frame_%0" + digits + "d.png", t))));
        }
        return out;
    }

    /** Writes {@code image} as PNG to {@code target} (atomically) and returns it. */
    static Path write(BufferedImage image, Path target) throws IOException {
        try (AtomicOutput out = AtomicOutput.create(target)) {
            if (!ImageIO.write(image, "png", out.temp().toFile())) {
                throw new IOException("no PNG writer in this Java runtime");
            }
            return out.commit();
        }
    }
}
