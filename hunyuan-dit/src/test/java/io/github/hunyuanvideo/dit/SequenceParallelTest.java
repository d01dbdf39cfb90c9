package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.parallel.ThreadGroupCommunicator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Ulysses layout steps of {@link SequenceParallel} (pure functions, with the all-to-all simulated by hand), the
 * same steps through a real exchange among threads, and {@link ShardedAttention} against the one-rank
 * {@link JointAttention}, over world sizes and token counts that do and do not divide.
 */
class SequenceParallelTest {
    private static final long B = 2;
    private static final long H = 12;
    private static final long D = 4;

    static Stream<Arguments> sizes() {
        List<Arguments> all = new ArrayList<>();
        for (int n : new int[]{1, 2, 3, 4}) {
            for (long len : new long[]{1, 5, 7, 12, 13}) {
                all.add(Arguments.of(n, len));
            }
        }
        return all.stream();
    }

    private static Tensor cat(int dim, Tensor... parts) {
        return torch.cat(new TensorArrayRef(new TensorVector(parts)), dim);
    }

    private static void assertSame(Tensor expected, Tensor actual) {
        assertArrayEquals(Tensors.shape(expected), Tensors.shape(actual));
        assertArrayEquals(Tensors.toFloatArray(expected.contiguous()), Tensors.toFloatArray(actual.contiguous()));
    }

    /** What the ranks' {@code send} tensors {@code [n, …]} become after an all-to-all: rank r gets chunk r of each. */
    private static List<Tensor> allToAll(List<Tensor> send) {
        List<Tensor> received = new ArrayList<>();
        for (int r = 0; r < send.size(); r++) {
            Tensor[] chunks = new Tensor[send.size()];
            for (int j = 0; j < send.size(); j++) {
                chunks[j] = send.get(j).narrow(0, r, 1);
            }
            received.add(cat(0, chunks));
        }
        return received;
    }

