package io.github.hunyuanvideo.io.video;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A temporary file beside a target path that becomes the target by an atomic rename on {@link #commit()}, and is
 * deleted by {@link #close()} otherwise. Readers therefore never see a half-written file under the final name.
 */
final class AtomicOutput implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private boolean committed;

    private AtomicOutput(Path target, Path temp) {
        this.target = target;
        this.temp = temp;
    }

    /**
     * Creates the parent folder if needed and an empty temporary file in it. The temporary name is ASCII and starts
     * with a dot, so it is hidden and safe to hand to native code.
     */
    static AtomicOutput create(Path target) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        Path dir = abs.getParent();
        if (dir == null) {
            throw new IOException("output path has no parent folder: " + target);
        }
        if (Files.isDirectory(abs)) {
            throw new IOException("output path is a folder: " + target);
        }
        Files.createDirectories(dir);
        // createTempFile defaults to mode 0600; ask for 0666 so the umask decides, as for any other new file
        FileAttribute<?>[] attrs = dir.getFileSystem().supportedFileAttributeViews().contains("posix")
                ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-rw-rw-"))}
                : new FileAttribute<?>[0];
        Path temp = Files.createTempFile(dir, ".hunyuan-", ".part", attrs);
        return new AtomicOutput(abs, temp);
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
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        committed = true;
        return target;
    }

    /** Deletes the temporary file unless committed. */
    @Override
    public void close() throws IOException {
        if (!committed) {
            Files.deleteIfExists(temp);
        }
    }
}
