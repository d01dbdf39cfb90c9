package io.github.hunyuanvideo.io.video;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The folder videos are saved in: a check that files can be written there, made before any long work starts; removal
 * of the temporary files a killed process left; deletion of the temporary files still being written (for a shutdown
 * hook); and readable reasons for file-system errors.
 *
 * <p>The writers of this package ({@link Mp4Writer}, {@link PngWriter}, {@link ContactSheet}) write each file as a
 * hidden temporary file in the target's folder, named {@code .hunyuan-video-<16 lowercase hex digits>.part}
 * ({@link #isTemporaryFileName}), and give it its final name only once it is complete; {@link PngFrameWriter} keeps
 * its frames in the frames folder's parent until the folder is named.
 */
public final class OutputFolder {
    private static final Logger LOG = LoggerFactory.getLogger(OutputFolder.class);

    /** Age after which a temporary file of this package is taken as left by a process that was killed. */
    public static final Duration STALE_AFTER = Duration.ofDays(1);

    private OutputFolder() {
    }

    /**
     * Creates {@code dir} if missing and checks that a file can be created and deleted in it. The probe file is named
     * as the temporary files, so one left by a crash is removed later by {@link #removeStale}.
     *
     * @throws IOException whose message names {@code dir} and the reason: {@code "X is a file, not a folder"},
     *                     {@code "cannot create folder X: reason"} or {@code "cannot write in folder X: reason"}
     */
    public static void prepare(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IOException(dir + " is a file, not a folder");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IOException("cannot create folder " + dir + ": " + reason(e), e);
        }
        try {
            AtomicOutput.deleteTemp(AtomicOutput.createTemp(dir));
        } catch (IOException e) {
            throw new IOException("cannot write in folder " + dir + ": " + reason(e), e);
        }
    }

    /** Whether {@code fileName} is of the form of this package's temporary files. */
    public static boolean isTemporaryFileName(String fileName) {
        return AtomicOutput.isTemporaryName(fileName);
    }

    /**
     * Deletes the temporary files of this package that a killed process left in {@code dir} (not in its subfolders):
     * regular files (not links) whose name {@link #isTemporaryFileName matches} and that were last modified more than
     * {@link #STALE_AFTER} before {@code now}. Nothing else is ever deleted. Best effort: a folder that cannot be read
     * or a file that cannot be deleted is logged and skipped.
     *
     * @return the deleted files
     */
    public static List<Path> removeStale(Path dir, Instant now) {
        Instant cutoff = now.minus(STALE_AFTER);
        List<Path> deleted = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir,
                p -> isTemporaryFileName(p.getFileName().toString()))) {
            for (Path p : entries) {
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class,
                            LinkOption.NOFOLLOW_LINKS);
                    if (a.isRegularFile() && a.lastModifiedTime().toInstant().isBefore(cutoff)
                            && Files.deleteIfExists(p)) {
                        LOG.info("removed {}, left by an interrupted run on {}", p, a.lastModifiedTime());
                        deleted.add(p);
                    }
                } catch (IOException e) {
                    LOG.warn("could not remove the stale temporary file {}: {}", p, reason(e));
                }
            }
        } catch (IOException e) {
            LOG.warn("could not look for stale temporary files in {}: {}", dir, reason(e));
        }
        return deleted;
    }

    /**
     * Deletes the temporary files of the writes in progress in this JVM in {@code dir} or below; those writes then
     * fail instead of completing. For a shutdown hook, so that an interrupted program leaves no temporary file.
     *
     * @return the deleted files
     */
    public static List<Path> deleteUnfinished(Path dir) throws IOException {
        return AtomicOutput.deleteLive(dir);
    }

    /**
     * What went wrong, in words, for a message that names the file itself: {@code "permission denied"},
     * {@code "no such file or folder"}, the system's reason (such as {@code "No space left on device"}), else the
     * exception's message.
     */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or folder";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "a file of that name exists";
        }
        if (e instanceof NotDirectoryException) {
            return "not a folder";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "folder not empty";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
