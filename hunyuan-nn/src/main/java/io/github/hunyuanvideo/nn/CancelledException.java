package io.github.hunyuanvideo.nn;

/**
 * Thrown by a model call whose cancellation check fired ({@link Cancellation#check}); the message says where the work
 * stopped ("after 3 of 12 tiles"). Everything the call had allocated is freed by then.
 */
public final class CancelledException extends RuntimeException {
    CancelledException(String where) {
        super(where);
    }
}
