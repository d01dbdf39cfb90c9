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
        assertAccurate(0.0, QuantizedAttention.ValueProduct.BF16, 0.999, 0.03);
    }

    @Test
    void referenceIsCloseToFloat32AttentionWithALargeKeyOffset() {
        assertAccurate(30.0, QuantizedAttention.ValueProduct.BF16, 0.999, 0.03);
    }

    /**
     * The FP8 product against its own accuracy (cosine ≥ 0.999, relative L1 ≤ 5 %; the GPU measured 4.1 % at the DiT's
     * lengths), and at least twice the BF16 product's error: e4m3's rounding is really applied.
     */
    @Test
    void fp8ValueProductCostsAccuracyWithinItsBound() {
        for (double keyOffset : new double[]{0.0, 30.0}) {
            double fp8 = assertAccurate(keyOffset, QuantizedAttention.ValueProduct.FP8, 0.999, 0.05);
            double bf16 = assertAccurate(keyOffset, QuantizedAttention.ValueProduct.BF16, 0.999, 0.03);
            assertTrue(fp8 > 2 * bf16, "FP8 " + fp8 + " against BF16 " + bf16);
        }
    }

    /**
     * The FP8 V image holds e4m3(V/8) of key κ, channel c of tile T at byte (c/8)·1024 + (κ/16)·128 + (c%8)·16 +
     * position(κ % 16), the position the kernel's quantizer computes (tile_e4m3_half): every element, once.
     */
    @Test
    void fp8ValueImagePlacesEachKeyWhereTheKernelWritesIt() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(8);
            Tensor v = torch.randn(new long[]{2, 256, 128}).mul(new Scalar(4.0));
            Tensor image = QuantizedAttention.kernelVFp8(v);
            assertArrayEquals(new long[]{2, 2, 16384}, image.sizes().vec().get());
            byte[] bytes = new byte[2 * 2 * 16384];
            image.contiguous().data_ptr_byte().get(bytes);
            // torch's own e4m3 conversion (|V/8| stays far below 448 here, so no saturation is needed)
            byte[] expected = new byte[2 * 256 * 128];
            v.div(new Scalar(8.0)).to(ScalarType.Float8_e4m3fn).view(ScalarType.Byte).contiguous().data_ptr_byte()
                    .get(expected);
            for (int n = 0; n < 2; n++) {
                for (int key = 0; key < 256; key++) {
                    for (int c = 0; c < 128; c++) {
                        int k16 = key % 16;
                        int position = 4 * ((k16 % 8) / 2) + 2 * (k16 / 8) + k16 % 2;
                        int offset = (n * 2 + key / 128) * 16384 + (c / 8) * 1024 + ((key % 128) / 16) * 128
                                + (c % 8) * 16 + position;
                        assertEquals(expected[(n * 256 + key) * 128 + c], bytes[offset],
                                "head " + n + " key " + key + " channel " + c);
                    }
                }
            }
        }
    }

    /** Nearest even at e4m3's 3 mantissa bits, its subnormals, and saturation at ±448 as the kernel's conversion. */
    @Test
    void e4m3RoundsToNearestEvenAndSaturates() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = Tensors.fromFloats(new float[]{1.0625f, 1.1875f, 0.3f, 500f, -1e6f, 0.0009765625f,
                    0.0029296875f}, 7);
            float[] expected = {1.0f, 1.25f, 0.3125f, 448f, -448f, 0f, 0.00390625f};
            float[] got = Tensors.toFloatArray(QuantizedAttention.e4m3(x));
            assertArrayEquals(expected, got);
        }
    }

    /**
     * Cosine and relative L1 of {@link QuantizedAttention#reference} against float32 SDPA at B=1, H=2, L=300, D=128
     * (a partial last block), against the given bars; returns the relative L1.
     */
    private static double assertAccurate(double keyOffset, QuantizedAttention.ValueProduct product, double minCosine,
                                         double maxRelL1) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(3);
            Tensor q = randn(1, 300, 2, 128);
            Tensor k = randn(1, 300, 2, 128).add(randn(1, 1, 2, 128).mul(new Scalar(keyOffset)));
            Tensor v = randn(1, 300, 2, 128);
            Tensor exact = JointAttention.sdpa(q, k, v).transpose(1, 2);
            Tensor ours = QuantizedAttention.reference(q, k, v, product).to(ScalarType.Float);
            assertArrayEquals(new long[]{1, 300, 2, 128}, ours.sizes().vec().get());
            double cosine = torch.cosine_similarity(ours.flatten(), exact.flatten(), 0, 1e-12).item_double();
            double relL1 = ours.sub(exact).abs().sum().item_double() / exact.abs().sum().item_double();
            assertTrue(cosine >= minCosine, product + " cosine " + cosine);
            assertTrue(relL1 <= maxRelL1, product + " relative L1 " + relL1);
            return relL1;
        }
    }

    @Test
    void attendFallsBackToSdpaWithoutCuda() {
        for (QuantizedAttention.ValueProduct product : QuantizedAttention.ValueProduct.values()) {
            try (PointerScope scope = new PointerScope()) {
                torch.manual_seed(4);
                Tensor q = randn(1, 70, 2, 128);
                Tensor k = randn(1, 70, 2, 128);
                Tensor v = randn(1, 70, 2, 128);
                Tensor out = QuantizedAttention.attend(q, k, v, product);
                assertEquals(ScalarType.BFloat16.value, out.scalar_type().value);
                Tensor exact = JointAttention.sdpa(q, k, v).transpose(1, 2);
                assertTrue(out.to(ScalarType.Float).sub(exact).abs().max().item_double() < 2e-2);
            }
        }
    }
}
