package io.github.hunyuanvideo.io.video;

import java.io.Closeable;
import java.io.IOException;

/** Closing several writers as one: each is closed even when an earlier one fails. */
public final class Closeables {
    private Closeables() {
    }

    /**
     * Closes every item in order; the first failure is thrown once all are closed, the later ones suppressed in it.
     *
     * @throws IOException the first item's failure, if any failed
     */
    public static void closeAll(Iterable<? extends Closeable> items) throws IOException {
        IOException failure = null;
        for (Closeable item : items) {
            try {
                item.close();
            } catch (IOException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
