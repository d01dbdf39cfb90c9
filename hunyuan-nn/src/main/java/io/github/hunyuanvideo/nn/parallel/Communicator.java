package io.github.hunyuanvideo.nn.parallel;

import org.bytedeco.pytorch.Tensor;

/**
 * Collective operations among the ranks (one process per device) that render one video together. Every rank calls
 * the same operations in the same order with tensors of the same shapes and dtypes; tensors are contiguous and on
 * the rank's device (CPU tensors for the Gloo implementation, CUDA tensors for NCCL). An operation returns when its
 * result is ready to be read by later torch work on the rank's current stream. A rank that fails or stops answering
 * ends the others' pending operations with a {@link CollectiveException} once the collective timeout has passed:
 * never a hang. Bad arguments (shapes, dtypes, devices, strided tensors) throw {@link IllegalArgumentException} before
 * anything is sent.
 *
 * <p>A process joins its group with {@link Rendezvous#connect}: {@link GlooCommunicator} for CPU tensors,
 * {@link NcclCommunicator} for CUDA tensors, {@link #single()} for a group of one.
 */
public interface Communicator extends AutoCloseable {
    /** This process's rank, {@code 0 ≤ rank < worldSize}; rank 0 encodes the prompt, writes and reports. */
    int rank();

    /** The number of ranks. */
    int worldSize();

    /**
     * All-to-all with equal splits along dimension 0: {@code input} is {@code [W·n, …]}; its chunk {@code r} (rows
     * {@code r·n … r·n+n−1}) goes to rank {@code r}, and chunk {@code r} of {@code output} (same shape) is what rank
     * {@code r} sent to this rank.
     */
    void allToAll(Tensor output, Tensor input);

    /** {@code output} {@code [W·n, …]} receives every rank's {@code input} {@code [n, …]}, in rank order. */
    void allGather(Tensor output, Tensor input);

    /** Copies {@code tensor} of rank {@code root} into {@code tensor} of every other rank. */
    void broadcast(Tensor tensor, int root);

    /** Replaces {@code tensor} on every rank by the element-wise sum over the ranks. */
    void allReduceSum(Tensor tensor);

    /** Returns once every rank has called it. */
    void barrier();

    /**
     * Splits this group into sub-groups by {@code color}: the ranks that pass the same color form one new group, in
     * which their order is their order here (rank {@code i} of the new group is the {@code i}-th smallest rank of
     * that color). A collective: every rank calls it, in the same order relative to the other operations, each with
     * the color of the group it joins. Blocks until this rank's new group has formed. The new group is independent
     * of this one: its operations run only among its ranks (different sub-groups may run theirs at the same time),
     * and it is closed on its own ({@link #close()} of either leaves the other usable). A group of one rank may be
     * {@link #single()}.
     *
     * @param color the sub-group to join, {@code >= 0}
     * @return this rank's new group
     * @throws IllegalArgumentException for a negative color (before anything is sent)
     * @throws CollectiveException if the sub-group does not form within the timeout
     */
    Communicator split(int color);

    /** Leaves the group; the communicator is unusable afterwards. */
    @Override
    void close();

    /** The group of one: every collective is a local copy (or nothing). */
    static Communicator single() {
        return SingleRank.INSTANCE;
    }
}
