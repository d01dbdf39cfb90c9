package io.github.hunyuanvideo.core.rope;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.io.Tensors;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The official RoPE tables and their application ({@code rope} golden case, 1e-6 relative). */
class Rope3dReferenceTest {
    private static final double TOL = 1e-6;
    private static ReferenceCase ref;

    @BeforeAll
    static void open() {
        ref = ReferenceCase.load("rope");
    }

    @AfterAll
    static void close() {
        ref.close();
    }

    private static long[] longs(JsonNode arr) {
        long[] out = new long[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asLong();
        }
        return out;
    }

    @Test
    void tablesMatchOfficial() {
        JsonNode c = ref.config();
        try (PointerScope scope = new PointerScope()) {
            Tensor[] cs = Rope3d.freqs(longs(c.get("rope_dim_list")), longs(c.get("grid")),
                    c.get("theta").asDouble());
            assertEquals(ScalarType.Float, cs[0].scalar_type().intern());
            ref.assertClose("out.freqs_cos", cs[0], TOL);
            ref.assertClose("out.freqs_sin", cs[1], TOL);
        }
    }

    @Test
    void applyMatchesOfficial() {
        try (PointerScope scope = new PointerScope()) {
            Tensor cos = ref.tensor("out.freqs_cos");
            Tensor sin = ref.tensor("out.freqs_sin");
            Tensor q = ref.tensor("in.q");
            Tensor qRot = Rope3d.apply(q, cos, sin);
            assertArrayEquals(Tensors.shape(q), Tensors.shape(qRot));
            ref.assertClose("out.q_rot", qRot, TOL);
            ref.assertClose("out.k_rot", Rope3d.apply(ref.tensor("in.k"), cos, sin), TOL);
        }
    }

    @Test
    void applyKeepsTheInputDtype() {
        try (PointerScope scope = new PointerScope()) {
            Tensor q = ref.tensor("in.q").to(ScalarType.BFloat16);
            Tensor out = Rope3d.apply(q, ref.tensor("out.freqs_cos"), ref.tensor("out.freqs_sin"));
            assertEquals(ScalarType.BFloat16, out.scalar_type().intern());
            double err = Tensors.relativeError(out, ref.tensor("out.q_rot"));
            assertEquals(0, err, 1e-2, "bf16 rotation drifts " + err);
        }
    }

    /**
     * The bf16 real-form path must equal the float32 complex product rounded once to bf16, bit for bit: the same
     * float32 products and sums, one final rounding. Checked on the case's q and on a seeded strided view (as the
     * single blocks pass narrowed q/k).
     */
    @Test
    void bf16RotationIsFloat32MathRoundedOnce() {
        try (PointerScope scope = new PointerScope()) {
            Tensor table = Rope3d.table(ref.tensor("out.freqs_cos"), ref.tensor("out.freqs_sin"));
            Tensor q = ref.tensor("in.q").to(ScalarType.BFloat16);
            torch.manual_seed(8);
            long[] shape = Tensors.shape(q);
            Tensor wide = torch.randn(new long[]{2, shape[1], 2 * shape[2], shape[3]},
                    new TensorOptions(ScalarType.BFloat16));
            for (Tensor x : new Tensor[]{q, wide.narrow(2, 1, shape[2])}) {
                Tensor expected = Rope3d.applyTable(x.to(ScalarType.Float), table).to(ScalarType.BFloat16);
                Tensor actual = Rope3d.applyTable(x, table);
                assertEquals(ScalarType.BFloat16, actual.scalar_type().intern());
                assertArrayEquals(Tensors.shape(x), Tensors.shape(actual));
                assertTrue(torch.equal(expected, actual), "bf16 rotation differs from float32 math rounded once");
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> Rope3d.freqs(new long[]{16, 56}, new long[]{3, 4, 5}, 256));
        assertThrows(IllegalArgumentException.class, () -> Rope3d.freqs(new long[]{15}, new long[]{3}, 256));
        assertThrows(IllegalArgumentException.class, () -> Rope3d.freqs(new long[]{16}, new long[]{0}, 256));
        try (PointerScope scope = new PointerScope()) {
            Tensor cos = ref.tensor("out.freqs_cos");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Rope3d.apply(ref.tensor("in.q").narrow(1, 0, 10), cos, ref.tensor("out.freqs_sin")));
            assertTrue(e.getMessage().contains("x must be"), e.getMessage());
        }
    }
}
