package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.DitInputs;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Precision;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several threads calling {@link HunyuanVideoSampler#predict} on one sampler: the generations run one after another
 * in arrival order, a waiting call can be cancelled, and {@code close} waits for the running one. The DiT and VAE are
 * stand-ins of the {@code pipeline_tiny} dimensions; the DiT stand-in records which thread runs each step.
 */
@Timeout(120) // guards the build against a deadlock; no speed is asserted
class ConcurrentPredictTest {
    private static final int STEPS = 3;

    private ReferenceCase ref;
    private PointerScope scope;
    private PipelineCase pipeline;
    private PromptEmbeddings embeddings;
    /** The thread of every DiT step, in the order the steps ran. */
    private final List<String> steps = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger mostAtOnce = new AtomicInteger();
    /** Counted down by the first step of thread "A", which then waits for {@link #releaseA}. */
    private final CountDownLatch aStarted = new CountDownLatch(1);
    private final CountDownLatch releaseA = new CountDownLatch(1);

    @BeforeEach
    void load() throws IOException {
        ref = ReferenceCase.load("pipeline_tiny");
        scope = new PointerScope();
        pipeline = PipelineCase.load(ReferenceCase.dir());
        embeddings = PipelineCase.embeddings(ref.tensors());
    }

    @AfterEach
    void close() {
        releaseA.countDown();
        scope.close();
        ref.close();
    }

    /** A sampler whose DiT stand-in records each step (sleeping a little to widen any overlap). */
    private HunyuanVideoSampler sampler(boolean holdA) {
        Function<DitInputs, Tensor> velocity = in -> {
            int now = running.incrementAndGet();
            mostAtOnce.accumulateAndGet(now, Math::max);
            String thread = Thread.currentThread().getName();
            boolean first = !steps.contains(thread);
            steps.add(thread);
            try {
                if (holdA && first && thread.equals("A")) {
                    aStarted.countDown();
                    releaseA.await();
                } else {
                    Thread.sleep(5);
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                running.decrementAndGet();
            }
            return in.latents().mul(new Scalar(0.0));
        };
        GenerationRequest r = request();
        return DenoisingLoopTest.standIns(pipeline.config("cpu", Precision.FP32, Precision.FP32), pipeline.dit(),
                pipeline.vae(), velocity,
                (latents, cancelled) -> torch.zeros(1, 3, r.videoLength(), r.height(), r.width()));
    }

    private GenerationRequest request() {
        GenerationRequest r = pipeline.request();
        return GenerationRequest.builder("x").size(r.height(), r.width()).videoLength(r.videoLength())
                .inferSteps(STEPS).seed(1L).build();
    }

    private CompletableFuture<SamplerResult> predictOn(String thread, HunyuanVideoSampler sampler,
                                                       CancellationToken token, List<Thread> threads) {
        GenerationRequest r = request();
        return started(thread, () -> sampler.predict(r, embeddings, null, ProgressListener.NONE, token), threads);
    }

    /** Runs {@code call} on a new thread named {@code name}, added to {@code threads}. */
    private static <T> CompletableFuture<T> started(String name, Supplier<T> call, List<Thread> threads) {
        CompletableFuture<T> out = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                out.complete(call.get());
            } catch (Throwable e) {
                out.completeExceptionally(e);
            }
        }, name);
        t.setDaemon(true); // a failed test leaves no thread that keeps the JVM alive
        threads.add(t);
        t.start();
        return out;
    }

    /** Waits until {@code t} is parked in {@code state} (a waiting predict polls in TIMED_WAITING). */
    private static void awaitState(Thread t, Thread.State state) throws InterruptedException {
        while (t.getState() != state) {
            assertTrue(t.isAlive(), t.getName() + " ended before reaching " + state);
            Thread.sleep(1);
        }
    }

    @SafeVarargs
    private static void closeAll(CompletableFuture<SamplerResult>... results) throws Exception {
        for (CompletableFuture<SamplerResult> r : results) {
            r.get().close();
        }
    }

    @Test
    void twoConcurrentCallsNeverOverlapAndBothComplete() throws Exception {
        try (HunyuanVideoSampler sampler = sampler(false)) {
            List<Thread> threads = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            GenerationRequest r = request();
            List<CompletableFuture<SamplerResult>> results = new ArrayList<>();
            for (String name : List.of("A", "B")) {
                results.add(started(name, () -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    return sampler.predict(r, embeddings, null, ProgressListener.NONE, CancellationToken.NONE);
                }, threads));
            }
            go.countDown();
            for (CompletableFuture<SamplerResult> result : results) {
                try (SamplerResult done = result.get()) {
                    assertEquals(STEPS, done.timings().steps().size());
                }
            }
            assertEquals(1, mostAtOnce.get(), "steps of two generations ran at once");
            assertEquals(2 * STEPS, steps.size());
            // one generation's steps all come before the other's: the thread changes exactly once
            int changes = 0;
            for (int i = 1; i < steps.size(); i++) {
                changes += steps.get(i).equals(steps.get(i - 1)) ? 0 : 1;
            }
            assertEquals(1, changes, "generations interleaved: " + steps);
        }
    }

    @Test
    void waitingCallsRunInArrivalOrder() throws Exception {
        try (HunyuanVideoSampler sampler = sampler(true)) {
            List<Thread> threads = new ArrayList<>();
            CompletableFuture<SamplerResult> a = predictOn("A", sampler, CancellationToken.NONE, threads);
            aStarted.await();
            CompletableFuture<SamplerResult> b = predictOn("B", sampler, CancellationToken.NONE, threads);
            awaitState(threads.get(1), Thread.State.TIMED_WAITING);
            CompletableFuture<SamplerResult> c = predictOn("C", sampler, CancellationToken.NONE, threads);
            awaitState(threads.get(2), Thread.State.TIMED_WAITING);
            // several polls of the waiting calls pass: a waiter re-joining a lock's queue on each poll would reorder
            Thread.sleep(50);
            releaseA.countDown();
            closeAll(a, b, c);
            List<String> order = steps.stream().distinct().toList();
            assertEquals(List.of("A", "B", "C"), order);
        }
    }

    @Test
    void aCallWaitingBehindALongOneIsCancelledWhileWaiting() throws Exception {
        try (HunyuanVideoSampler sampler = sampler(true)) {
            List<Thread> threads = new ArrayList<>();
            CompletableFuture<SamplerResult> a = predictOn("A", sampler, CancellationToken.NONE, threads);
            aStarted.await();
            CompletableFuture<SamplerResult> b = predictOn("B", sampler, CancellationToken.NONE, threads);
            CancellationToken token = new CancellationToken();
            CompletableFuture<SamplerResult> c = predictOn("C", sampler, token, threads);
            awaitState(threads.get(2), Thread.State.TIMED_WAITING);
            token.cancel();
            ExecutionException e = assertThrows(ExecutionException.class, c::get);
            GenerationCancelledException cancelled = assertInstanceOf(GenerationCancelledException.class,
                    e.getCause());
            assertEquals(GenerationCancelledException.Stage.WAITING, cancelled.stage());
            assertTrue(cancelled.getMessage().contains("waiting"), cancelled.getMessage());
            // it returned while the long generation was still running, without running a step
            assertFalse(a.isDone());
            assertFalse(steps.contains("C"));
            releaseA.countDown();
            closeAll(a, b);
            assertEquals(List.of("A", "B"), steps.stream().distinct().toList());
        }
    }

    /** Interrupting a waiting call cancels it too, and the thread keeps its interrupt flag. */
    @Test
    void anInterruptedWaitingCallIsCancelled() throws Exception {
        try (HunyuanVideoSampler sampler = sampler(true)) {
            List<Thread> threads = new ArrayList<>();
            CompletableFuture<SamplerResult> a = predictOn("A", sampler, CancellationToken.NONE, threads);
            aStarted.await();
            AtomicBoolean flagKept = new AtomicBoolean();
            GenerationRequest r = request();
            CompletableFuture<SamplerResult> b = started("B", () -> {
                try {
                    return sampler.predict(r, embeddings, null, ProgressListener.NONE, CancellationToken.NONE);
                } finally {
                    flagKept.set(Thread.currentThread().isInterrupted());
                }
            }, threads);
            awaitState(threads.get(1), Thread.State.TIMED_WAITING);
            threads.get(1).interrupt();
            ExecutionException e = assertThrows(ExecutionException.class, b::get);
            GenerationCancelledException cancelled = assertInstanceOf(GenerationCancelledException.class,
                    e.getCause());
            assertEquals(GenerationCancelledException.Stage.WAITING, cancelled.stage());
            assertTrue(flagKept.get(), "the interrupt flag was cleared");
            assertFalse(a.isDone());
            releaseA.countDown();
            closeAll(a);
        }
    }

    @Test
    void closeWaitsForTheRunningGenerationAndFailsTheWaitingOnes() throws Exception {
        HunyuanVideoSampler sampler = sampler(true);
        List<Thread> threads = new ArrayList<>();
        CompletableFuture<SamplerResult> a = predictOn("A", sampler, CancellationToken.NONE, threads);
        aStarted.await();
        CompletableFuture<SamplerResult> b = predictOn("B", sampler, CancellationToken.NONE, threads);
        awaitState(threads.get(1), Thread.State.TIMED_WAITING);
        CompletableFuture<Boolean> closed = started("closer", () -> {
            sampler.close();
            return true;
        }, threads);
        ExecutionException e = assertThrows(ExecutionException.class, b::get);
        IllegalStateException refused = assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(refused.getMessage().contains("closed"), refused.getMessage());
        awaitState(threads.get(2), Thread.State.WAITING);
        assertFalse(closed.isDone(), "close returned while a generation was running");
        releaseA.countDown();
        a.get().close();
        assertTrue(closed.get());
        IllegalStateException after = assertThrows(IllegalStateException.class, () -> sampler.predict(request(),
                embeddings, null, ProgressListener.NONE, CancellationToken.NONE));
        assertTrue(after.getMessage().contains("closed"), after.getMessage());
        sampler.close(); // closing again does nothing
    }

    /** A listener calling predict on the generating thread would wait for itself: refused, the sampler stays usable. */
    @Test
    void predictFromTheGeneratingThreadIsRefused() {
        try (HunyuanVideoSampler sampler = sampler(false)) {
            GenerationRequest r = request();
            ProgressListener reentrant = (step, total, elapsed, eta) -> sampler.predict(r, embeddings, null,
                    ProgressListener.NONE, CancellationToken.NONE);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> sampler.predict(r, embeddings, null, reentrant, CancellationToken.NONE));
            assertTrue(e.getMessage().contains("wait for itself"), e.getMessage());
            try (SamplerResult again = sampler.predict(r, embeddings, null, ProgressListener.NONE,
                    CancellationToken.NONE)) {
                assertNotNull(again.videos());
            }
        }
    }
}
