package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.parallel.Communicator;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The blocks' joint attention ({@link JointAttention#attend}) over this rank's tokens: its image shard followed by
 * the whole text. On one rank it is {@code JointAttention.attend} itself. On N ranks ({@link SequenceParallel}) the
 * image shard goes through the seq→head all-to-all and the rank takes its own heads of the replicated text, so the
 * attention sees the real image tokens of all ranks, then the text, for H/N heads: the sequence, the segments
 * ({@code valid}) and so the result of the one-rank attention. The zero-padded image tokens of the last shards are
 * left out of that sequence, so no real token ever sees them; their output rows are zeros. The image output goes back
 * through the head→seq all-to-all, the text output through an all-gather of every rank's heads.
 */
final class ShardedAttention {
    private final Communicator group;
    private final long[] valid;
    private final long imageTokens;
    private final JointAttention.Kernel kernel;

    /**
     * @param group       the ranks sharing the image tokens ({@link Communicator#single()}: no sharding)
     * @param valid       per sample, the first segment's length in the whole sequence (see {@link JointAttention})
     * @param imageTokens the real image tokens of all ranks together
     * @param kernel      the attention of the forward's backend
     */
    ShardedAttention(Communicator group, long[] valid, long imageTokens, JointAttention.Kernel kernel) {
        this.group = group;
        this.valid = valid;
        this.imageTokens = imageTokens;
        this.kernel = kernel;
    }

    /**
     * @param q {@code [B, s + Lt, H, D]}: this rank's image shard, then every text token
     * @param k like q
     * @param v like q
     * @return {@code [B, s + Lt, H·D]}, belonging to the caller's scope
     */
    Tensor attend(Tensor q, Tensor k, Tensor v) {
        if (group.worldSize() == 1) {
            return JointAttention.attend(q, k, v, valid, kernel);
        }
        return Scopes.scoped(() -> {
            long shard = SequenceParallel.shardLength(imageTokens, group.worldSize());
            long text = q.size(1) - shard;
            Tensor out = JointAttention.attend(wholeSequence(q, shard, text), wholeSequence(k, shard, text),
                    wholeSequence(v, shard, text), valid, kernel);
            long b = q.size(0);
            long h = q.size(2) / group.worldSize();
            Tensor heads = out.view(b, imageTokens + text, h, q.size(3));
            Tensor image = torch.zeros(new long[]{b, shard * group.worldSize(), h, q.size(3)}, heads.options());
            image.narrow(1, 0, imageTokens).copy_(heads.narrow(1, 0, imageTokens));
            Tensor joined = torch.cat(new TensorArrayRef(new TensorVector(SequenceParallel.headToSeq(group, image),
                    SequenceParallel.allHeads(group, heads.narrow(1, imageTokens, text)))), 1);
            return joined.view(b, shard + text, q.size(2) * q.size(3));
        });
    }

    /** {@code [B, L_img + Lt, H/N, D]}: every real image token, then the text, of this rank's heads. */
    private Tensor wholeSequence(Tensor x, long shard, long text) {
        Tensor image = SequenceParallel.seqToHead(group, x.narrow(1, 0, shard)).narrow(1, 0, imageTokens);
        Tensor txt = SequenceParallel.headSlice(x.narrow(1, shard, text), group.rank(), group.worldSize());
        return torch.cat(new TensorArrayRef(new TensorVector(image, txt)), 1);
    }
}
