package io.github.hunyuanvideo.nn.parallel;

import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * A real {@link Communicator} among the threads of one JVM, one rank per thread, for testing multi-rank code without
 * processes. Every collective is a rendezvous: each rank posts its input, waits for all ranks (a
 * {@link CyclicBarrier} with a timeout), computes its result from the posted tensors into a temporary, waits again
 * (so no rank overwrites a tensor another may still be reading) and copies the result into its output. Sums add the
 * ranks' tensors in rank order, so every rank gets the same bits. A rank that fails or stops calling breaks the
 * barrier and every other rank's pending collective ends with an {@link IllegalStateException}: never a hang.
 */
public final class ThreadGroupCommunicator implements Communicator {
    /** How long a rank waits for the others at each rendezvous. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** What the ranks share: the posted tensors, the barrier and the sub-groups made by {@link #split}. */
    private static final class Group {
        final Tensor[] posted;
        final CyclicBarrier barrier;
        /** By split number and color. */
        final Map<String, Group> children = new HashMap<>();

        Group(int size) {
            posted = new Tensor[size];
            barrier = new CyclicBarrier(size);
        }

        /** Breaks the barrier of this group and of its sub-groups: their waiting ranks fail at once. */
        synchronized void breakAll() {
            barrier.reset();
            children.values().forEach(Group::breakAll);
        }

        synchronized Group child(String key, int size) {
            return children.computeIfAbsent(key, k -> new Group(size));
        }
    }

    private final Group group;
    private final int rank;
    /** This rank's splits so far; every rank counts the same. */
    private int splits;

    private ThreadGroupCommunicator(Group group, int rank) {
        this.group = group;
        this.rank = rank;
    }

    /** The {@code worldSize} ranks of one new group, rank order; each must be used by its own thread. */
    public static List<Communicator> group(int worldSize) {
        if (worldSize < 1) {
            throw new IllegalArgumentException("world size must be >= 1, got " + worldSize);
        }
        Group g = new Group(worldSize);
        List<Communicator> ranks = new ArrayList<>();
        for (int r = 0; r < worldSize; r++) {
            ranks.add(new ThreadGroupCommunicator(g, r));
        }
        return ranks;
    }

    /**
     * Runs {@code work} on {@code worldSize} threads, each with its rank of a new group, and returns their results in
     * rank order, handed to the caller's innermost {@link PointerScope}. Each thread runs inside a scope of its own:
     * {@code work} returns a tensor it created there. The first failure of any rank is rethrown (the others then fail
     * at their next rendezvous or are interrupted).
     */
    public static List<Tensor> run(int worldSize, Function<Communicator, Tensor> work) {
        return run(group(worldSize), work);
    }

    /** {@link #run(int, Function)} over the ranks of a group made by {@link #group}, each on its own thread. */
    public static List<Tensor> run(List<Communicator> ranks, Function<Communicator, Tensor> work) {
        ExecutorService pool = Executors.newFixedThreadPool(ranks.size());
        try {
            List<Future<Tensor>> futures = new ArrayList<>();
            for (Communicator c : ranks) {
                futures.add(pool.submit(() -> {
                    try {
                        return Scopes.retainedResult(() -> work.apply(c));
                    } catch (RuntimeException | Error e) {
                        // wakes the ranks waiting for this one at once instead of after the timeout
                        ((ThreadGroupCommunicator) c).group.breakAll();
                        throw e;
                    }
                }));
            }
            List<Tensor> out = new ArrayList<>();
            RuntimeException failure = null;
            for (Future<Tensor> f : futures) {
                try {
                    out.add(Scopes.handOut(f.get()));
                } catch (ExecutionException e) {
                    // every rank's failure is kept: the root cause may be on a later rank than the first failure
                    RuntimeException cause = new IllegalStateException("rank " + out.size() + " failed: "
                            + e.getCause(), e.getCause());
                    if (failure == null) {
                        failure = cause;
                    } else {
                        failure.addSuppressed(cause);
                    }
                    out.add(null);
                }
            }
            if (failure != null) {
                throw failure;
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            pool.shutdownNow();
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return group.posted.length;
    }

    @Override
    public void allToAll(Tensor output, Tensor input) {
        long n = chunk(input);
        exchange(output, input, posted -> torch.cat(new TensorArrayRef(
                new TensorVector(Arrays.stream(posted).map(t -> t.narrow(0, rank * n, n))
                        .toArray(Tensor[]::new))), 0));
    }

    @Override
    public void allGather(Tensor output, Tensor input) {
        exchange(output, input, posted -> torch.cat(new TensorArrayRef(
                new TensorVector(posted)), 0));
    }

    @Override
    public void broadcast(Tensor tensor, int root) {
        if (root < 0 || root >= worldSize()) {
            throw new IllegalArgumentException("root " + root + " outside a group of " + worldSize());
        }
        exchange(tensor, tensor, posted -> posted[root].clone());
    }

    @Override
    public void allReduceSum(Tensor tensor) {
        exchange(tensor, tensor, posted -> {
            Tensor sum = posted[0].clone();
            for (int r = 1; r < posted.length; r++) {
                sum.add_(posted[r]);
            }
            return sum;
        });
    }

    @Override
    public void barrier() {
        await();
    }

    /** The colors are all-gathered; the ranks of one color share a new group (a group of one too). */
    @Override
    public Communicator split(int color) {
        if (color < 0) {
            throw new IllegalArgumentException("split: color must be >= 0, got " + color);
        }
        long[] colors;
        try (PointerScope scope = new PointerScope()) {
            Tensor all = Tensors.fromLongs(new long[worldSize()], worldSize());
            allGather(all, Tensors.fromLongs(new long[]{color}, 1));
            colors = Tensors.toLongArray(all);
        }
        int[] members = IntStream.range(0, worldSize()).filter(r -> colors[r] == color).toArray();
        Group child = group.child(splits++ + "/" + color, members.length);
        return new ThreadGroupCommunicator(child, Arrays.binarySearch(members, rank));
    }

    @Override
    public void close() {
    }

    /** Rows per rank of an all-to-all input. */
    private long chunk(Tensor input) {
        if (input.size(0) % worldSize() != 0) {
            throw new IllegalArgumentException("all-to-all input has " + input.size(0) + " rows, not a multiple of "
                    + "the world size " + worldSize());
        }
        return input.size(0) / worldSize();
    }

    /** Posts {@code input}, computes this rank's result from all posts, and writes it into {@code output}. */
    private void exchange(Tensor output, Tensor input, Function<Tensor[], Tensor> result) {
        group.posted[rank] = input;
        await();
        try (PointerScope scope = new PointerScope()) {
            Tensor mine = result.apply(group.posted.clone());
            await();
            output.copy_(mine.reshape(output.sizes()));
        } finally {
            group.posted[rank] = null;
        }
    }

    private void await() {
        try {
            group.barrier.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            group.barrier.reset();
            throw new IllegalStateException("rank " + rank + ": interrupted in a collective", e);
        } catch (BrokenBarrierException | TimeoutException e) {
            throw new IllegalStateException("rank " + rank + ": another rank failed or did not join the collective "
                    + "within " + TIMEOUT.toSeconds() + " s", e);
        }
    }
}
