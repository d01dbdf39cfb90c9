package io.github.hunyuanvideo.nn.parallel;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The test communicator keeps the {@link Communicator} contract, so the multi-rank tests built on it mean something. */
class ThreadGroupCommunicatorTest {
    private static final int W = 3;

    /** Rank r's tensor {@code [rows, 2]} with values {@code 100·r + i}. */
    private static Tensor ranked(int rank, int rows) {
        return torch.arange(new Scalar(0), new Scalar(2 * rows)).to(torch.ScalarType.Float).add(new Scalar(100 * rank))
                .view(rows, 2);
    }

    @Test
    void allToAllSendsChunkRToRankR() {
        try (PointerScope scope = new PointerScope()) {
            List<Tensor> out = ThreadGroupCommunicator.run(W, c -> {
                Tensor input = ranked(c.rank(), W);
                Tensor output = torch.empty_like(input);
                c.allToAll(output, input);
                return output;
            });
            for (int r = 0; r < W; r++) {
                for (int j = 0; j < W; j++) {
                    // chunk j of rank r's output is chunk r of rank j's input
                    assertArrayEquals(Tensors.toFloatArray(ranked(j, W).narrow(0, r, 1)),
                            Tensors.toFloatArray(out.get(r).narrow(0, j, 1)));
                }
            }
        }
    }

    @Test
    void allGatherBroadcastAndSum() {
        try (PointerScope scope = new PointerScope()) {
            List<Tensor> out = ThreadGroupCommunicator.run(W, c -> {
                Tensor gathered = torch.empty(new long[]{2L * W, 2});
                c.allGather(gathered, ranked(c.rank(), 2));
                Tensor b = ranked(c.rank(), 2);
                c.broadcast(b, 1);
                Tensor sum = ranked(c.rank(), 2);
                c.allReduceSum(sum);
                c.barrier();
                return torch.cat(new TensorArrayRef(new TensorVector(gathered, b, sum)), 0);
            });
            Tensor expectedSum = ranked(0, 2).add(ranked(1, 2)).add(ranked(2, 2));
            for (int r = 0; r < W; r++) {
                Tensor o = out.get(r);
                for (int j = 0; j < W; j++) {
                    assertArrayEquals(Tensors.toFloatArray(ranked(j, 2)), Tensors.toFloatArray(o.narrow(0, 2L * j, 2)));
                }
                assertArrayEquals(Tensors.toFloatArray(ranked(1, 2)), Tensors.toFloatArray(o.narrow(0, 2L * W, 2)));
                assertArrayEquals(Tensors.toFloatArray(expectedSum), Tensors.toFloatArray(o.narrow(0, 2L * W + 2, 2)));
            }
        }
    }

    @Test
    void splitGroupsRunTheirCollectivesAmongTheirRanks() {
        for (int w : new int[]{2, 3, 4}) {
            try (PointerScope scope = new PointerScope()) {
                // each rank asserts on its own thread; run rethrows the first failure
                List<Tensor> ranks = ThreadGroupCommunicator.run(w, c -> {
                    assertEquals(List.of(), CollectiveChecks.split(c, new Device("cpu")), "rank " + c.rank());
                    return torch.zeros(1);
                });
                assertEquals(w, ranks.size());
            }
        }
        assertThrows(IllegalArgumentException.class, () -> ThreadGroupCommunicator.group(1).get(0).split(-1));
    }

    @Test
    @Timeout(20)
    void aFailingRankEndsTheOthersCollectiveAtOnce() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ThreadGroupCommunicator.run(W, c -> {
            if (c.rank() == 2) {
                throw new IllegalArgumentException("rank 2 breaks");
            }
            Tensor t = ranked(c.rank(), 1);
            c.allReduceSum(t);
            return t;
        }));
        // ranks 0 and 1 fail in their collective, rank 2 with its own error: all three are reported
        assertEquals(2, e.getSuppressed().length);
        assertTrue(e.getSuppressed()[1].getMessage().contains("rank 2 breaks"), e.getSuppressed()[1].getMessage());
    }
}
