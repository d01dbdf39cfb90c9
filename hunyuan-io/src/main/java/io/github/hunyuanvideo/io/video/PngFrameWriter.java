package io.github.hunyuanvideo.io.video;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Writes a video's frames as PNG files into one folder as they come, chunk by chunk ({@link #append}), and names
 * them only once the video is complete ({@link #finish}, {@link #finishNew}): until then each frame is a hidden
 * temporary file in the folder's parent (named as {@link OutputFolder} describes), so no folder of part of the frames
 * ever carries the final name, and {@link #close()} without a finish deletes them. Frames are named
 * {@code frame_00000.png}, {@code frame_00001.png}, ... (more digits from 100 000 frames on).
 *
 * <p>Not thread-safe. Use with try-with-resources:
 * <pre>{@code
 * try (PngFrameWriter w = PngFrameWriter.open(folder)) {
 *     for (VideoFrames chunk : chunks) w.append(chunk);
 *     List<Path> frames = w.finishNew();
 * }
 * }</pre>
 */
public final class PngFrameWriter implements Closeable {
    private static final int MIN_DIGITS = 5;

    private final Path folder;
    private final Path tempDir;
    private final List<AtomicOutput> frames = new ArrayList<>();
    private int width;
    private int height;
    private boolean finished;
    private boolean closed;

    private PngFrameWriter(Path folder, Path tempDir) {
        this.folder = folder;
        this.tempDir = tempDir;
    }

    /**
     * Starts the frames of a folder {@code folder}; nothing is written before the first {@link #append}.
     *
     * @throws IOException if {@code folder} has no parent folder
     */
    public static PngFrameWriter open(Path folder) throws IOException {
        Path abs = folder.toAbsolutePath().normalize();
        if (abs.getParent() == null) {
            throw new IOException("output path has no parent folder: " + folder);
        }
        return new PngFrameWriter(abs, abs.getParent());
    }

    /**
     * Writes each frame of {@code chunk}, the next frames of the video, as a temporary PNG file.
     *
     * @throws IllegalArgumentException if the frames differ in size from those appended before
     * @throws IllegalStateException    if the writer is finished or closed
     * @throws IOException              naming the frame file, if it cannot be written
     */
    public void append(VideoFrames chunk) throws IOException {
        ensureOpen();
        if (frames.isEmpty()) {
            width = chunk.width();
            height = chunk.height();
        } else if (chunk.width() != width || chunk.height() != height) {
            throw new IllegalArgumentException("frames are " + chunk.width() + "x" + chunk.height() + ", the frames "
                    + "before were " + width + "x" + height);
        }
        for (int t = 0; t < chunk.frameCount(); t++) {
            AtomicOutput out = AtomicOutput.create(folder.resolve(frameName(frames.size(), MIN_DIGITS)), tempDir);
            // listed first, so that close() deletes it whatever happens next
            frames.add(out);
            PngWriter.encode(chunk.frameImage(t), out);
        }
    }

    /** Number of frames appended so far. */
    public int framesWritten() {
        return frames.size();
    }

    /**
     * Names the frames in the folder (created if missing), replacing frame files of the same names.
     *
     * @return the frame paths in frame order
     * @throws IllegalStateException if no frame was appended, or the writer is finished or closed
     * @throws IOException           naming the folder or frame that could not be written
     */
    public List<Path> finish() throws IOException {
        checkFinishable();
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw AtomicOutput.failure(folder, e);
        }
        List<Path> out = new ArrayList<>(frames.size());
        publish(folder, out);
        finished = true;
        return out;
    }

    /**
     * Names the frames in a new folder, never in an existing one: the folder or, when that exists, the first free
     * {@link OutputNames#numbered numbered} name ({@code frames_1}, ...). The folder is created atomically, so other
     * processes choosing names at the same time never get the same one. If a frame cannot be named there, the frames
     * named and the new folder are deleted again.
     *
     * @return the frame paths in frame order; their parent is the folder used
     * @throws IllegalStateException if no frame was appended, or the writer is finished or closed
     * @throws IOException           naming the folder or frame that could not be written
     */
    public List<Path> finishNew() throws IOException {
        return finishNew(folder);
    }

    /**
     * {@link #finishNew()} in a folder named {@code folder} instead of the one the writer was opened with: for a name
     * known only once the video is complete, such as one beside a file that got a number meanwhile.
     *
     * @param folder the folder name to take (or number); beside the folder the writer was opened with
     * @throws IllegalArgumentException if {@code folder} is in another parent folder
     * @throws IllegalStateException    if no frame was appended, or the writer is finished or closed
     * @throws IOException              naming the folder or frame that could not be written
     */
    public List<Path> finishNew(Path folder) throws IOException {
        Path abs = folder.toAbsolutePath().normalize();
        if (!tempDir.equals(abs.getParent())) {
            throw new IllegalArgumentException(folder + " is not beside " + this.folder);
        }
        checkFinishable();
        String name = abs.getFileName().toString();
        for (int n = 0; n <= OutputNames.MAX_NUMBER; n++) {
            Path candidate = abs.resolveSibling(OutputNames.numbered(name, n));
            try {
                Files.createDirectory(candidate);
            } catch (FileAlreadyExistsException taken) {
                continue;
            } catch (IOException e) {
                throw AtomicOutput.failure(candidate, e);
            }
            List<Path> out = new ArrayList<>(frames.size());
            try {
                publish(candidate, out);
            } catch (IOException | RuntimeException e) {
                for (Path frame : out) {
                    Files.deleteIfExists(frame);
                }
                Files.deleteIfExists(candidate);
                throw e;
            }
            finished = true;
            return out;
        }
        throw new IOException("cannot write " + abs + ": it and its numbered names up to _" + OutputNames.MAX_NUMBER
                + " exist");
    }

    /** Renames the frames into {@code dir}, adding each path to {@code out} once it has its name. */
    private void publish(Path dir, List<Path> out) throws IOException {
        int digits = Math.max(MIN_DIGITS, Integer.toString(frames.size() - 1).length());
        for (int t = 0; t < frames.size(); t++) {
            out.add(frames.get(t).commitAs(dir.resolve(frameName(t, digits))));
        }
    }

    private static String frameName(int t, int digits) {
        return String.format(Locale.ROOT, "frame_%0" + digits + "d.png", t);
    }

    private void checkFinishable() {
        ensureOpen();
        if (frames.isEmpty()) {
            throw new IllegalStateException("no frame was appended to " + folder);
        }
    }

    private void ensureOpen() {
        if (finished || closed) {
            throw new IllegalStateException("frame writer for " + folder + " is " + (finished ? "finished" : "closed"));
        }
    }

    /** Deletes the temporary files of frames not named by a finish. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        Closeables.closeAll(frames);
    }
}
