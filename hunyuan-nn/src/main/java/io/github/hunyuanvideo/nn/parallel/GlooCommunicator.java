package io.github.hunyuanvideo.nn.parallel;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.LongVector;
import org.bytedeco.pytorch.PrefixStore;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.gloo.Device;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * {@link Communicator} over libtorch's c10d {@code ProcessGroupGloo} for CPU tensors: TCP between the ranks' processes,
 * on one host or several. Every collective waits for its result at most the rendezvous timeout; Gloo enforces the
 * same limit on its own transfers, so a rank that died (its connections close: the others fail at once) or hangs
 * (the others fail after the timeout) never blocks the others for longer. Calls from one thread at a time.
 *
 * <p>The network interface is Gloo's default (the one the host name resolves to), or those named in the environment
 * variable {@code GLOO_SOCKET_IFNAME} (comma-separated), as in PyTorch.
 *
 * <p>{@link #split} forms each sub-group as a new {@code ProcessGroupGloo} meeting at the rendezvous of this group
 * (see there).
 *
 * <p>Gloo itself prints one line on standard output ({@code std::cout}) in every rank whenever a group of several
 * ranks forms: {@code [Gloo] Rank R is connected to N peer ranks. Expected number of connected peer ranks is : N}.
 */
public final class GlooCommunicator implements Communicator {
    private final ProcessGroupGloo group;
    private final int rank;
    private final int worldSize;
    private final long timeoutMillis;
    /** Where this group met: a file rendezvous's sub-groups meet in files beside it. */
    private final Rendezvous rendezvous;
    /**
     * With a TCP rendezvous, the store this rank opened (rank 0's serves it), kept open for the sub-groups, and the
     * key prefix of this group in it ({@code ""} for the first group); null with a file rendezvous.
     */
    private final Store tcpStore;
    private final String prefix;
    /** Splits made so far: every rank counts the same, so the n-th split meets at the same place on every rank. */
    private int splits;
    private volatile String broken;
    private volatile boolean closed;

    private GlooCommunicator(ProcessGroupGloo group, Rendezvous rendezvous, Store tcpStore, String prefix) {
        this.group = group;
        this.rank = rendezvous.rank();
        this.worldSize = rendezvous.worldSize();
        this.timeoutMillis = rendezvous.timeout().toMillis();
        this.rendezvous = rendezvous;
        this.tcpStore = tcpStore;
        this.prefix = prefix;
    }

    /**
     * Joins the Gloo group of {@code rendezvous} (also for a group of one), blocking until every rank has joined.
     *
     * @throws CollectiveException if the group is not complete within the timeout
     */
    public static GlooCommunicator connect(Rendezvous rendezvous) {
        try (PointerScope scope = new PointerScope()) {
            Store store = rendezvous.openStore();
            if (rendezvous.file() != null) {
                return join(store.clone(), rendezvous, null, "");
            }
            store.retainReference();  // rank 0's serves the sub-groups too: released by close()
            try {
                return join(store.clone(), rendezvous, store, "");
            } catch (RuntimeException e) {
                store.releaseReference();
                throw e;
            }
        } catch (RuntimeException e) {
            throw e instanceof CollectiveException ? e : new CollectiveException("rank " + rendezvous.rank() + "/"
                    + rendezvous.worldSize() + ": the Gloo group at " + rendezvous.where() + " did not form within "
                    + rendezvous.timeout().toSeconds() + " s: " + firstLine(e), e);
        }
    }

    /**
     * The group of the ranks of {@code rendezvous} meeting in {@code store}, blocking until every rank has joined;
     * the caller holds a {@link PointerScope}. {@code store} must be a counted handle (an intrusive_ptr held by Java,
     * as {@code Store.clone()} gives): the group keeps its own reference, and the caller's is released with its scope.
     * A store made by a Java constructor would be wrapped by the group from its raw pointer and deleted while the
     * group may still use it (heap corruption seen in about one run in five of a four-rank file rendezvous); a file
     * store's clone opens the same file, which c10d removes once every rank's stores are gone.
     */
    private static GlooCommunicator join(Store store, Rendezvous rendezvous, Store tcpStore, String prefix) {
        ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create(
                new Milliseconds(rendezvous.timeout().toMillis()));
        options.devices(devices());
        ProcessGroupGloo group = new ProcessGroupGloo(store, rendezvous.rank(), rendezvous.worldSize(), options);
        group.retainReference();  // outlives the caller's scope: released by close()
        return new GlooCommunicator(group, rendezvous, tcpStore, prefix);
    }

    private static GlooDeviceVector devices() {
        String names = System.getenv("GLOO_SOCKET_IFNAME");
        if (names == null || names.isBlank()) {
            return new GlooDeviceVector(ProcessGroupGloo.createDefaultDevice());
        }
        GlooDeviceVector devices = new GlooDeviceVector();
        for (String name : names.split(",")) {
            Device device = ProcessGroupGloo.createDeviceForInterface(name.strip());
            devices.push_back(device);
        }
        return devices;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return worldSize;
    }

    @Override
    public void allToAll(Tensor output, Tensor input) {
        Collectives.checkAllToAll(output, input, worldSize);
        checkCpu("allToAll", output);
        checkCpu("allToAll", input);
        // empty split lists: equal chunks along dimension 0, chunk r to rank r
        run("allToAll", () -> group.alltoall_base(output, Collectives.overlap(output, input) ? input.clone() : input,
                new LongVector(), new LongVector()));
    }

    @Override
    public void allGather(Tensor output, Tensor input) {
        Collectives.checkAllGather(output, input, worldSize);
        checkCpu("allGather", output);
        checkCpu("allGather", input);
        run("allGather", () -> group._allgather_base(output, Collectives.overlap(output, input) ? input.clone()
                : input));
    }

    @Override
    public void broadcast(Tensor tensor, int root) {
        Collectives.checkBroadcast(tensor, root, worldSize);
        checkCpu("broadcast", tensor);
        run("broadcast", () -> group.broadcast(new TensorVector(tensor), new BroadcastOptions().rootRank(root)));
    }

    @Override
    public void allReduceSum(Tensor tensor) {
        Collectives.checkDense("allReduceSum", tensor);
        checkCpu("allReduceSum", tensor);
        run("allReduceSum", () -> group.allreduce(new TensorVector(tensor)));  // the default op is SUM
    }

    @Override
    public void barrier() {
        run("barrier", group::barrier);
    }

    /**
     * The colors of every rank are gathered first; a sub-group of one is {@link Communicator#single()}, a larger one
     * a new Gloo group with this group's timeout and network interfaces. Its ranks meet, with a file rendezvous, in
     * the file {@code F.split-S-color-C} beside this group's file {@code F} (S counts this group's splits; its last
     * rank removes it once the sub-group has formed), with a TCP rendezvous in rank 0's store under the key prefix
     * {@code split-S-color-C/} (a c10d {@code PrefixStore}), as {@code torch.distributed.new_group} does.
     */
    @Override
    public Communicator split(int color) {
        Collectives.checkColor(color);
        long[] colors;
        try (PointerScope scope = new PointerScope()) {
            Tensor all = Tensors.fromLongs(new long[worldSize], worldSize);
            allGather(all, Tensors.fromLongs(new long[]{color}, 1));
            colors = Tensors.toLongArray(all);
        }
        String name = "split-" + splits++ + "-color-" + color;
        int[] members = IntStream.range(0, worldSize).filter(r -> colors[r] == color).toArray();
        if (members.length == 1) {
            return Communicator.single();
        }
        int subRank = Arrays.binarySearch(members, rank);
        Duration timeout = Duration.ofMillis(timeoutMillis);
        try (PointerScope scope = new PointerScope()) {
            if (tcpStore == null) {
                Path file = rendezvous.file().resolveSibling(rendezvous.file().getFileName() + "." + name);
                Rendezvous sub = new Rendezvous(subRank, members.length, file, null, 0, timeout);
                return join(sub.openStore().clone(), sub, null, "");
            }
            Rendezvous sub = new Rendezvous(subRank, members.length, null, rendezvous.host(), rendezvous.port(),
                    timeout);
            String subPrefix = prefix + name + "/";
            // a counted handle on a new connection to rank 0's store (see join), under the sub-group's prefix
            Store store = new PrefixStore(subPrefix, tcpStore.clone()).clone();
            tcpStore.retainReference();  // the sub-group may split again: released by its close()
            try {
                return join(store, sub, tcpStore, subPrefix);
            } catch (RuntimeException e) {
                tcpStore.releaseReference();
                throw e;
            }
        } catch (RuntimeException e) {
            throw e instanceof CollectiveException ? e : new CollectiveException("rank " + rank + "/" + worldSize
                    + ": the Gloo sub-group of color " + color + " (ranks " + Arrays.toString(members)
                    + ") did not form within " + timeoutMillis / 1000.0 + " s: " + firstLine(e), e);
        }
    }

    /** Leaves the group; a collective still running on another rank then fails there. Closing again does nothing. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            group.releaseReference();  // waits at most the timeout for a transfer of a failed collective to give up
            if (tcpStore != null) {
                tcpStore.releaseReference();
            }
        }
    }

    private void run(String op, Supplier<Work> start) {
        if (closed) {
            throw new IllegalStateException(op + ": the communicator is closed");
        }
        if (broken != null) {
            throw new IllegalStateException(op + ": the communicator failed earlier (" + broken + ")");
        }
        try (PointerScope scope = new PointerScope()) {
            start.get()._wait(new Milliseconds(timeoutMillis));
        } catch (RuntimeException e) {
            broken = op + ": " + firstLine(e);
            throw new CollectiveException("rank " + rank + "/" + worldSize + ": " + op + " failed (a rank died, "
                    + "left or did not answer within " + timeoutMillis / 1000.0 + " s): " + firstLine(e), e);
        }
    }

    private static void checkCpu(String op, Tensor t) {
        if (!t.is_cpu()) {
            throw new IllegalArgumentException(op + ": the Gloo communicator takes CPU tensors, got "
                    + Collectives.describe(t));
        }
    }

    /** The first line of a native exception's message (c10 appends a C++ backtrace). */
    static String firstLine(RuntimeException e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m).strip();
    }
}
