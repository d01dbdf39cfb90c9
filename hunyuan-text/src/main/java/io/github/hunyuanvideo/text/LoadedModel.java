package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.CudaMemory;
import org.bytedeco.pytorch.Device;
import org.slf4j.Logger;

import java.util.function.Supplier;

/**
 * The weights and tokenizer of one text encoder: loads the model on first use and again after {@link #release()},
 * frees it (and on CUDA the allocator's cached blocks), and closes the tokenizer for good in {@link #close()}. Not
 * thread-safe by itself: the encoders call it under their own lock.
 *
 * @param <M> the model, closed to free its weights
 */
final class LoadedModel<M extends AutoCloseable> implements AutoCloseable {
    private final Logger log;
    private final String what;
    private final String id;
    private final Device device;
    private final AutoCloseable tokenizer;
    private final Supplier<M> loader;
    private M model;
    private boolean closed;

    /**
     * Loads the model at once.
     *
     * @param what      the encoder in messages, e.g. "CLIP text encoder"
     * @param tokenizer closed with the holder, or {@code null}
     */
    LoadedModel(Logger log, String what, String id, Device device, AutoCloseable tokenizer, Supplier<M> loader) {
        this.log = log;
        this.what = what;
        this.id = id;
        this.device = device;
        this.tokenizer = tokenizer;
        this.loader = loader;
        this.model = loader.get();
    }

    /** The model, loaded again if it was released. */
    M get() {
        requireOpen();
        if (model == null) {
            log.info("reloading the {} weights ({})", what, id);
            model = loader.get();
        }
        return model;
    }

    /** @throws IllegalStateException once {@link #close()} ran */
    void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the " + what + " is closed");
        }
    }

    /** Frees the weights (on CUDA also the allocator's cached blocks); no-op when already released. */
    void release() {
        if (model != null) {
            Checkpoints.closeUnchecked(model);
            model = null;
            if (device.is_cuda()) {
                CudaMemory.emptyCache();
            }
        }
    }

    boolean isLoaded() {
        return model != null;
    }

    /** Releases the weights and closes the tokenizer; idempotent. */
    @Override
    public void close() {
        if (!closed) {
            release();
            if (tokenizer != null) {
                Checkpoints.closeUnchecked(tokenizer);
            }
            closed = true;
        }
    }
}
