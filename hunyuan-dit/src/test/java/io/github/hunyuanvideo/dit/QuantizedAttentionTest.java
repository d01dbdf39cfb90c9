package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The host side of the 8-bit attention and its torch-ops reference, on the CPU. */
class QuantizedAttentionTest {
    private static Tensor randn(long... shape) {
        return torch.randn(shape);
    }

    @Test
    void int8BlocksUseOneScalePerBlockOf64Tokens() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(1);
            Tensor x = randn(2, 128, 8);
            x.narrow(1, 64, 64).mul_(new Scalar(10.0));
            Tensor[] q = QuantizedAttention.int8Blocks(x);
            assertArrayEquals(new long[]{2, 2}, q[1].sizes().vec().get());
            assertEquals(x.narrow(1, 64, 64).select(0, 1).abs().max().item_double() / 127,
                    q[1].select(0, 1).select(0, 1).item_double(), 1e-6);
            assertEquals(ScalarType.Char.value, q[0].scalar_type().value);
            assertTrue(q[0].to(ScalarType.Float).abs().max().item_double() <= 127);
            // Dequantized, each value is within half a step of the original.
            Tensor back = q[0].to(ScalarType.Float).reshape(2, 2, 64 * 8).mul(q[1].unsqueeze(2)).reshape(2, 128, 8);
            Tensor halfStep = q[1].repeat_interleave(64, new org.bytedeco.pytorch.LongOptional(1),
                    new org.bytedeco.pytorch.LongOptional()).unsqueeze(2).mul(new Scalar(0.5 + 1e-4));
            assertTrue(back.sub(x).abs().le(halfStep).all().item_bool());
        }
    }

    @Test
    void layoutsPutHeadsFirstAndPadTokensWithZeros() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.arange(new Scalar(2 * 3 * 4 * 5)).to(ScalarType.Float).reshape(2, 3, 4, 5);
            Tensor h = QuantizedAttention.headsFirst(x);
            assertArrayEquals(new long[]{8, 3, 5}, h.sizes().vec().get());
            // [b, l, h, d] lands at [b·H + h, l, d].
            assertEquals(x.get(1).get(2).get(3).get(4).item_double(), h.get(7).get(2).get(4).item_double());
            Tensor p = QuantizedAttention.padTokens(h, 64);
            assertArrayEquals(new long[]{8, 64, 5}, p.sizes().vec().get());
            assertEquals(0, p.narrow(1, 3, 61).abs().sum().item_double());
            assertTrue(p.narrow(1, 0, 3).equal(h));
        }
    }

    @Test
    void kernelVTilesAreCoreMatricesOf8ChannelsAnd8KeysInKeyOrder() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(3);
            Tensor v = randn(2, 128, 128).mul(new Scalar(50.0)).to(ScalarType.BFloat16);
            Tensor t = QuantizedAttention.kernelV(v);
            assertArrayEquals(new long[]{2, 2, QuantizedAttention.TILE_ELEMENTS}, t.sizes().vec().get());
            long[] values = Tensors.toLongArray(v.view(ScalarType.Short));
            long[] image = Tensors.toLongArray(t.view(ScalarType.Short));
            for (int n = 0; n < 2; n++) {
                for (int key = 0; key < 128; key++) {
                    int tile = key / 64;
                    for (int c = 0; c < 128; c++) {
                        // 8 channels × 8 keys per core matrix: [channel group][key part][channel][key]
                        int at = (n * 2 + tile) * QuantizedAttention.TILE_ELEMENTS + c / 8 * 512 + key % 64 / 8 * 64
                                + c % 8 * 8 + key % 8;
                        assertEquals(values[(n * 128 + key) * 128 + c], image[at],
                                "n " + n + " key " + key + " c " + c);
                    }
                }
            }
        }
    }

    @Test
    void rowTilesAreCoreMatricesOf8RowsAnd16Channels() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(4);
            Tensor x = randn(3, 128, 128).mul(new Scalar(40.0)).round().to(ScalarType.Char);
            Tensor t = QuantizedAttention.rowTiles(x);
            assertArrayEquals(new long[]{3, 2, QuantizedAttention.TILE_ELEMENTS}, t.sizes().vec().get());
            assertEquals(ScalarType.Char.value, t.scalar_type().value);
            long[] rows = Tensors.toLongArray(x);
            long[] image = Tensors.toLongArray(t);
            for (int n = 0; n < 3; n++) {
                for (int row = 0; row < 128; row++) {
                    int r = row % 64;
                    for (int c = 0; c < 128; c++) {
                        int at = (n * 2 + row / 64) * QuantizedAttention.TILE_ELEMENTS + r / 8 * 1024 + c / 16 * 128
                                + r % 8 * 16 + c % 16;
                        assertEquals(rows[(n * 128 + row) * 128 + c], image[at], "n " + n + " row " + row + " c " + c);
                    }
                }
            }
        }
    }

    @Test
    void attentionSharedMemoryIsQueriesAndTheStagesOfInt8KAndBf16V() {
        // Q's 128 INT8 rows, then per stage 128 INT8 keys and their 128 bf16 values.
        assertEquals(128 * 128 + 3 * (128 * 128 + 128 * 128 * 2), QuantizedAttention.attentionSharedBytes());
        assertEquals(128 * 128 + 4 * (128 * 128 + 128 * 128 * 2), QuantizedAttention.attentionSharedBytes("STAGES=4"));
    }

    @Test
    void launchShapeIsTheKernelSourcesOwn() {
        // The host launches what the source declares: threads per block (two computing warpgroups and a loading
        // one; the kernel traps on another count), query rows per block and the ring's default depth.
        String source = QuantizedAttention.kernelSource();
        assertEquals(QuantizedAttention.ATTENTION_THREADS, definedNumber(source, "THREADS"));
        assertEquals(QuantizedAttention.ROWS_PER_LAUNCH_BLOCK, definedNumber(source, "BLOCK_M"));
        assertEquals(QuantizedAttention.STAGES, definedNumber(source, "STAGES"));
    }

    /** The integer a {@code #define NAME n} line of {@code source} gives (the first such line). */
    private static int definedNumber(String source, String name) {
        Matcher m = Pattern.compile("(?m)^#define " + name + " (\\d+)").matcher(source);
        assertTrue(m.find(), "#define " + name + " in int8_attention.cu");
        return Integer.parseInt(m.group(1));
    }

    @Test
    void nvrtcWarningsAreTheLogsWarningLines() {
        String log = "int8_attention.cu(12): warning #177-D: variable \"x\" was declared but never referenced\n\n"
                + "ptxas info    : Used 193 registers, used 1 barriers, 1024 bytes smem\n"
                + "ptxas warning : (C7515) Potential Performance Loss: wgmma.mma_async instructions are serialized\n";
        assertEquals("int8_attention.cu(12): warning #177-D: variable \"x\" was declared but never referenced\n"
                + "ptxas warning : (C7515) Potential Performance Loss: wgmma.mma_async instructions are serialized",
                QuantizedAttention.warningLines(log));
        assertEquals("", QuantizedAttention.warningLines("ptxas info    : Used 193 registers\n"));
        assertEquals("", QuantizedAttention.warningLines(""));
    }

    @Test
    void smoothingKeysLeavesSoftmaxUnchanged() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(2);
            Tensor q = randn(3, 100, 16);
            Tensor k = randn(3, 100, 16).add(randn(1, 1, 16).mul(new Scalar(20.0)));
            Tensor smoothed = k.sub(k.mean(new long[]{1}, true, new org.bytedeco.pytorch.ScalarTypeOptional()));
            Tensor a = q.matmul(k.transpose(1, 2)).softmax(-1);
            Tensor b = q.matmul(smoothed.transpose(1, 2)).softmax(-1);
            assertTrue(a.sub(b).abs().max().item_double() < 1e-5);
        }
    }

    @Test
    void vIsRoundedToBf16WithZeroPaddingRows() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(6);
            Tensor v = randn(1, 200, 2, 128).mul(new Scalar(3.0));
            QuantizedAttention.Quantized z = QuantizedAttention.quantize(v, v, v);
            assertEquals(ScalarType.BFloat16.value, z.v().scalar_type().value);
            assertArrayEquals(new long[]{2, 256, 128}, z.v().sizes().vec().get());
            Tensor expected = QuantizedAttention.headsFirst(v).to(ScalarType.BFloat16);
            assertTrue(z.v().narrow(1, 0, 200).equal(expected));
            assertEquals(0, z.v().narrow(1, 200, 56).to(ScalarType.Float).abs().sum().item_double(),
                    "padding rows are zero");
        }
    }

    @Test
    void referenceIsCloseToFloat32AttentionOnGaussianInputs() {
        assertAccurate(0.0, 0.999, 0.03);
    }

    @Test
    void referenceIsCloseToFloat32AttentionWithALargeKeyOffset() {
        assertAccurate(30.0, 0.999, 0.03);
    }

    /**
     * Cosine and relative L1 of {@link QuantizedAttention#reference} against float32 SDPA at B=1, H=2, L=300, D=128
     * (a partial last block), against the bars (cosine ≥ 0.999, relative L1 ≤ 3 %).
     */
    private static void assertAccurate(double keyOffset, double minCosine, double maxRelL1) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(3);
            Tensor q = randn(1, 300, 2, 128);
            Tensor k = randn(1, 300, 2, 128).add(randn(1, 1, 2, 128).mul(new Scalar(keyOffset)));
            Tensor v = randn(1, 300, 2, 128);
            Tensor exact = JointAttention.sdpa(q, k, v).transpose(1, 2);
            Tensor ours = QuantizedAttention.reference(q, k, v).to(ScalarType.Float);
            assertArrayEquals(new long[]{1, 300, 2, 128}, ours.sizes().vec().get());
            double cosine = torch.cosine_similarity(ours.flatten(), exact.flatten(), 0, 1e-12).item_double();
            double relL1 = ours.sub(exact).abs().sum().item_double() / exact.abs().sum().item_double();
            assertTrue(cosine >= minCosine, "cosine " + cosine);
            assertTrue(relL1 <= maxRelL1, "relative L1 " + relL1);
        }
    }

    @Test
    void attendFallsBackToSdpaWithoutCuda() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(4);
            Tensor q = randn(1, 70, 2, 128);
            Tensor k = randn(1, 70, 2, 128);
            Tensor v = randn(1, 70, 2, 128);
            Tensor out = QuantizedAttention.attend(q, k, v);
            assertEquals(ScalarType.BFloat16.value, out.scalar_type().value);
            Tensor exact = JointAttention.sdpa(q, k, v).transpose(1, 2);
            assertTrue(out.to(ScalarType.Float).sub(exact).abs().max().item_double() < 2e-2);
        }
    }
}
