package io.github.hunyuanvideo.nn.parallel;

import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.cuda.nccl.ncclConfig_t;
import org.bytedeco.cuda.nccl.ncclUniqueId;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.ByteVector;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch_cuda;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.ToIntFunction;

import static org.bytedeco.cuda.global.cudart.cudaErrorNotReady;
import static org.bytedeco.cuda.global.cudart.cudaEventCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventDisableTiming;
import static org.bytedeco.cuda.global.cudart.cudaEventQuery;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;
import static org.bytedeco.cuda.global.nccl.NCCL_API_MAGIC;
import static org.bytedeco.cuda.global.nccl.NCCL_UNIQUE_ID_BYTES;
import static org.bytedeco.cuda.global.nccl.NCCL_VERSION_CODE;
import static org.bytedeco.cuda.global.nccl.ncclAllGather;
import static org.bytedeco.cuda.global.nccl.ncclAllReduce;
import static org.bytedeco.cuda.global.nccl.ncclBfloat16;
import static org.bytedeco.cuda.global.nccl.ncclBroadcast;
import static org.bytedeco.cuda.global.nccl.ncclCommAbort;
import static org.bytedeco.cuda.global.nccl.ncclCommCount;
import static org.bytedeco.cuda.global.nccl.ncclCommDestroy;
import static org.bytedeco.cuda.global.nccl.ncclCommFinalize;
import static org.bytedeco.cuda.global.nccl.ncclCommGetAsyncError;
import static org.bytedeco.cuda.global.nccl.ncclCommInitRankConfig;
import static org.bytedeco.cuda.global.nccl.ncclCommSplit;
import static org.bytedeco.cuda.global.nccl.ncclCommUserRank;
import static org.bytedeco.cuda.global.nccl.ncclFloat16;
import static org.bytedeco.cuda.global.nccl.ncclFloat32;
import static org.bytedeco.cuda.global.nccl.ncclFloat64;
import static org.bytedeco.cuda.global.nccl.ncclGetErrorString;
import static org.bytedeco.cuda.global.nccl.ncclGetLastError;
import static org.bytedeco.cuda.global.nccl.ncclGetUniqueId;
import static org.bytedeco.cuda.global.nccl.ncclGroupEnd;
import static org.bytedeco.cuda.global.nccl.ncclGroupStart;
import static org.bytedeco.cuda.global.nccl.ncclInProgress;
import static org.bytedeco.cuda.global.nccl.ncclInvalidUsage;
import static org.bytedeco.cuda.global.nccl.ncclInt32;
import static org.bytedeco.cuda.global.nccl.ncclInt64;
import static org.bytedeco.cuda.global.nccl.ncclInt8;
import static org.bytedeco.cuda.global.nccl.ncclRecv;
import static org.bytedeco.cuda.global.nccl.ncclSend;
import static org.bytedeco.cuda.global.nccl.ncclSuccess;
import static org.bytedeco.cuda.global.nccl.ncclSum;
import static org.bytedeco.cuda.global.nccl.ncclUint8;

/**
 * {@link Communicator} over NCCL's C API (Bytedeco's CUDA presets) for CUDA tensors of one device per rank, queued
 * on libtorch's current stream of that device, so that they are ordered with the torch work around them. libtorch's
 * own c10d NCCL group is not used: its Bytedeco glue does not run against every libtorch build.
 *
 * <p>Never a hang: the NCCL communicator is non-blocking ({@code blocking = 0}); every operation waits for its
 * result on the host, polling the stream's progress and {@code ncclCommGetAsyncError}, for at most the rendezvous
 * timeout, after which (or on an error another rank caused) it calls {@code ncclCommAbort}, which ends the queued
 * NCCL kernels, and throws {@link CollectiveException}. Waiting on the host costs the overlap of the next kernels'
 * launches with the transfer; the transfers are on the critical path of sequence parallelism anyway.
 *
 * <p>Rank 0 makes the NCCL unique id and hands it to the others through the rendezvous's c10d store; a group of one
 * needs no store at all, nor does a sub-group ({@link #split}: {@code ncclCommSplit}). NCCL allows one rank per
 * GPU: two ranks on one device fail to join ("invalid usage"). Calls from one thread at a time.
 */
