package io.github.hunyuanvideo.io.video;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * A temporary file beside a target path that becomes the target on {@link #commit()} (replacing a file of that name)
 * or {@link #commitNew} (never replacing one), and is deleted by {@link #close()} otherwise. Readers therefore never
 * see a half-written file under the final name.
 *
 * <p>Temporary files are named {@code .hunyuan-video-<16 lowercase hex digits>.part}: hidden, ASCII (safe to hand to
 * native code), and recognisable ({@link #isTemporaryName}) so that {@link OutputFolder} can remove those a killed
 * process left. Each one not yet committed or closed is listed, so that a shutdown hook can delete those in a folder
 * ({@link #deleteLive}).
 */
final class AtomicOutput implements Closeable {
    private static final Pattern TEMP_NAME = Pattern.compile("\\.hunyuan-video-[0-9a-f]{16}\\.part");
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Temporary files of this JVM still being written. */
    private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();

    private final Path target;
    private final Path temp;
    private boolean committed;

    private AtomicOutput(Path target, Path temp) {
        this.target = target;
        this.temp = temp;
    }

    /**
     * Creates the parent folder if needed and an empty temporary file in it.
     *
     * @throws IOException naming {@code target} and the reason, if either cannot be created
     */
    static AtomicOutput create(Path target) throws IOException {
        Path dir = target.toAbsolutePath().normalize().getParent();
        if (dir == null) {
            throw new IOException("output path has no parent folder: " + target);
        }
        return create(target, dir);
    }

    /**
     * As {@link #create(Path)}, but with the temporary file in {@code dir} (created if needed): for a file whose own
     * folder does not exist yet, such as a frame of a folder named only when the video is complete. {@code target}
     * names the file in errors until {@link #commitAs} gives the final path.
     */
    static AtomicOutput create(Path target, Path dir) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        if (Files.isDirectory(abs)) {
            throw new IOException("output path is a folder: " + target);
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IOException("cannot write " + abs + ": cannot create its folder " + dir + ": "
                    + OutputFolder.reason(e), e);
        }
        try {
            return new AtomicOutput(abs, createTemp(dir));
        } catch (IOException e) {
            throw failure(abs, e);
        }
    }

    /** Creates an empty temporary file in {@code dir}, with mode 0666 less the umask as any other new file. */
    static Path createTemp(Path dir) throws IOException {
        FileAttribute<?>[] attrs = dir.getFileSystem().supportedFileAttributeViews().contains("posix")
                ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-rw-rw-"))}
                : new FileAttribute<?>[0];
        // absolute, as deleteLive compares them with a folder
        Path folder = dir.toAbsolutePath().normalize();
        while (true) {
            Path temp = folder.resolve(String.format(Locale.ROOT, ".hunyuan-video-%016x.part", RANDOM.nextLong()));
            try {
                Files.createFile(temp, attrs);
                LIVE.add(temp);
                return temp;
            } catch (FileAlreadyExistsException taken) {
                // one name in 2^64 taken by chance: draw another
            }
        }
    }

    /** Whether {@code fileName} is of the form {@link #createTemp} gives. */
    static boolean isTemporaryName(String fileName) {
        return TEMP_NAME.matcher(fileName).matches();
    }

    /** Deletes the temporary files of this JVM in {@code dir} or below that are still being written; returns them. */
    static List<Path> deleteLive(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        List<Path> deleted = new ArrayList<>();
        for (Path temp : LIVE) {
            if (temp.startsWith(abs) && LIVE.remove(temp) && Files.deleteIfExists(temp)) {
                deleted.add(temp);
            }
        }
        return deleted;
    }

    /** Deletes {@code temp}, a file of {@link #createTemp}, and forgets it. */
    static void deleteTemp(Path temp) throws IOException {
        LIVE.remove(temp);
        Files.deleteIfExists(temp);
    }

    /** An {@code IOException} naming the final file {@code target} and the reason {@code e} gives. */
    static IOException failure(Path target, IOException e) {
        return new IOException("cannot write " + target + ": " + OutputFolder.reason(e), e);
    }

    /** The temporary file to write. */
    Path temp() {
        return temp;
    }

    /** The final path. */
    Path target() {
        return target;
    }

    /** Renames the temporary file to the target (replacing an existing file) and returns the target. */
    Path commit() throws IOException {
        return commitAs(target);
    }

    /**
     * Renames the temporary file to {@code path} (replacing an existing file; on the temporary file's file system)
     * and returns it.
     */
    Path commitAs(Path path) throws IOException {
        try {
            Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw failure(path, e);
        }
        committed();
        return path;
    }

    /**
     * Gives the temporary file the first name of target, {@link OutputNames#numbered numbered} 1, 2, ... that neither
     * exists nor has an existing {@link OutputNames#companion companion} for one of {@code companionSuffixes}, and
     * returns it. It never replaces a file, also against other processes choosing names in the same folder at the same
     * time: the name is taken by an atomic operation that fails when it exists (a hard link, or on file systems
     * without those an exclusive create that only this process then renames over).
     *
     * @throws IOException naming the file, if the file system fails or every number up to
     *                     {@value OutputNames#MAX_NUMBER} is taken
     */
    Path commitNew(List<String> companionSuffixes) throws IOException {
        return commitNewAs(target, companionSuffixes);
    }

    /** {@link #commitNew} under {@code path} (on the temporary file's file system) instead of the target. */
    Path commitNewAs(Path path, List<String> companionSuffixes) throws IOException {
        String name = path.getFileName().toString();
        for (int n = 0; n <= OutputNames.MAX_NUMBER; n++) {
            Path candidate = path.resolveSibling(OutputNames.numbered(name, n));
            if (exists(candidate) || companionSuffixes.stream().anyMatch(s -> exists(OutputNames.companion(candidate,
                    s)))) {
                continue;
            }
            try {
                publishNew(temp, candidate);
            } catch (FileAlreadyExistsException takenMeanwhile) {
                continue;
            } catch (IOException e) {
                throw failure(candidate, e);
            }
            committed();
            return candidate;
        }
        throw new IOException("cannot write " + path + ": it and its numbered names up to _"
                + OutputNames.MAX_NUMBER + " (or their companions) exist");
    }

    private static boolean exists(Path p) {
        return Files.exists(p, LinkOption.NOFOLLOW_LINKS);
    }

    /** Gives {@code temp} the name {@code target}, atomically, or throws {@link FileAlreadyExistsException}. */
    private static void publishNew(Path temp, Path target) throws IOException {
        try {
            Files.createLink(target, temp);
        } catch (FileAlreadyExistsException taken) {
            throw taken;
        } catch (IOException | UnsupportedOperationException noHardLinks) {
            reserveAndMove(temp, target);
            return;
        }
        // the file now has both names; drop the temporary one (a shutdown hook may have done so already)
        Files.deleteIfExists(temp);
    }

    /**
     * {@link #publishNew} for file systems without hard links (FAT, some network shares): takes {@code target} with an
     * exclusive create (which fails when it exists), then renames {@code temp} over that empty file of its own.
     */
    static void reserveAndMove(Path temp, Path target) throws IOException {
        Files.createFile(target);
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            // the empty reservation made just above, not a file of anyone else
            Files.deleteIfExists(target);
            throw e;
        }
    }

    private void committed() {
        committed = true;
        LIVE.remove(temp);
    }

    /** Deletes the temporary file unless committed. */
    @Override
    public void close() throws IOException {
        if (!committed) {
            deleteTemp(temp);
        }
    }
}
