package io.github.hunyuanvideo.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Linear#forwardInto}: row blocks of one output equal the joined {@link Linear#forward} results; an FP8 layer
 * computes exactly as a plain one holding its dequantised weight.
 */
class LinearTest {
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void rowBlocksOfOneOutputEqualTheJoinedForwards(long batch) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(batch);
            Tensor w1 = torch.randn(new long[]{6, 4});
            Tensor w2 = torch.randn(new long[]{6, 4});
            try (Linear a = new Linear(w1, torch.randn(new long[]{6})); Linear b = new Linear(w2, null)) {
                Tensor xa = torch.randn(new long[]{batch, 5, 4});
                Tensor xb = torch.randn(new long[]{batch, 3, 4});
                Tensor out = torch.empty(new long[]{batch, 8, 6}, new TensorOptions(ScalarType.Float),
                        new MemoryFormatOptional());
                // batch 1: the row blocks are contiguous (GEMM writes them); otherwise the copy path runs.
                assertEquals(batch == 1, out.narrow(1, 0, 5).is_contiguous());
                a.forwardInto(out.narrow(1, 0, 5), xa);
                b.forwardInto(out.narrow(1, 5, 3), xb);
                Tensor expected = torch.cat(new TensorArrayRef(new TensorVector(a.forward(xa), b.forward(xb))), 1);
                assertEquals(0, Tensors.relativeError(out, expected), 1e-6);
            }
        }
    }

    @Test
    void anFp8LayerComputesWithItsDequantisedWeight() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(5);
            Tensor values = torch.randn(new long[]{6, 4}).mul(new Scalar(16)).to(ScalarType.Float8_e4m3fn);
            Tensor scale = torch.full(new long[]{}, new Scalar(0.05));
            Tensor bias = torch.randn(new long[]{6});
            try (Linear fp8 = new Linear(values, bias, scale);
                 Linear plain = new Linear(values.to(ScalarType.Float).mul(scale), bias)) {
                assertEquals(ScalarType.Float8_e4m3fn, fp8.weight().scalar_type().intern());
                assertEquals(ScalarType.Float, fp8.dtype());
                assertTrue(torch.equal(fp8.dequantizedWeight(), plain.weight()));
                Tensor x = torch.randn(new long[]{2, 5, 4});
                assertTrue(torch.equal(fp8.forward(x), plain.forward(x)));
                assertTrue(torch.equal(fp8.forwardGeluTanh(x), plain.forwardGeluTanh(x)));
                Tensor out = torch.empty(new long[]{1, 10, 6}, new TensorOptions(ScalarType.Float),
                        new MemoryFormatOptional());
                fp8.forwardInto(out, x.view(1, 10, 4));
                assertTrue(torch.equal(out, plain.forward(x.view(1, 10, 4))));
            }
            assertThrows(IllegalArgumentException.class, () -> new Linear(values, null));
            assertThrows(IllegalArgumentException.class, () -> new Linear(torch.randn(new long[]{6, 4}), null, scale));
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {4, 7})
    void aMismatchedOutputIsRejected(long columns) {
        try (PointerScope scope = new PointerScope(); Linear a = new Linear(torch.randn(new long[]{6, 4}), null)) {
            Tensor x = torch.randn(new long[]{1, 5, 4});
            Tensor out = torch.zeros(new long[]{1, columns, 6});
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.forwardInto(out, x));
            assertTrue(e.getMessage().contains("outputs of each row"), e.getMessage());
        }
    }
}
