package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.io.testing.Stdout;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The blocks' attention backend, chosen per forward by {@link DitInputs#attention()}, on the tiny golden DiT
 * ({@code dit_tiny}, CPU float32): INT8 falls back to SDPA off Hopper (identical output, one warning per model), each
 * backend's kernel runs every varlen segment of every block, and the 8-bit arithmetic
 * ({@link QuantizedAttention#reference}) in place of SDPA stays within {@value #INT8_TOL} of the golden output.
 */
class AttentionBackendTest {
    /** The bar for the 8-bit attention, relative L2 of the DiT's output. */
    static final double INT8_TOL = 3e-2;
    private static final String FALLBACK_WARNING = "attention int8: no CUDA device; the DiT runs SDPA instead";
    private static ReferenceCase ref;
    private static DitConfig cfg;

    @BeforeAll
    static void load() {
        ref = ReferenceCase.load("dit_tiny");
        cfg = DitConfig.fromJson(ref.config());
    }

    @AfterAll
    static void close() {
        ref.close();
    }

    private static HunyuanVideoTransformer model() {
        return DitCheckpoint.loadOfficial(DitReferenceTest.weightsOnly(ref.tensors()), cfg, new Device("cpu"),
                ScalarType.Float);
    }

    @Test
    void int8WithoutCudaRunsSdpaAndWarnsOncePerModel() {
        DitInputs in = DitReferenceTest.inputs(ref);
        try (PointerScope scope = new PointerScope(); HunyuanVideoTransformer dit = model()) {
            Tensor sdpa = dit.forward(in);
            Tensor[] int8 = new Tensor[2];
            String log = Stdout.captureErr(() -> {
                int8[0] = dit.forward(in.withAttention(Attention.INT8));
                int8[1] = dit.forward(in.withAttention(Attention.INT8).samples(1, 1));
            });
            assertTrue(torch.equal(sdpa, int8[0]), "INT8 on the CPU must be SDPA, bit for bit");
            assertTrue(torch.equal(dit.forward(in.samples(1, 1)), int8[1]), "sample 1 alone");
            assertEquals(1, log.lines().filter(l -> l.contains(FALLBACK_WARNING)).count(), log);
            // SDPA, the default, never warns
            assertEquals("", Stdout.captureErr(() -> dit.forward(in)));
        }
        try (PointerScope scope = new PointerScope(); HunyuanVideoTransformer another = model()) {
            String log = Stdout.captureErr(() -> another.forward(in.withAttention(Attention.INT8)));
            assertEquals(1, log.lines().filter(l -> l.contains(FALLBACK_WARNING)).count(), log);
        }
    }

    /**
     * A routed kernel sees each call of its backend only: every segment (per sample, the valid tokens and the padded
     * text tokens) of every double and single block.
     */
    @Test
    void eachBackendsKernelRunsEverySegmentOfEveryBlock() {
        DitInputs in = DitReferenceTest.inputs(ref);
        long batch = in.textMask().size(0);
        long textLen = in.textMask().size(1);
        long[] mask = Tensors.toLongArray(in.textMask());
        long[] validText = new long[(int) batch];
        for (int s = 0; s < batch; s++) {
            validText[s] = Arrays.stream(mask, (int) (s * textLen), (int) ((s + 1) * textLen)).sum();
        }
        // a second segment where the text is padded; all samples in one call when their valid lengths agree
        long perBlock = Arrays.stream(validText).distinct().count() == 1 ? (validText[0] < textLen ? 2 : 1)
                : Arrays.stream(validText).map(n -> n < textLen ? 2 : 1).sum();
        long blocks = cfg.doubleBlocks() + cfg.singleBlocks();
        AtomicInteger calls = new AtomicInteger();
        try (PointerScope scope = new PointerScope(); HunyuanVideoTransformer dit = model()) {
            dit.routeAttention(Attention.INT8, (q, k, v) -> {
                calls.incrementAndGet();
                return JointAttention.SDPA.attend(q, k, v);
            });
            ref.assertClose("out.x", dit.forward(in), DitReferenceTest.TOL);
            assertEquals(0, calls.get(), "an SDPA forward calls no INT8 kernel");
            ref.assertClose("out.x", dit.forward(in.withAttention(Attention.INT8)), DitReferenceTest.TOL);
            assertEquals(blocks * perBlock, calls.get());
            calls.set(0);
            dit.forward(in.withAttention(Attention.INT8).samples(0, 1));
            assertEquals(blocks, calls.get(), "batch 1: the padding is dropped, one call per block");
        }
    }

    /**
     * The quantized arithmetic (P·V in bf16, then in FP8) in every block attention, the batch with its padded segments
     * and each sample alone.
     */
    @ParameterizedTest
    @EnumSource(value = Attention.class, names = {"INT8", "INT8_FP8"})
    void int8ReferenceArithmeticStaysNearTheGoldenOutput(Attention backend) {
        DitInputs in = DitReferenceTest.inputs(ref).withAttention(backend);
        Tensor golden = ref.tensor("out.x");
        try (PointerScope scope = new PointerScope(); HunyuanVideoTransformer dit = model()) {
            dit.routeAttention(backend, (q, k, v) -> QuantizedAttention.reference(q, k, v, backend.valueProduct())
                    .to(q.scalar_type()));
            double batch = Tensors.relativeError(dit.forward(in), golden);
            System.out.printf("dit_tiny with 8-bit reference attention (%s): batch rel. error %.3e%n", backend,
                    batch);
            assertTrue(batch > 0 && batch <= INT8_TOL, "batch: " + batch);
            for (long s = 0; s < golden.size(0); s++) {
                double alone = Tensors.relativeError(dit.forward(in.samples(s, 1)), golden.narrow(0, s, 1));
                System.out.printf("  sample %d alone: %.3e%n", s, alone);
                assertTrue(alone > 0 && alone <= INT8_TOL, "sample " + s + ": " + alone);
            }
        }
    }

    @Test
    void inputsCarryTheirBackend() {
        DitInputs in = DitReferenceTest.inputs(ref);
        assertSame(Attention.SDPA, in.attention());
        DitInputs int8 = in.withAttention(Attention.INT8);
        assertSame(Attention.INT8, int8.attention());
        assertSame(Attention.INT8, int8.samples(1, 1).attention());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> in.withAttention(null));
        assertEquals("attention: must not be null", e.getMessage());
        assertSame(Attention.INT8, Attention.parse("int8"));
        assertSame(Attention.SDPA, Attention.parse("SDPA"));
        assertSame(Attention.INT8_FP8, Attention.parse("int8-fp8"));
        assertSame(Attention.INT8_FP8, Attention.parse("INT8_FP8"));
        e = assertThrows(IllegalArgumentException.class, () -> Attention.parse("fp8"));
        assertEquals("attention: expected one of [sdpa, int8, int8-fp8], got 'fp8'", e.getMessage());
    }
}
