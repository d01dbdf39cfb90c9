package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.parallel.Communicator;
import io.github.hunyuanvideo.nn.parallel.ThreadGroupCommunicator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DiT sharded over N ranks (threads with {@link ThreadGroupCommunicator}) returns, on every rank, the one-rank
 * velocity within 1e-5 relative: a random tiny model of 6 heads at N = 2 and 3 over token counts that do and do not
 * divide (padded shards), at batch 1 and at batch 2 with padded text; the golden {@code dit_tiny} model (2 heads) at
 * N = 2 also against its reference output.
 */
class SequenceParallelDitTest {
    static final double TOL = 1e-5;
    /** 6 heads of 16: splits over 2 and 3 ranks. */
    static final DitConfig CFG = new DitConfig(List.of(1, 2, 2), 16, 16, 96, 6, 4.0, 2, 2, List.of(4, 6, 6), 256.0,
            true, true, true, 32, 16, 1);

    /**
     * Every rank's velocity for {@code in}, each rank with its own model from {@code models} (built here, one after
     * another: random weights come from the global generator).
     */
    static List<Tensor> sharded(int n, IntFunction<HunyuanVideoTransformer> models, DitInputs in) {
        List<HunyuanVideoTransformer> ranks = new ArrayList<>();
        try {
            for (int r = 0; r < n; r++) {
                ranks.add(models.apply(r));
            }
            return ThreadGroupCommunicator.run(n, c -> {
                HunyuanVideoTransformer dit = ranks.get(c.rank());
                dit.setSequenceParallel(c);
                return dit.forward(in);
            });
        } finally {
            ranks.forEach(HunyuanVideoTransformer::close);
        }
    }

    /** Inputs of {@code batch} samples over latents [B, 16, frames, h, w]; at batch 2 sample 1 has 3 of 6 text tokens. */
    static DitInputs inputs(long batch, long frames, long h, long w) {
        torch.manual_seed(5);
        Tensor x = torch.randn(new long[]{batch, 16, frames, h, w});
        Tensor t = torch.full(new long[]{batch}, new Scalar(700f));
        Tensor text = torch.randn(new long[]{batch, 6, 32});
        Tensor mask = torch.ones(new long[]{batch, 6}, new TensorOptions(ScalarType.Long));
        if (batch > 1) {
            mask.narrow(0, 1, 1).narrow(1, 3, 3).fill_(new Scalar(0));
        }
        return new DitInputs(x, t, text, mask, torch.randn(new long[]{batch, 16}),
                torch.full(new long[]{batch}, new Scalar(6016.0)));
    }

    @ParameterizedTest(name = "N={0}, batch={1}, latents {2}x{3}x{4}")
    @CsvSource({"2, 1, 5, 2, 6", "3, 1, 5, 2, 6", "2, 2, 5, 2, 6", "3, 2, 5, 2, 6", "2, 2, 7, 4, 2", "3, 2, 7, 4, 2",
            "3, 1, 1, 2, 2"})
    void shardedVelocityEqualsTheOneRankVelocity(int n, long batch, long frames, long h, long w) {
        try (PointerScope scope = new PointerScope()) {
            DitInputs in = inputs(batch, frames, h, w);
            Tensor expected;
            try (HunyuanVideoTransformer dit = random()) {
                expected = dit.forward(in);
            }
            List<Tensor> out = sharded(n, r -> random(), in);
            for (int r = 0; r < n; r++) {
                double err = Tensors.relativeError(out.get(r), expected);
                assertTrue(err < TOL, "rank " + r + ": relative error " + err);
            }
        }
    }

    private static HunyuanVideoTransformer random() {
        return HunyuanVideoTransformer.randomInit(CFG, new Device("cpu"), ScalarType.Float, 11);
    }

    @Test
    void goldenTinyDitOnTwoRanks() {
        try (PointerScope scope = new PointerScope(); ReferenceCase ref = ReferenceCase.load("dit_tiny")) {
            DitConfig cfg = DitConfig.fromJson(ref.config());
            DitInputs in = DitReferenceTest.inputs(ref);
            IntFunction<HunyuanVideoTransformer> load = r -> DitCheckpoint.loadOfficial(
                    DitReferenceTest.weightsOnly(ref.tensors()), cfg, new Device("cpu"), ScalarType.Float);
            Tensor expected;
            try (HunyuanVideoTransformer dit = load.apply(0)) {
                expected = dit.forward(in);
            }
            for (Tensor v : sharded(2, load, in)) {
                assertEquals(0, Tensors.relativeError(v, expected), TOL);
                assertEquals(0, Tensors.relativeError(v, ref.tensor("out.x")), DitReferenceTest.TOL);
            }
        }
    }

    @Test
    void ranksThatDoNotSplitTheHeadsAndStepCachesAreRefused() {
        try (PointerScope scope = new PointerScope(); HunyuanVideoTransformer dit = random()) {
            List<Communicator> four = ThreadGroupCommunicator.group(4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> dit.setSequenceParallel(four.get(0)));
            assertTrue(e.getMessage().contains("(one of 1, 2, 3, 6)"), e.getMessage());
            dit.setSequenceParallel(ThreadGroupCommunicator.group(2).get(0));
            try (StepCacheState cache = StepCache.teaCache(0.1).start(2)) {
                assertThrows(IllegalArgumentException.class, () -> dit.forward(inputs(1, 1, 2, 2), cache));
            }
        }
    }
}
