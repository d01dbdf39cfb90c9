package io.github.hunyuanvideo.dit;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.RmsNorm;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
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
            Tensor qRot = RopeReference.apply(q, cos, sin);
            assertArrayEquals(Tensors.shape(q), Tensors.shape(qRot));
            ref.assertClose("out.q_rot", qRot, TOL);
            ref.assertClose("out.k_rot", RopeReference.apply(ref.tensor("in.k"), cos, sin), TOL);
            Tensor halvesRot = RopeReference.applyHalves(halves(q), RopeReference.table(cos, sin));
            assertEquals(0, Tensors.relativeError(halvesRot, halves(ref.tensor("out.q_rot"))), TOL);
        }
    }

    @Test
    void applyKeepsTheInputDtype() {
        try (PointerScope scope = new PointerScope()) {
            Tensor q = ref.tensor("in.q").to(ScalarType.BFloat16);
            Tensor out = RopeReference.apply(q, ref.tensor("out.freqs_cos"), ref.tensor("out.freqs_sin"));
            assertEquals(ScalarType.BFloat16, out.scalar_type().intern());
            double err = Tensors.relativeError(out, ref.tensor("out.q_rot"));
            assertEquals(0, err, 1e-2, "bf16 rotation drifts " + err);
        }
    }

    /**
     * The real-form rotation computes the complex product's float32 products and sums and rounds once. libtorch's
     * CPU complex product may fuse a multiply-add, so in float32 the two differ by about one float32 ulp (relative
     * error ≈ 2e-8), and after the rounding to bf16 about one element in 10⁵ lands one bf16 ulp apart (39 of
     * 2,949,120 here). Checked for the interleaved and the halves layout, on the case's q and on a seeded strided
     * view (as the blocks pass narrowed q/k).
     */
    @Test
    void realFormIsFloat32MathRoundedOnce() {
        try (PointerScope scope = new PointerScope()) {
            Tensor table = RopeReference.table(ref.tensor("out.freqs_cos"), ref.tensor("out.freqs_sin"));
            Tensor q = ref.tensor("in.q");
            assertEquals(0, Tensors.relativeError(RopeReference.applyHalves(halves(q), table),
                    halves(RopeReference.applyTable(q, table))), 1e-7);
            torch.manual_seed(8);
            long[] shape = Tensors.shape(q);
            Tensor wide = torch.randn(new long[]{64, shape[1], 2 * shape[2], shape[3]},
                    new TensorOptions(ScalarType.BFloat16));
            for (Tensor x : new Tensor[]{q.to(ScalarType.BFloat16), wide.narrow(2, 1, shape[2])}) {
                Tensor expected = RopeReference.applyTable(x.to(ScalarType.Float), table).to(ScalarType.BFloat16);
                Tensor actual = RopeReference.applyTable(x, table);
                assertEquals(ScalarType.BFloat16, actual.scalar_type().intern());
                assertArrayEquals(Tensors.shape(x), Tensors.shape(actual));
                assertRoundedOnce(expected, actual);
                assertRoundedOnce(halves(expected), RopeReference.applyHalves(halves(x), table));
            }
        }
    }

    /** The fused TorchScript rotation is the official one (halves layout), with or without the QK RMSNorm. */
    @Test
    void fusedRopeMatchesOfficial() {
        try (PointerScope scope = new PointerScope(); FusedRope rope = fusedRope()) {
            Tensor q = halves(ref.tensor("in.q"));
            assertEquals(0, Tensors.relativeError(rope.apply(q), halves(ref.tensor("out.q_rot"))), TOL);
            Tensor weight = torch.rand(new long[]{q.size(3)}).add(new Scalar(0.5));
            try (RmsNorm norm = new RmsNorm(weight, 1e-6)) {
                Tensor expected = rope.apply(norm.forward(q));
                assertEquals(0, Tensors.relativeError(rope.rmsNormApply(q, norm), expected), TOL);
                // Half precision: the float32 result, rounded once.
                Tensor qb = q.to(ScalarType.BFloat16);
                Tensor exactB = rope.apply(norm.forward(qb.to(ScalarType.Float))).to(ScalarType.BFloat16);
                Tensor fused = rope.rmsNormApply(qb, norm);
                assertEquals(ScalarType.BFloat16, fused.scalar_type().intern());
                assertRoundedOnce(exactB, fused, 1e-3);
                assertRoundedOnce(rope.apply(qb.to(ScalarType.Float)).to(ScalarType.BFloat16), rope.apply(qb), 1e-3);
            }
        }
    }

    @Test
    void fusedRopeRejectsMismatchedShapes() {
        try (PointerScope scope = new PointerScope(); FusedRope rope = fusedRope()) {
            Tensor q = halves(ref.tensor("in.q"));
            assertThrows(IllegalArgumentException.class, () -> rope.apply(q.narrow(1, 0, q.size(1) - 1)));
            assertThrows(IllegalArgumentException.class, () -> rope.apply(q.narrow(3, 0, q.size(3) / 2)));
            try (RmsNorm norm = new RmsNorm(torch.ones(new long[]{q.size(3) + 2}), 1e-6)) {
                assertThrows(IllegalArgumentException.class, () -> rope.rmsNormApply(q, norm));
            }
            Tensor c = ref.tensor("out.freqs_cos");
            assertThrows(IllegalArgumentException.class, () -> FusedRope.of(c, c.narrow(0, 1, c.size(0) - 1)));
            assertThrows(IllegalArgumentException.class, () -> FusedRope.of(c, c.to(ScalarType.Double)));
        }
    }

    /** The golden tables as FusedRope wants them: one column per rotation pair. */
    private static FusedRope fusedRope() {
        Tensor cos = ref.tensor("out.freqs_cos");
        Tensor sin = ref.tensor("out.freqs_sin");
        long d = cos.size(1);
        return FusedRope.of(cos.slice(1, new LongOptional(0), new LongOptional(d), 2),
                sin.slice(1, new LongOptional(0), new LongOptional(d), 2));
    }

    /** At most one element in 10⁴ differs, and none by more than one bf16 ulp (2⁻⁷ relative). */
    private static void assertRoundedOnce(Tensor expected, Tensor actual) {
        assertRoundedOnce(expected, actual, 1e-4);
    }

    /**
     * At most {@code fraction} of the elements differ (float32 evaluation order moves a few values across a rounding
     * boundary), and none by more than one bf16 ulp (2⁻⁷ relative).
     */
    private static void assertRoundedOnce(Tensor expected, Tensor actual, double fraction) {
        Tensor e = expected.to(ScalarType.Float);
        Tensor a = actual.to(ScalarType.Float);
        long differing = e.ne(a).sum().item_long();
        assertTrue(differing <= e.numel() * fraction, differing + " of " + e.numel() + " elements differ");
        assertTrue(e.sub(a).abs().le(e.abs().mul(new Scalar(1.0 / 128))).all().item_bool(),
                "an element differs by more than one bf16 ulp");
    }

    /** {@link HalvesLayout#toHalves} on the weight rows relabels the projected head dim as {@link #halves} does. */
    @Test
    void toHalvesReordersTheProjectedHeadDim() {
        try (PointerScope scope = new PointerScope()) {
            long d = ref.tensor("in.q").size(3);
            torch.manual_seed(9);
            Tensor w = torch.randn(3 * d, 5);
            Tensor in = torch.randn(7, 5);
            Tensor out = torch.matmul(in, w.t());
            Tensor reordered = torch.matmul(in, HalvesLayout.toHalves(w, 2 * d, d).t());
            Tensor qk = out.narrow(1, 0, 2 * d).view(1, 7, 2, d);
            assertTrue(torch.equal(halves(qk).reshape(7, 2 * d), reordered.narrow(1, 0, 2 * d)));
            assertTrue(torch.equal(out.narrow(1, 2 * d, d), reordered.narrow(1, 2 * d, d)));
            assertThrows(IllegalArgumentException.class, () -> HalvesLayout.toHalves(w, 2 * d + 2, d));
        }
    }

    /** x {@code [B, S, H, D]} with each head's interleaved pairs moved to halves. */
    private static Tensor halves(Tensor x) {
        long[] s = Tensors.shape(x);
        return x.view(s[0], s[1], s[2], s[3] / 2, 2).transpose(3, 4).reshape(s);
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> Rope3d.freqs(new long[]{16, 56}, new long[]{3, 4, 5}, 256));
        assertThrows(IllegalArgumentException.class, () -> Rope3d.freqs(new long[]{15}, new long[]{3}, 256));
        assertThrows(IllegalArgumentException.class, () -> Rope3d.freqs(new long[]{16}, new long[]{0}, 256));
        try (PointerScope scope = new PointerScope()) {
            Tensor cos = ref.tensor("out.freqs_cos");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> RopeReference.apply(ref.tensor("in.q").narrow(1, 0, 10), cos, ref.tensor("out.freqs_sin")));
            assertTrue(e.getMessage().contains("x must be"), e.getMessage());
        }
    }
}
