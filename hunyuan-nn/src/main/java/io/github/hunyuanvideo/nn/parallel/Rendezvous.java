package io.github.hunyuanvideo.nn.parallel;

import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.FileStore;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Where and how the ranks of one group meet: this process's rank, the world size, the meeting point (a c10d store)
 * and the collective timeout. The meeting point is either a file every rank can reach ({@link #file}: one host, or a
 * shared file system; torch's {@code file://} init method) or rank 0's TCP store at a host and port ({@link #tcp}:
 * several hosts; torchrun's {@code MASTER_ADDR}/{@code MASTER_PORT}); a group of one needs neither ({@link #alone}).
 *
 * @param rank      this process's rank, {@code 0 ≤ rank < worldSize}
 * @param worldSize the number of ranks, ≥ 1
 * @param file      the store file, or null for a TCP store (or none)
 * @param host      rank 0's host name or address for a TCP store, or null
 * @param port      rank 0's TCP store port (1 to 65535), or 0 with no TCP store
 * @param timeout   the longest wait for the other ranks: joining the group and every collective; positive
 */
public record Rendezvous(int rank, int worldSize, Path file, String host, int port, Duration timeout) {
    /** The collective timeout unless told otherwise: long enough for a rank still loading its model. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

    /** Validates the fields; the messages name the field. */
    public Rendezvous {
        Objects.requireNonNull(timeout, "timeout");
        if (worldSize < 1) {
            throw new IllegalArgumentException("worldSize: must be >= 1, got " + worldSize);
        }
        if (rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank: must be in [0, " + worldSize + "), got " + rank);
        }
        if (file != null && host != null) {
            throw new IllegalArgumentException("file: a rendezvous is a file or a host and port, not both");
        }
        if (host != null ? port < 1 || port > 65535 : port != 0) {
            throw new IllegalArgumentException("port: must be in [1, 65535] with a host (0 without), got " + port);
        }
        if (worldSize > 1 && file == null && host == null) {
            throw new IllegalArgumentException("file: a group of " + worldSize + " needs a file or a host and port");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout: must be positive, got " + timeout);
        }
    }

    /** The ranks meet through the c10d {@code FileStore} {@code file}, which must not exist before the group starts. */
    public static Rendezvous file(Path file, int rank, int worldSize) {
        return new Rendezvous(rank, worldSize, Objects.requireNonNull(file, "file"), null, 0, DEFAULT_TIMEOUT);
    }

    /** The ranks meet at the c10d {@code TCPStore} that rank 0 serves on {@code port} of {@code host}. */
    public static Rendezvous tcp(String host, int port, int rank, int worldSize) {
        return new Rendezvous(rank, worldSize, null, Objects.requireNonNull(host, "host"), port, DEFAULT_TIMEOUT);
    }

    /** Rank 0 of a group of one: nobody to meet. */
    public static Rendezvous alone() {
        return new Rendezvous(0, 1, null, null, 0, DEFAULT_TIMEOUT);
    }

    /** This rendezvous with another collective timeout. */
    public Rendezvous withTimeout(Duration timeout) {
        return new Rendezvous(rank, worldSize, file, host, port, timeout);
    }

    /**
     * Joins the group on {@code device}: {@link Communicator#single()} for a group of one, else NCCL
     * ({@link NcclCommunicator}) for a CUDA device with an index and Gloo ({@link GlooCommunicator}) for the CPU.
     * Blocks until every rank has joined.
     *
     * @throws CollectiveException if the other ranks do not all join within the timeout
     * @throws IllegalArgumentException for a CUDA device without an index, or another device type
     */
    public Communicator connect(Device device) {
        if (worldSize == 1) {
            return Communicator.single();
        }
        if (device.is_cuda()) {
            if (!device.has_index()) {
                throw new IllegalArgumentException("device: a rank needs a CUDA device with an index (cuda:N), got "
                        + device.str().getString());
            }
            return NcclCommunicator.connect(this, device.index());
        }
        if (device.is_cpu()) {
            return GlooCommunicator.connect(this);
        }
        throw new IllegalArgumentException("device: collectives run on CPU or CUDA devices, got "
                + device.str().getString());
    }

    /** Where the ranks meet, for messages. */
    String where() {
        return file != null ? "file " + file : host != null ? host + ":" + port : "nowhere (a group of one)";
    }

    /**
     * Opens the c10d store (rank 0 serves the TCP one) with the timeout as its wait limit. The caller owns it.
     *
     * @throws CollectiveException if it cannot be opened (TCP: rank 0 not reachable within the timeout)
     */
    Store openStore() {
        Milliseconds limit = new Milliseconds(timeout.toMillis());
        Store store;
        try {
            if (file != null) {
                store = new FileStore(file.toString(), worldSize);
            } else {
                TCPStoreOptions options = new TCPStoreOptions();
                options.port((short) port);  // uint16_t in C++: the bits of a port above 32767 pass unchanged
                options.isServer(rank == 0);
                options.waitWorkers(false);
                options.timeout(limit);
                store = new TCPStore(host, options);
            }
        } catch (RuntimeException e) {
            throw new CollectiveException("rank " + rank + "/" + worldSize + ": cannot open the rendezvous at "
                    + where() + ": " + e.getMessage(), e);
        }
        store.setTimeout(limit);
        return store;
    }
}
