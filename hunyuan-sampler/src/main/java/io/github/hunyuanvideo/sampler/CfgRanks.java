package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.parallel.Communicator;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The ranks of a group split in two for true classifier-free guidance (CFG parallelism): under true CFG the DiT has
 * two branches, unconditional and conditional, each a batch of its own. With N ranks, N even, ranks
 * {@code 0 … N/2 − 1} run the unconditional branch and ranks {@code N/2 … N − 1} the conditional one, each half
 * sharing its branch by sequence parallelism ({@link #branch()}); then every rank gets both branches' velocities from
 * its partner in the other half ({@link #bothBranches}: an all-gather among the pair {@code r} and {@code r + N/2}),
 * so that every rank combines them and steps the same latents as on one rank.
 *
 * <p>The rule ({@link #applies}): the ranks split when N is even and N/2 divides the DiT's attention heads (the
 * halves' sequence parallelism needs it; since N itself divides the heads, so does N/2). An odd N (3, say) runs both
 * branches as one batch of two over all N ranks, by sequence parallelism alone.
 */
final class CfgRanks implements AutoCloseable {
    private final Communicator branch;
    private final Communicator pair;
    private final boolean ownPair;
    private final int branchIndex;

    private CfgRanks(Communicator branch, Communicator pair, boolean ownPair, int branchIndex) {
        this.branch = branch;
        this.pair = pair;
        this.ownPair = ownPair;
        this.branchIndex = branchIndex;
    }

    /** Whether {@code worldSize} ranks split in two for true CFG with a DiT of {@code heads} attention heads. */
    static boolean applies(int worldSize, int heads) {
        return worldSize % 2 == 0 && heads % (worldSize / 2) == 0;
    }

    /**
     * Splits {@code group} ({@link #applies} must hold): two {@link Communicator#split}s, a collective of every rank
     * of the group.
     */
    static CfgRanks split(Communicator group) {
        int half = group.worldSize() / 2;
        int index = group.rank() / half;
        Communicator branch = group.split(index);
        if (half == 1) {
            return new CfgRanks(branch, group, false, index);  // the pair is the whole group
        }
        try {
            return new CfgRanks(branch, group.split(group.rank() % half), true, index);
        } catch (RuntimeException e) {
            branch.close();
            throw e;
        }
    }

    /** This rank's branch: 0 the unconditional (negative prompt), 1 the conditional one. */
    int branchIndex() {
        return branchIndex;
    }

    /** The ranks that share this rank's branch by sequence parallelism. */
    Communicator branch() {
        return branch;
    }

    /**
     * Both branches' velocities {@code [2·n, …]}, unconditional then conditional (the batch order of one rank), from
     * this rank's branch velocity {@code v [n, …]} and its partner's.
     */
    Tensor bothBranches(Tensor v) {
        long[] shape = Tensors.shape(v);
        shape[0] *= 2;
        Tensor both = torch.empty(shape, v.options(), new MemoryFormatOptional());
        pair.allGather(both, v.contiguous());
        return both;
    }

    /** Leaves the sub-groups (the group they were split from stays). */
    @Override
    public void close() {
        branch.close();
        if (ownPair) {
            pair.close();
        }
    }
}