public final class NcclCommunicator implements Communicator {
    private static final String UNIQUE_ID_KEY = "hunyuan-video/nccl-unique-id";
    /** NCCL_CONFIG_UNDEF_INT: "NCCL decides", the value of every unset field in NCCL_CONFIG_INITIALIZER. */
    private static final int UNDEF = Integer.MIN_VALUE;
    private static final long POLL_NANOS = 20_000;

    private final ncclComm comm;
    private final int rank;
    private final int worldSize;
    private final int device;
    private final long timeoutNanos;
    /** The rendezvous store, kept open while the group lives (rank 0 serves a TCP store); null for a group of one. */
    private final Store store;
    /** Recorded after each operation on the stream: its completion is the operation's. */
    private final CUevent_st done;
    /** The one element that {@link #barrier()} sums. */
    private final Tensor token;
    private volatile String broken;
    private volatile boolean closed;

    private NcclCommunicator(ncclComm comm, int rank, int worldSize, int device, long timeoutNanos, Store store,
                             CUevent_st done, Tensor token) {
        this.comm = comm;
        this.rank = rank;
        this.worldSize = worldSize;
        this.device = device;
        this.timeoutNanos = timeoutNanos;
        this.store = store;
        this.done = done;
        this.token = token;
    }

    /**
     * Joins the NCCL group of {@code rendezvous} on CUDA device {@code device} (also for a group of one, which needs
     * no store), blocking until every rank has joined.
     *
     * @throws CollectiveException if the group does not form within the timeout, or NCCL refuses it
     */
    public static NcclCommunicator connect(Rendezvous rendezvous, int device) {
        String who = "rank " + rendezvous.rank() + "/" + rendezvous.worldSize();
        long timeoutNanos = rendezvous.timeout().toNanos();
        try (PointerScope scope = new PointerScope()) {
            cuda(cudaSetDevice(device), "cudaSetDevice(" + device + ")");  // NCCL binds the communicator to it
            Store store = rendezvous.worldSize() == 1 ? null : rendezvous.openStore();
            try {
                ncclComm comm = new ncclComm();
                ncclUniqueId id = uniqueId(rendezvous, store);
                long deadline = System.nanoTime() + timeoutNanos;
                int rc = settle(comm, ncclCommInitRankConfig(comm, rendezvous.worldSize(), id, rendezvous.rank(),
                        nonBlocking()), deadline);
                if (rc != ncclSuccess) {
                    String why = rc == ncclInProgress ? "did not form within " + rendezvous.timeout().toSeconds()
                            + " s" : "was refused: " + describe(comm, rc);
                    ncclCommAbort(comm);
                    throw new CollectiveException(who + ": the NCCL group on cuda:" + device + " at "
                            + rendezvous.where() + " " + why, null);
                }
                if (store != null) {
                    store.retainReference();  // outlives this scope (and any of the caller's): released by close()
                }
                return joined(comm, rendezvous.rank(), rendezvous.worldSize(), device, timeoutNanos, store);
            } catch (RuntimeException e) {
                if (store != null) {
                    store.close();
                }
                throw e;
            }
        } catch (RuntimeException e) {
            throw e instanceof CollectiveException ? e : new CollectiveException(who + ": cannot join the NCCL "
                    + "group at " + rendezvous.where() + ": " + GlooCommunicator.firstLine(e), e);
        }
    }

    /**
     * The communicator over the NCCL communicator {@code comm}, which has formed, with its own completion event and
     * barrier element. The caller holds a {@link PointerScope}; {@code store} (or null) is retained already.
     */
    private static NcclCommunicator joined(ncclComm comm, int rank, int worldSize, int device, long timeoutNanos,
                                           Store store) {
        CUevent_st done = new CUevent_st();
        cuda(cudaEventCreateWithFlags(done, cudaEventDisableTiming), "cudaEventCreateWithFlags");
        Tensor token = torch.zeros(new long[]{1}, new TensorOptions(new Device("cuda:" + device))
                .dtype(new ScalarTypeOptional(torch.ScalarType.Float)));
        token.retainReference();  // outlives the caller's scope: released by close()
        return new NcclCommunicator(comm, rank, worldSize, device, timeoutNanos, store, done, token);
    }

