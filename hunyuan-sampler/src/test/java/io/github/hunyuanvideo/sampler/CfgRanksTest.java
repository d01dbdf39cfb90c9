package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.parallel.ThreadGroupCommunicator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CFG split rule, and the halves and pairs {@link CfgRanks} makes of 4 ranks. */
class CfgRanksTest {
    @Test
    void evenRanksWhoseHalfDividesTheHeadsSplit() {
        for (int n : new int[]{2, 4, 6, 8, 12, 24}) {
            assertTrue(CfgRanks.applies(n, 24), n + " ranks");
        }
        for (int n : new int[]{1, 3}) {
            assertFalse(CfgRanks.applies(n, 24), n + " ranks");
        }
        assertFalse(CfgRanks.applies(4, 3), "halves of 2 cannot share 3 heads");
    }

    @Test
    void fourRanksFormTwoHalvesAndThePairsAcrossThem() {
        try (PointerScope scope = new PointerScope()) {
            List<Tensor> out = ThreadGroupCommunicator.run(4, c -> {
                try (CfgRanks ranks = CfgRanks.split(c)) {
                    assertEquals(c.rank() / 2, ranks.branchIndex(), "branch of rank " + c.rank());
                    assertEquals(c.rank() % 2, ranks.branch().rank(), "rank in its half");
                    assertEquals(2, ranks.branch().worldSize());
                    // each rank's branch velocity [1, 2]: 10·rank + (0, 1)
                    Tensor v = torch.arange(new Scalar(2)).to(torch.ScalarType.Float).add(new Scalar(10 * c.rank()))
                            .view(1, 2);
                    return ranks.bothBranches(v);
                }
            });
            for (int r = 0; r < 4; r++) {
                int partner = r % 2;  // the unconditional rank of the pair, then the conditional one
                assertArrayEquals(new float[]{10 * partner, 10 * partner + 1, 10 * (partner + 2),
                        10 * (partner + 2) + 1}, Tensors.toFloatArray(out.get(r)), "rank " + r);
            }
        }
    }
}