    @ParameterizedTest(name = "N={0}, L={1}")
    @MethodSource("sizes")
    void shardsCoverTheSequenceOnceAndUnshardRestoresIt(int n, long len) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(len);
            Tensor x = torch.randn(new long[]{B, len, 5});
            long s = SequenceParallel.shardLength(len, n);
            assertTrue(s * n >= len && s * n - len < n);
            Tensor[] shards = new Tensor[n];
            for (int r = 0; r < n; r++) {
                shards[r] = SequenceParallel.shard(x, r, n);
                assertArrayEquals(new long[]{B, s, 5}, Tensors.shape(shards[r]));
                long real = Math.max(0, Math.min(s, len - r * s));
                assertEquals(0, shards[r].narrow(1, real, s - real).abs().sum().item_double(), "padding of rank " + r);
            }
            assertSame(x, SequenceParallel.unshard(torch.stack(new TensorArrayRef(new TensorVector(shards)), 0), len));
        }
    }

    @ParameterizedTest(name = "N={0}, L={1}")
    @MethodSource("sizes")
    void seqToHeadGivesEveryTokenOfTheRanksHeadsAndHeadToSeqUndoesIt(int n, long len) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(100 + len);
            Tensor x = torch.randn(new long[]{B, len, H, D});
            List<Tensor> send = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                send.add(SequenceParallel.headChunks(SequenceParallel.shard(x, r, n), n));
            }
            List<Tensor> heads = new ArrayList<>();
            for (Tensor received : allToAll(send)) {
                heads.add(SequenceParallel.tokensInOrder(received));
            }
            List<Tensor> back = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                // every image token of rank r's heads, as one rank holding the whole sequence would slice them
                assertSame(SequenceParallel.headSlice(x, r, n), heads.get(r).narrow(1, 0, len));
                back.add(SequenceParallel.tokenChunks(heads.get(r), n));
            }
            List<Tensor> returned = allToAll(back);
            for (int r = 0; r < n; r++) {
                assertSame(SequenceParallel.shard(x, r, n), SequenceParallel.headsInOrder(returned.get(r)));
            }
        }
    }

    @ParameterizedTest(name = "N={0}, L={1}")
    @MethodSource("sizes")
    void theExchangesAmongThreadsMatchTheOneRankLayout(int n, long len) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(200 + len);
            Tensor x = torch.randn(new long[]{B, len, H, D});
            Tensor features = torch.randn(new long[]{B, len, 3});
            List<Tensor> out = ThreadGroupCommunicator.run(n, c -> {
                Tensor heads = SequenceParallel.seqToHead(c, SequenceParallel.shard(x, c.rank(), n));
                Tensor back = SequenceParallel.headToSeq(c, heads);
                Tensor allHeads = SequenceParallel.allHeads(c, SequenceParallel.headSlice(x, c.rank(), n));
                Tensor allTokens = SequenceParallel.allTokens(c, SequenceParallel.shard(features, c.rank(), n), len);
                return cat(1, heads.narrow(1, 0, len).flatten(1, -1), back.flatten(1, -1), allHeads.flatten(1, -1),
                        allTokens.flatten(1, -1));
            });
            for (int r = 0; r < n; r++) {
                assertSame(cat(1, SequenceParallel.headSlice(x, r, n).flatten(1, -1),
                        SequenceParallel.shard(x, r, n).flatten(1, -1), x.flatten(1, -1), features.flatten(1, -1)), out.get(r));
            }
        }
    }

    static Stream<Arguments> attentionCases() {
        return Stream.of(Arguments.of(2, 7L), Arguments.of(3, 7L), Arguments.of(3, 12L), Arguments.of(4, 5L),
                Arguments.of(2, 1L));
    }

    @ParameterizedTest(name = "N={0}, L_img={1}")
    @MethodSource("attentionCases")
    void shardedAttentionEqualsTheOneRankAttentionWithPaddedText(int n, long imageTokens) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(300 + imageTokens);
            long text = 6;
            // sample 0: every text token valid; sample 1: 2 valid text tokens, 4 padded
            long[] valid = {imageTokens + text, imageTokens + 2};
            Tensor[] qkv = new Tensor[3];
            for (int i = 0; i < 3; i++) {
                qkv[i] = torch.randn(new long[]{B, imageTokens + text, H, D});
            }
            Tensor expected = JointAttention.attend(qkv[0], qkv[1], qkv[2], valid, JointAttention.SDPA).view(B, imageTokens + text, H, D);
            List<Tensor> out = ThreadGroupCommunicator.run(n, c -> {
                Tensor[] local = new Tensor[3];
                for (int i = 0; i < 3; i++) {
                    local[i] = cat(1, SequenceParallel.shard(qkv[i].narrow(1, 0, imageTokens), c.rank(), n),
                            qkv[i].narrow(1, imageTokens, text));
                }
                return new ShardedAttention(c, valid, imageTokens, JointAttention.SDPA).attend(local[0], local[1], local[2]);
            });
            for (int r = 0; r < n; r++) {
                Tensor mine = cat(1, SequenceParallel.shard(expected.narrow(1, 0, imageTokens), r, n),
                        expected.narrow(1, imageTokens, text)).flatten(2, -1);
                assertEquals(0, Tensors.relativeError(out.get(r), mine), 1e-6, "rank " + r);
            }
        }
    }

    @Test
    void worldSizesThatDoNotDivideTheHeadsAreRefused() {
        DitConfig full = DitConfig.cfgDistill();
        for (int n : new int[]{1, 2, 3, 4, 6, 8, 12, 24}) {
            SequenceParallel.check(full, n);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SequenceParallel.check(full, 5));
        assertEquals("sequence parallelism over 5 ranks: the number of ranks must divide the DiT's 24 attention "
                + "heads (one of 1, 2, 3, 4, 6, 8, 12, 24)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SequenceParallel.check(full, 16));
        assertThrows(IllegalArgumentException.class, () -> SequenceParallel.check(full, 0));
    }
}
