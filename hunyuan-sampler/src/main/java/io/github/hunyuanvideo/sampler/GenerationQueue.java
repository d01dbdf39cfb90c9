package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.sampler.GenerationCancelledException.Stage;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One generation at a time on a sampler, in arrival order: a call {@link #enter}s, waiting behind the running call and
 * those that arrived before it, and {@link #leave}s when done. A waiting call gives up as soon as its token is
 * cancelled (polled, since a token has no way to wake a waiter) or the sampler is closed.
 *
 * <p>The calls wait in an explicit queue rather than on a fair lock polled with {@code tryLock(timeout)}: a timed-out
 * {@code tryLock} leaves the lock's queue and joins again at its end, so polling waiters would overtake each other.
 */
final class GenerationQueue {
    /** How often a waiting call looks at its token. */
    private static final long POLL_MS = 10;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** The calls in arrival order; the first one runs. */
    private final ArrayDeque<Thread> calls = new ArrayDeque<>();
    private boolean closed;

    /**
     * Returns when it is the calling thread's turn; pair with {@link #leave()}.
     *
     * @throws GenerationCancelledException with {@link Stage#WAITING} if {@code cancel} is cancelled (or the thread
     *                                      interrupted, whose flag is kept) before the turn came
     * @throws IllegalStateException        if the sampler is or gets closed, or if this thread's own generation is
     *                                      running (a listener calling predict would wait for itself)
     */
    void enter(CancellationToken cancel) {
        Thread me = Thread.currentThread();
        lock.lock();
        try {
            if (calls.contains(me)) {
                throw new IllegalStateException("predict was called during a generation of the same thread (from a "
                        + "ProgressListener?) on this sampler: it would wait for itself");
            }
            requireOpen();
            calls.addLast(me);
            boolean admitted = false;
            try {
                while (calls.peekFirst() != me) {
                    cancel.throwIfCancelled(Stage.WAITING, null);
                    changed.await(POLL_MS, TimeUnit.MILLISECONDS);
                    // also when the turn came with the close: a closing sampler starts nothing
                    requireOpen();
                }
                admitted = true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new GenerationCancelledException(Stage.WAITING, "the waiting thread was interrupted");
            } finally {
                if (!admitted) {
                    calls.remove(me);
                    changed.signalAll();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Ends the turn of the running call (the caller's own). */
    void leave() {
        lock.lock();
        try {
            calls.removeFirst();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Refuses new calls, fails the waiting ones, and waits for the running one to leave.
     *
     * @return whether this call closed the queue ({@code false} when it was closed already)
     * @throws IllegalStateException if called from the running generation's thread, which would wait for itself
     */
    boolean close() {
        lock.lock();
        try {
            if (calls.peekFirst() == Thread.currentThread()) {
                throw new IllegalStateException("close() was called during a generation of the same thread (from a "
                        + "ProgressListener?): close the sampler after predict returns");
            }
            if (closed) {
                return false;
            }
            closed = true;
            changed.signalAll();
            while (!calls.isEmpty()) {
                changed.awaitUninterruptibly();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the sampler is closed");
        }
    }
}