    /** Rank 0 makes the id and publishes it; the others wait for it in the store (at most the store's timeout). */
    private static ncclUniqueId uniqueId(Rendezvous rendezvous, Store store) {
        ncclUniqueId id = new ncclUniqueId();
        if (store == null || rendezvous.rank() == 0) {
            nccl(ncclGetUniqueId(id), "ncclGetUniqueId");
            if (store != null) {
                byte[] bytes = new byte[NCCL_UNIQUE_ID_BYTES];
                id.internal().get(bytes);
                store.set(UNIQUE_ID_KEY, new ByteVector(bytes));
            }
        } else {
            try (ByteVector published = store.get(UNIQUE_ID_KEY)) {
                id.internal().put(published.get());
            }
        }
        return id;
    }

    /** NCCL_CONFIG_INITIALIZER (a C macro, absent from the presets) with {@code blocking = 0}. */
    private static ncclConfig_t nonBlocking() {
        ncclConfig_t c = new ncclConfig_t();
        c.size(Loader.sizeof(ncclConfig_t.class)).magic(NCCL_API_MAGIC).version(NCCL_VERSION_CODE);
        c.blocking(0).cgaClusterSize(UNDEF).minCTAs(UNDEF).maxCTAs(UNDEF).netName(null).splitShare(UNDEF)
                .trafficClass(UNDEF).commName(null).collnetEnable(UNDEF).CTAPolicy(UNDEF).shrinkShare(UNDEF)
                .nvlsCTAs(UNDEF).nChannelsPerNetPeer(UNDEF).nvlinkCentricSched(UNDEF).graphUsageMode(UNDEF)
                .numRmaCtx(UNDEF);
        return c;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return worldSize;
    }

    /** Grouped sends and receives, one pair per rank (ncclAlltoAll is newer than some NCCL 2.28 builds). */
    @Override
    public void allToAll(Tensor output, Tensor input) {
        Collectives.checkAllToAll(output, input, worldSize);
        checkDevice("allToAll", output);
        checkDevice("allToAll", input);
        try (PointerScope scope = new PointerScope()) {
            Tensor source = Collectives.overlap(output, input) ? input.clone() : input;
            long count = input.numel() / worldSize;
            long chunkBytes = count * input.element_size();
            int type = type("allToAll", input);
            run("allToAll", stream -> {
                int rc = ncclGroupStart();
                for (int peer = 0; peer < worldSize && rc == ncclSuccess; peer++) {
                    rc = ncclSend(at(source, peer * chunkBytes), count, type, peer, comm, stream);
                    if (rc == ncclSuccess) {
                        rc = ncclRecv(at(output, peer * chunkBytes), count, type, peer, comm, stream);
                    }
                }
                int end = ncclGroupEnd();  // also after a failed call, so that the group is closed
                return rc != ncclSuccess ? rc : end;
            });
        }
    }

    @Override
    public void allGather(Tensor output, Tensor input) {
        Collectives.checkAllGather(output, input, worldSize);
        checkDevice("allGather", output);
        checkDevice("allGather", input);
        try (PointerScope scope = new PointerScope()) {
            Tensor source = Collectives.overlap(output, input) ? input.clone() : input;
            int type = type("allGather", input);
            run("allGather", stream -> ncclAllGather(source.data_ptr(), output.data_ptr(), input.numel(), type, comm,
                    stream));
        }
    }

