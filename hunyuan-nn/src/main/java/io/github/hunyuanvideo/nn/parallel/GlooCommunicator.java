package io.github.hunyuanvideo.nn.parallel;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.LongVector;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.gloo.Device;

import java.util.function.Supplier;

/**
 * {@link Communicator} over libtorch's c10d {@code ProcessGroupGloo} for CPU tensors: TCP between the ranks' processes,
 * on one host or several. Every collective waits for its result at most the rendezvous timeout; Gloo enforces the
 * same limit on its own transfers, so a rank that died (its connections close: the others fail at once) or hangs
 * (the others fail after the timeout) never blocks the others for longer. Calls from one thread at a time.
 *
 * <p>The network interface is Gloo's default (the one the host name resolves to), or those named in the environment
 * variable {@code GLOO_SOCKET_IFNAME} (comma-separated), as in PyTorch.
 */
public final class GlooCommunicator implements Communicator {
    private final ProcessGroupGloo group;
    private final int rank;
    private final int worldSize;
    private final long timeoutMillis;
    private volatile String broken;
    private volatile boolean closed;

    private GlooCommunicator(ProcessGroupGloo group, int rank, int worldSize, long timeoutMillis) {
        this.group = group;
        this.rank = rank;
        this.worldSize = worldSize;
        this.timeoutMillis = timeoutMillis;
    }

    /**
     * Joins the Gloo group of {@code rendezvous} (also for a group of one), blocking until every rank has joined.
     *
     * @throws CollectiveException if the group is not complete within the timeout
     */
    public static GlooCommunicator connect(Rendezvous rendezvous) {
        long millis = rendezvous.timeout().toMillis();
        try (PointerScope scope = new PointerScope()) {
            Store store = rendezvous.openStore();
            // The group takes the store into an intrusive_ptr made from the raw pointer and deletes it with its last
            // reference, also when the constructor throws: Java must not delete it too.
            store.deallocate(false);
            ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create(new Milliseconds(millis));
            options.devices(devices());
            ProcessGroupGloo group = new ProcessGroupGloo(store, rendezvous.rank(), rendezvous.worldSize(), options);
            group.retainReference();  // outlives this scope (and any of the caller's): released by close()
            return new GlooCommunicator(group, rendezvous.rank(), rendezvous.worldSize(), millis);
        } catch (RuntimeException e) {
            throw e instanceof CollectiveException ? e : new CollectiveException("rank " + rendezvous.rank() + "/"
                    + rendezvous.worldSize() + ": the Gloo group at " + rendezvous.where() + " did not form within "
                    + rendezvous.timeout().toSeconds() + " s: " + firstLine(e), e);
        }
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

    /** Leaves the group; a collective still running on another rank then fails there. Closing again does nothing. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            group.releaseReference();  // waits at most the timeout for a transfer of a failed collective to give up
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
