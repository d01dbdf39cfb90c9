package io.github.hunyuanvideo.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** A checkpoint file is malformed, truncated, unsafe or not what the caller expected. The message names the file. */
public class CheckpointFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public CheckpointFormatException(Path file, String reason) {
        super(file + ": " + reason);
    }

    public CheckpointFormatException(Path file, String reason, Throwable cause) {
        super(file + ": " + reason, cause);
    }

    /**
     * This exception wrapped for methods that cannot throw checked exceptions ({@link TensorSource#tensor}), with
     * the same message so that it still names the file.
     */
    public UncheckedIOException unchecked() {
        return new UncheckedIOException(getMessage(), this);
    }
}