    @Override
    public void broadcast(Tensor tensor, int root) {
        Collectives.checkBroadcast(tensor, root, worldSize);
        checkDevice("broadcast", tensor);
        int type = type("broadcast", tensor);
        run("broadcast", stream -> ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(), type, root,
                comm, stream));
    }

    @Override
    public void allReduceSum(Tensor tensor) {
        Collectives.checkDense("allReduceSum", tensor);
        checkDevice("allReduceSum", tensor);
        int type = type("allReduceSum", tensor);
        run("allReduceSum", stream -> ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(), type,
                ncclSum, comm, stream));
    }

    /** A one-element sum over the ranks: it completes once every rank has queued it. */
    @Override
    public void barrier() {
        run("barrier", stream -> ncclAllReduce(token.data_ptr(), token.data_ptr(), 1, ncclFloat32, ncclSum, comm,
                stream));
    }

    /**
     * {@code ncclCommSplit} with the rank here as the key (so the sub-group keeps this order), non-blocking like this
     * communicator and with the same timeout; NCCL exchanges the colors itself. The new communicator shares no
     * resources with this one ({@code splitShare} is NCCL's default, off), so either may be closed first. A failed or
     * late split aborts the new communicator and leaves this one usable.
     */
    @Override
    public Communicator split(int color) {
        Collectives.checkColor(color);
        if (closed) {
            throw new IllegalStateException("split: the communicator is closed");
        }
        if (broken != null) {
            throw new IllegalStateException("split: the communicator failed earlier (" + broken + ")");
        }
        String who = "rank " + rank + "/" + worldSize;
        try (PointerScope scope = new PointerScope()) {
            cuda(cudaSetDevice(device), "cudaSetDevice(" + device + ")");
            long deadline = System.nanoTime() + timeoutNanos;
            // The parent's last non-blocking call (a grouped collective) must be complete: NCCL refuses a split before
            // ("attempt to use communicator before the previous operation returned ncclSuccess").
            int rc = settle(comm, ncclInProgress, deadline);
            // NCCL may fill the new handle after a non-blocking split returns: into native memory that stays, not into
            // a handle JavaCPP copies back when the call returns.
            PointerPointer<ncclComm> handle = new PointerPointer<>(1);
            if (rc == ncclSuccess) {
                rc = ncclCommSplit(comm, color, rank, handle, nonBlocking());
            }
            if (rc == ncclSuccess || rc == ncclInProgress) {
                rc = settle(comm, ncclInProgress, deadline);  // the parent's part of the split
            }
            ncclComm child = handle.get(0) == null ? new ncclComm() : new ncclComm(handle.get(0));
            if (rc == ncclSuccess && child.isNull()) {
                rc = ncclInvalidUsage;
            } else if (rc == ncclSuccess) {
                rc = settle(child, ncclInProgress, deadline);  // the child itself may still be forming
            }
            if (rc != ncclSuccess) {
                String why = rc == ncclInProgress ? "did not form within "
                        + Duration.ofNanos(timeoutNanos).toSeconds() + " s" : "was refused: " + describe(comm, rc);
                if (!child.isNull()) {
                    ncclCommAbort(child);
                }
                throw new CollectiveException(who + ": the NCCL sub-group of color " + color + " on cuda:" + device
                        + " " + why, null);
            }
            int[] size = new int[1];
            int[] subRank = new int[1];
            nccl(ncclCommCount(child, size), "ncclCommCount");
            nccl(ncclCommUserRank(child, subRank), "ncclCommUserRank");
            return joined(child, subRank[0], size[0], device, timeoutNanos, null);
        } catch (RuntimeException e) {
            throw e instanceof CollectiveException ? e : new CollectiveException(who + ": cannot form the NCCL "
                    + "sub-group of color " + color + ": " + GlooCommunicator.firstLine(e), e);
        }
    }

    /**
     * Leaves the group: a healthy communicator is finalized (waiting at most the timeout for its last transfers)
     * and destroyed, a failed one was aborted already. Closing again does nothing.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (broken == null) {
                cuda(cudaSetDevice(device), "cudaSetDevice(" + device + ")");
                int rc = settle(comm, ncclCommFinalize(comm), System.nanoTime() + timeoutNanos);
                if (rc == ncclSuccess) {
                    ncclCommDestroy(comm);
                } else {
                    ncclCommAbort(comm);
                }
            }
            cudaEventDestroy(done);
            token.releaseReference();
        } finally {
            if (store != null) {
                store.releaseReference();
            }
        }
    }

    /**
     * Queues {@code op} on the current stream of the device and waits for it; on a timeout or an asynchronous NCCL
     * error the communicator is aborted and a {@link CollectiveException} thrown.
     */
    private void run(String op, ToIntFunction<CUstream_st> enqueue) {
        if (closed) {
            throw new IllegalStateException(op + ": the communicator is closed");
        }
        if (broken != null) {
            throw new IllegalStateException(op + ": the communicator failed earlier (" + broken + ")");
        }
        long deadline = System.nanoTime() + timeoutNanos;
        cuda(cudaSetDevice(device), "cudaSetDevice(" + device + ")");
        try (PointerScope scope = new PointerScope()) {
            CUstream_st stream = torch_cuda.getCurrentCUDAStream((byte) device).asCUstream_st();
            int rc = settle(comm, enqueue.applyAsInt(stream), deadline);
            if (rc == ncclSuccess) {
                cuda(cudaEventRecord(done, stream), "cudaEventRecord");
                rc = awaitEvent(deadline);
            }
            if (rc != ncclSuccess) {
                fail(op, rc);
            }
        }
    }

    /** Polls the event of the last operation and the communicator's error state until one of them decides. */
    private int awaitEvent(long deadline) {
        try (IntPointer state = new IntPointer(1)) {
            while (true) {
                int q = cudaEventQuery(done);
                if (q == cudaSuccess) {
                    return ncclSuccess;
                }
                if (q != cudaErrorNotReady) {
                    throw new IllegalStateException("cudaEventQuery: CUDA error " + q + " ("
                            + cudaGetErrorString(q).getString() + ")");
                }
                int rc = ncclCommGetAsyncError(comm, state);
                if (rc != ncclSuccess) {
                    return rc;
                }
                if (state.get() != ncclSuccess && state.get() != ncclInProgress) {
                    return state.get();
                }
                if (System.nanoTime() - deadline > 0) {
                    return ncclInProgress;
                }
                LockSupport.parkNanos(POLL_NANOS);
            }
        }
    }

    /**
     * The outcome of a call on the non-blocking communicator: {@code ncclInProgress} is waited out (the async error
     * state decides); still in progress at {@code deadline} returns {@code ncclInProgress}.
     */
    private static int settle(ncclComm comm, int rc, long deadline) {
        try (IntPointer state = new IntPointer(1)) {
            while (rc == ncclInProgress) {
                if (System.nanoTime() - deadline > 0) {
                    return ncclInProgress;
                }
                LockSupport.parkNanos(POLL_NANOS);
                int q = ncclCommGetAsyncError(comm, state);
                rc = q != ncclSuccess ? q : state.get();
            }
            return rc;
        }
    }

    private void fail(String op, int rc) {
        String why = rc == ncclInProgress ? "no answer within " + Duration.ofNanos(timeoutNanos).toSeconds() + " s"
                : describe(comm, rc);
        broken = op + ": " + why;
        ncclCommAbort(comm);  // ends the kernels still waiting for a peer, so the stream moves on
        throw new CollectiveException("rank " + rank + "/" + worldSize + ": " + op + " failed on cuda:" + device
                + " (a rank died, left or did not answer): " + why + "; the communicator was aborted", null);
    }

    private static String describe(ncclComm comm, int rc) {
        BytePointer last = ncclGetLastError(comm);
        String detail = last == null || last.isNull() ? "" : last.getString();
        return "NCCL error " + rc + " (" + ncclGetErrorString(rc).getString() + ")"
                + (detail.isBlank() ? "" : ": " + detail.strip());
    }

    private void checkDevice(String op, Tensor t) {
        if (!t.is_cuda() || t.device().index() != device) {
            throw new IllegalArgumentException(op + ": the NCCL communicator of cuda:" + device + " takes tensors on "
                    + "that device, got " + Collectives.describe(t));
        }
    }

    /** The NCCL type of the tensor's dtype; a bool is moved as its bytes. */
    private static int type(String op, Tensor t) {
        return switch (t.scalar_type().intern()) {  // intern(): the native call returns a copy of the constant
            case Float -> ncclFloat32;
            case Half -> ncclFloat16;
            case BFloat16 -> ncclBfloat16;
            case Double -> ncclFloat64;
            case Int -> ncclInt32;
            case Long -> ncclInt64;
            case Char -> ncclInt8;
            case Byte, Bool -> ncclUint8;
            default -> throw new IllegalArgumentException(op + ": NCCL has no type for " + t.scalar_type());
        };
    }

    /** The address {@code offset} bytes into the tensor's data. */
    private static BytePointer at(Tensor t, long offset) {
        return new BytePointer(t.data_ptr()).position(offset);
    }

    private static void nccl(int rc, String call) {
        if (rc != ncclSuccess) {
            throw new IllegalStateException(call + ": NCCL error " + rc + " (" + ncclGetErrorString(rc).getString()
                    + ")");
        }
    }

    private static void cuda(int rc, String call) {
        if (rc != cudaSuccess) {
            throw new IllegalStateException(call + ": CUDA error " + rc + " (" + cudaGetErrorString(rc).getString()
                    + ")");
        }
    }
}
