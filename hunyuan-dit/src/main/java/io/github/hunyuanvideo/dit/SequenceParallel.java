package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.parallel.Communicator;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Ulysses sequence parallelism of the DiT over the N ranks of a {@link Communicator} (see {@code docs/dit.md},
 * "Sequence parallelism"). Rank r holds image tokens {@code [r·s, r·s + s)} with {@code s = ⌈L_img/N⌉} (the last
 * shards are zero-padded up to {@code N·s}) and every text token. Around each attention an all-to-all turns the
 * image shard of all heads, {@code [B, s, H, D]}, into all image tokens of the rank's {@code H/N} heads,
 * {@code [B, N·s, H/N, D]}, and the inverse all-to-all turns it back; the text needs no exchange (each rank takes its
 * heads of the replicated text, and an all-gather returns every rank's heads of the text output).
 *
 * <p>The layout steps are pure functions on tensors; the all-to-all of {@code seqToHead}/{@code headToSeq} sits
 * between {@code headChunks → tokensInOrder} and {@code tokenChunks → headsInOrder}.
 */
public final class SequenceParallel {
    private SequenceParallel() {
    }

    /**
     * Checks that {@code worldSize} ranks can split the attention heads of {@code cfg} evenly (before any weight
     * loads).
     *
     * @throws IllegalArgumentException naming the world sizes that work
     */
    public static void check(DitConfig cfg, int worldSize) {
        int heads = cfg.headsNum();
        if (worldSize < 1 || heads % worldSize != 0) {
            String sizes = IntStream.rangeClosed(1, heads).filter(n -> heads % n == 0).mapToObj(Integer::toString)
                    .collect(Collectors.joining(", "));
            throw new IllegalArgumentException("sequence parallelism over " + worldSize + " ranks: the number of "
                    + "ranks must divide the DiT's " + heads + " attention heads (one of " + sizes + ")");
        }
    }

    /** Tokens per rank: {@code ⌈len/n⌉}. */
    static long shardLength(long len, int n) {
        return (len + n - 1) / n;
    }

    /**
     * Rank {@code rank}'s shard of {@code x [B, L, …]} along dim 1: tokens {@code [rank·s, rank·s + s)}, zero rows past
     * L. A new contiguous tensor.
     */
    static Tensor shard(Tensor x, int rank, int n) {
        long len = x.size(1);
        long s = shardLength(len, n);
        long start = Math.min(rank * s, len);
        long real = Math.min(s, len - start);
        long[] shape = Tensors.shape(x);
        shape[1] = s;
        Tensor out = torch.zeros(shape, x.options());
        if (real > 0) {
            out.narrow(1, 0, real).copy_(x.narrow(1, start, real));
        }
        return out;
    }

    /** The all-gathered shards {@code [n, B, s, …]} as the sequence {@code [B, len, …]} (padding dropped). */
    static Tensor unshard(Tensor gathered, long len) {
        return tokensInOrder(gathered).narrow(1, 0, len);
    }

    /**
     * Seq→head, before the all-to-all: {@code x [B, s, H, D]} as {@code [n, B, s, H/n, D]}, chunk j holding the heads
     * of rank j. A new contiguous tensor.
     */
    static Tensor headChunks(Tensor x, int n) {
        long h = x.size(2) / n;
        return x.reshape(x.size(0), x.size(1), n, h, x.size(3)).permute(2, 0, 1, 3, 4).contiguous();
    }

    /** Seq→head, after the all-to-all: {@code [n, B, s, …]}, chunk j holding rank j's tokens, as {@code [B, n·s, …]}. */
    static Tensor tokensInOrder(Tensor received) {
        long[] shape = Tensors.shape(received);
        long[] out = Arrays.copyOfRange(shape, 1, shape.length);
        out[1] = shape[0] * shape[2];
        return received.movedim(0, 1).reshape(out);
    }

    /**
     * Head→seq, before the all-to-all: {@code y [B, n·s, h, D]} as {@code [n, B, s, h, D]}, chunk j holding rank j's
     * tokens. A new contiguous tensor.
     */
    static Tensor tokenChunks(Tensor y, int n) {
        long s = y.size(1) / n;
        return y.reshape(y.size(0), n, s, y.size(2), y.size(3)).permute(1, 0, 2, 3, 4).contiguous();
    }

    /** Head→seq, after the all-to-all: {@code [n, B, s, h, D]}, chunk j holding rank j's heads, as {@code [B, s, n·h, D]}. */
    static Tensor headsInOrder(Tensor received) {
        long n = received.size(0);
        return received.permute(1, 2, 0, 3, 4).reshape(received.size(1), received.size(2), n * received.size(3),
                received.size(4));
    }

    /** Rank {@code rank}'s heads of {@code x [B, L, H, D]} (a view). */
    static Tensor headSlice(Tensor x, int rank, int n) {
        long h = x.size(2) / n;
        return x.narrow(2, rank * h, h);
    }

    /** The image shard of every head {@code [B, s, H, D]} to every image token of this rank's heads {@code [B, n·s, H/n, D]}. */
    static Tensor seqToHead(Communicator c, Tensor x) {
        Tensor send = headChunks(x, c.worldSize());
        Tensor received = torch.empty_like(send);
        c.allToAll(received, send);
        return tokensInOrder(received);
    }

    /** The inverse of {@link #seqToHead}: {@code [B, n·s, h, D]} to this rank's tokens of every head {@code [B, s, n·h, D]}. */
    static Tensor headToSeq(Communicator c, Tensor y) {
        Tensor send = tokenChunks(y, c.worldSize());
        Tensor received = torch.empty_like(send);
        c.allToAll(received, send);
        return headsInOrder(received);
    }

    /** Every rank's heads {@code [B, L, h, D]} of the same tokens, joined in rank order: {@code [B, L, n·h, D]}. */
    static Tensor allHeads(Communicator c, Tensor part) {
        return headsInOrder(gather(c, part));
    }

    /** Every rank's token shard {@code [B, s, …]}, joined in rank order and cut to {@code len} tokens. */
    static Tensor allTokens(Communicator c, Tensor shard, long len) {
        return unshard(gather(c, shard), len);
    }

    /** {@code [n, …]}: every rank's {@code part}, in rank order. */
    private static Tensor gather(Communicator c, Tensor part) {
        long[] shape = Tensors.shape(part);
        long[] rows = shape.clone();
        rows[0] = c.worldSize() * shape[0];
        Tensor gathered = torch.empty(rows, part.options(), new MemoryFormatOptional());
        c.allGather(gathered, part.contiguous());
        long[] out = new long[shape.length + 1];
        out[0] = c.worldSize();
        System.arraycopy(shape, 0, out, 1, shape.length);
        return gathered.view(out);
    }
}
