package io.github.hunyuanvideo.nn.parallel;

/**
 * A collective (or joining the group) failed: another rank died, left, or did not answer within the collective
 * timeout, or the transport reported an error. The message names the operation, this rank and the world size. The
 * communicator that threw is unusable afterwards (close it); the other ranks see their own exception within their
 * timeout.
 */
public final class CollectiveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An exception with {@code message} and the transport's {@code cause} (may be null). */
    public CollectiveException(String message, Throwable cause) {
        super(message, cause);
    }
}
