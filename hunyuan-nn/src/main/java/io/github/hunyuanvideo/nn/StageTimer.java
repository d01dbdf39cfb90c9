package io.github.hunyuanvideo.nn;

import org.bytedeco.pytorch.cuda.CUDAEvent;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Attributes device time to named stages of a forward pass, for profiling (the role NVTX ranges play in Python).
 * Model code calls {@link #lap(String)} after each stage; that costs one thread-local read and does nothing unless a
 * timer is running on the calling thread. While one runs, each lap records a CUDA event on the current stream (so the
 * GPU queue is never drained and kernel times are exact), or on the CPU reads the clock (CPU ops are synchronous). The
 * time between two laps goes to the later lap's name, summed over repeats.
 *
 * <pre>{@code
 * try (StageTimer timer = StageTimer.start(true)) {
 *     model.forward(...);
 *     timer.totals().forEach((stage, ms) -> ...);
 * }
 * }</pre>
 */
public final class StageTimer implements AutoCloseable {
    private static final ThreadLocal<StageTimer> ACTIVE = new ThreadLocal<>();
    /** cudaEventDefault: timing enabled ({@code at::cuda::CUDAEvent()} defaults to timing disabled). */
    private static final int TIMING_EVENT = 0;

    private final boolean cuda;
    private final List<String> names = new ArrayList<>();
    private final List<CUDAEvent> events = new ArrayList<>();
    private final List<Long> nanos = new ArrayList<>();

    private StageTimer(boolean cuda) {
        this.cuda = cuda;
        mark("start");
    }

    /**
     * Starts timing on this thread; the previous timer of the thread, if any, must have been closed.
     *
     * @param cuda whether the timed work runs on the current CUDA stream (else on the CPU)
     */
    public static StageTimer start(boolean cuda) {
        if (ACTIVE.get() != null) {
            throw new IllegalStateException("a StageTimer is already running on this thread");
        }
        StageTimer t = new StageTimer(cuda);
        ACTIVE.set(t);
        return t;
    }

    /** Ends the stage {@code stage} here, if a timer runs on this thread. */
    public static void lap(String stage) {
        StageTimer t = ACTIVE.get();
        if (t != null) {
            t.mark(stage);
        }
    }

    private void mark(String stage) {
        names.add(stage);
        if (cuda) {
            CUDAEvent e = new CUDAEvent(TIMING_EVENT);
            // Laps are taken inside the model's pointer scopes: keep the event alive until close().
            e.retainReference();
            e.record();
            events.add(e);
        } else {
            nanos.add(System.nanoTime());
        }
    }

    /**
     * Milliseconds per stage, summed over all laps of the same name, in order of first appearance. Waits for the
     * queued device work.
     */
    public Map<String, Double> totals() {
        Map<String, Double> out = new LinkedHashMap<>();
        if (cuda && !events.isEmpty()) {
            events.get(events.size() - 1).synchronize();
        }
        for (int i = 1; i < names.size(); i++) {
            double ms = cuda ? events.get(i - 1).elapsed_time(events.get(i))
                    : (nanos.get(i) - nanos.get(i - 1)) / 1e6;
            out.merge(names.get(i), ms, Double::sum);
        }
        return out;
    }

    /** Stops timing on this thread and frees the events. */
    @Override
    public void close() {
        if (ACTIVE.get() == this) {
            ACTIVE.remove();
        }
        events.forEach(CUDAEvent::releaseReference);
        events.clear();
    }
}
