package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Cancellation;
import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.parallel.Communicator;
import io.github.hunyuanvideo.nn.parallel.ThreadGroupCommunicator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decode shared by N ranks (threads with {@link ThreadGroupCommunicator}) gives rank 0 the one-rank video and the
 * other ranks nothing: with the geometric stand-in decoder over every candidate tiling (many tiles, edge tiles of
 * other shapes, fewer tiles than ranks), and with the {@code vae_tiny} network.
 */
class ParallelDecodeTest {
    /**
     * Every rank's frames, run by {@code decode(rank's communicator, sink)}: rank 0's chunks joined along time, for
     * the other ranks the number of chunks their sink got, as a one-element tensor.
     */
    private static List<Tensor> shared(int n, BiConsumer<Communicator, FrameSink> decode) {
        return ThreadGroupCommunicator.run(n, c -> {
            List<Tensor> chunks = new ArrayList<>();
            decode.accept(c, (frames, first) -> {
                assertEquals(chunks.stream().mapToLong(t -> t.size(2)).sum(), first);
                // outlives the decode's tile scope
                chunks.add(Scopes.retained(frames.clone()));
            });
            Tensor out = c.rank() == 0
                    ? torch.cat(new TensorArrayRef(new TensorVector(chunks.toArray(new Tensor[0]))), 2)
                    : Tensors.fromFloats(new float[]{chunks.size()}, 1);
            chunks.forEach(Scopes::release);
            return out;
        });
    }

    @ParameterizedTest(name = "N={0}")
    @ValueSource(ints = {2, 3})
    void standInDecodeEqualsTheOneRankDecodeWithEveryTiling(int n) {
        VaeConfig official = VaeConfig.official();
        for (TilingConfig tiling : TilingConfig.candidates(official)) {
            for (long[] shape : new long[][]{{1, 16, 13, 20, 28}, {2, 16, 9, 9, 37}, {1, 16, 2, 3, 3}}) {
                try (PointerScope scope = new PointerScope()) {
                    Tiler tiler = new Tiler(tiling, official);
                    Tensor z = TiledDecodeTest.coordinates(shape);
                    Tensor expected = tiler.decode(z, TiledDecodeTest::nearest, Cancellation.NEVER);
                    List<Tensor> out = shared(n, (c, sink) -> tiler.decode(z, TiledDecodeTest::nearest,
                            Cancellation.NEVER, sink, c));
                    String what = tiling + " " + java.util.Arrays.toString(shape) + ", "
                            + tiler.decodeTileCount(z) + " tiles";
                    assertArrayEquals(Tensors.toFloatArray(expected), Tensors.toFloatArray(out.get(0)), what);
                    for (int r = 1; r < n; r++) {
                        assertEquals(0, out.get(r).item_double(), what + ": rank " + r + " got frames");
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "N={0}")
    @ValueSource(ints = {2, 3})
    void tinyVaeDecodeEqualsTheOneRankDecode(int n) {
        try (PointerScope scope = new PointerScope(); ReferenceCase ref = ReferenceCase.load("vae_tiny")) {
            TilingConfig tiling = VaeTinyReferenceTest.tilingForX2(ref);
            Tensor z = ref.tensor("out.tiled_posterior_mean");
            List<CausalVideoVae> vaes = new ArrayList<>();
            try {
                for (int r = 0; r < n; r++) {
                    CausalVideoVae vae = VaeTinyReferenceTest.tinyVae(ref);
                    vae.setTiling(tiling);
                    vaes.add(vae);
                }
                Tensor expected;
                try (InferenceMode mode = new InferenceMode()) {
                    expected = vaes.get(0).decode(z);
                }
                assertTrue(new Tiler(tiling, vaes.get(0).config()).decodeTileCount(z) > 1, "the case decodes in tiles");
                List<Tensor> out = shared(n, (c, sink) -> vaes.get(c.rank()).decode(z, Cancellation.NEVER, sink, c));
                assertEquals(0, Tensors.relativeError(out.get(0), expected), 1e-6);
                for (int r = 1; r < n; r++) {
                    assertEquals(0, out.get(r).item_double(), "rank " + r + " got frames");
                }
            } finally {
                vaes.forEach(CausalVideoVae::close);
            }
        }
    }
}
