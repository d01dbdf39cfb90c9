package io.github.hunyuanvideo.io.video;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
     * ... and returns the paths in frame order.
     */
    public static List<Path> writeFrames(VideoFrames video, Path folder) throws IOException {
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw AtomicOutput.failure(folder, e);
        }
        List<Path> out = new ArrayList<>(video.frameCount());
        writeFramesInto(video, folder, out);
        return out;
    }

    /**
     * Writes every frame as {@link #writeFrames} into a new folder, never into an existing one: {@code folder} or, when
     * that exists, the first free {@link OutputNames#numbered numbered} name ({@code frames_1}, ...). The folder is
     * created atomically, so other processes choosing names at the same time never get the same one. If a frame
     * fails, the frames written and the new folder are deleted again.
     *
     * @return the frame paths in frame order; their parent is the folder used
     */
    public static List<Path> writeFramesNew(VideoFrames video, Path folder) throws IOException {
        String name = folder.getFileName().toString();
        for (int n = 0; n <= OutputNames.MAX_NUMBER; n++) {
            Path candidate = folder.resolveSibling(OutputNames.numbered(name, n));
            try {
                Files.createDirectory(candidate);
            } catch (FileAlreadyExistsException taken) {
                continue;
            } catch (IOException e) {
                throw AtomicOutput.failure(candidate, e);
            }
            List<Path> out = new ArrayList<>(video.frameCount());
            try {
                writeFramesInto(video, candidate, out);
            } catch (IOException | RuntimeException e) {
                for (Path frame : out) {
                    Files.deleteIfExists(frame);
                }
                Files.deleteIfExists(candidate);
                throw e;
            }
            return out;
        }
        throw new IOException("cannot write " + folder + ": it and its numbered names up to _" + OutputNames.MAX_NUMBER
                + " exist");
    }

    /** Writes the frames into {@code folder}, adding each path to {@code out} once written. */
    private static void writeFramesInto(VideoFrames video, Path folder, List<Path> out) throws IOException {
        int digits = Math.max(5, Integer.toString(video.frameCount() - 1).length());
        for (int t = 0; t < video.frameCount(); t++) {
            out.add(writeFrame(video, t, folder.resolve(String.format(Locale.ROOT, "frame_%0" + digits + "d.png", t))));
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
        AtomicOutput out = AtomicOutput.create(target);
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
