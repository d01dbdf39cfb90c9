package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tiny official DiT ({@code dit_tiny}) on CPU float32: the whole batch with every intermediate and the output
 * within 1e-4 relative (padded text rows included, varlen semantics, when the batch runs with its padding), and each
 * sample alone, through the batch-1 path that drops the padded text tokens. The RoPE tables the transformer builds
 * equal the case's {@code in.freqs_*}.
 */
class DitReferenceTest {
    static final double TOL = 1e-4;
    private static ReferenceCase ref;
    private static DitConfig cfg;
    private static HunyuanVideoTransformer model;

    @BeforeAll
    static void load() {
        ref = ReferenceCase.load("dit_tiny");
        cfg = DitConfig.fromJson(ref.config());
        model = DitCheckpoint.loadOfficial(weightsOnly(ref.tensors()), cfg, new Device("cpu"), ScalarType.Float);
    }

    @AfterAll
    static void close() {
        model.close();
        ref.close();
    }

    /** The case's weights without its in/mid/out tensors. */
    static Weights weightsOnly(Weights all) {
        return all.rename(n -> n.startsWith("in.") || n.startsWith("mid.") || n.startsWith("out.") ? null : n);
    }

    /** The case's inputs {@code in.*} (the RoPE tables are built by the model). */
    static DitInputs inputs(ReferenceCase c) {
        return new DitInputs(c.tensor("in.x"), c.tensor("in.t"), c.tensor("in.text_states"), c.tensor("in.text_mask"),
                c.tensor("in.text_states_2"), c.tensors().contains("in.guidance") ? c.tensor("in.guidance") : null);
    }

    /** The {@code mid.*} names of the case, from its JSON. */
    private static List<String> midNames() {
        List<String> names = new ArrayList<>();
        Iterator<String> it = ref.json().get("tensors").fieldNames();
        while (it.hasNext()) {
            String n = it.next();
            if (n.startsWith("mid.")) {
                names.add(n.substring(4));
            }
        }
        return names;
    }

    private static long batch() {
        return ref.tensor("in.x").size(0);
    }

    /** Image tokens of the case: its latent grid over the patch. */
    private static long imageTokens() {
        long n = 1;
        for (int i = 0; i < 3; i++) {
            n *= ref.tensor("in.x").size(2 + i) / cfg.patchSize().get(i);
        }
        return n;
    }

    /** Valid text tokens of sample {@code s}. */
    private static long validText(long s) {
        long textLen = ref.tensor("in.text_mask").size(1);
        long[] mask = Tensors.toLongArray(ref.tensor("in.text_mask"));
        return Arrays.stream(mask, (int) (s * textLen), (int) ((s + 1) * textLen)).sum();
    }

    @Test
    void ropeTablesAreTheCaseInputs() {
        long[] dims = cfg.ropeDimList().stream().mapToLong(Integer::longValue).toArray();
        long[] grid = new long[3];
        for (int i = 0; i < 3; i++) {
            grid[i] = ref.tensor("in.x").size(2 + i) / cfg.patchSize().get(i);
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor[] cs = Rope3d.freqs(dims, grid, cfg.ropeTheta());
            ref.assertClose("in.freqs_cos", cs[0], 1e-6);
            ref.assertClose("in.freqs_sin", cs[1], 1e-6);
        }
    }

    @Test
    void wholeBatchMatchesEveryIntermediate() {
        long b = batch();
        Map<String, Double> errors = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            Tensor out = model.forward(inputs(ref), (name, value) -> {
                if (name.equals("cu_seqlens")) {
                    assertArrayEquals(expectedCuSeqlens(0, b), Tensors.toLongArray(value));
                    errors.put(name, 0.0);
                } else {
                    errors.put(name, Tensors.relativeError(value, expectedRows(name, 0, b)));
                }
            });
            assertEquals(ScalarType.Float, out.scalar_type().intern());
            double outErr = ref.assertClose("out.x", out, TOL);
            System.out.printf("dit_tiny batch %d: out.x %.2e, worst mid %s%n", b, outErr,
                    errors.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow());
        }
        for (String name : midNames()) {
            assertTrue(errors.containsKey(name), "mid." + name + " was never produced");
            assertTrue(errors.get(name) <= TOL, "mid." + name + " relative error " + errors.get(name));
        }
    }

    @Test
    void eachSampleAloneMatchesItsRows() {
        for (long s = 0; s < batch(); s++) {
            long sample = s;
            Map<String, Double> errors = new LinkedHashMap<>();
            try (PointerScope scope = new PointerScope()) {
                Tensor out = model.forward(inputs(ref).samples(s, 1), (name, value) -> {
                    if (name.equals("cu_seqlens")) {
                        assertArrayEquals(expectedCuSeqlens(sample, 1), Tensors.toLongArray(value), "sample " + sample);
                        errors.put(name, 0.0);
                    } else {
                        errors.put(name, Tensors.relativeError(value, expectedRows(name, sample, 1)));
                    }
                });
                double err = Tensors.relativeError(out, ref.tensor("out.x").narrow(0, s, 1));
                assertTrue(err <= TOL, "sample " + s + " out.x relative error " + err);
            }
            for (String name : midNames()) {
                assertTrue(errors.containsKey(name), "sample " + s + ": mid." + name + " never produced");
                assertTrue(errors.get(name) <= TOL, "sample " + s + ": mid." + name + " " + errors.get(name));
            }
        }
    }

    /**
     * The {@code cu_seqlens} a run of samples [from, from+count) reports. With more than one sample the whole batch
     * runs with its padding: the case's official {@code get_cu_seqlens}. A single sample runs without its padded text
     * tokens: one segment of image + valid text, and an empty padded one.
     */
    private static long[] expectedCuSeqlens(long from, long count) {
        if (count > 1) {
            return Tensors.toLongArray(ref.tensor("mid.cu_seqlens"));
        }
        long n = imageTokens() + validText(from);
        return new long[]{0, n, n};
    }

    /**
     * The reference rows of {@code mid.name} a run of samples [from, from+count) must reproduce: all of them with more
     * than one sample; for a single sample, which runs without its padded text tokens, the image and valid text rows.
     */
    private static Tensor expectedRows(String name, long from, long count) {
        Tensor r = ref.tensor("mid." + name).narrow(0, from, count);
        if (count > 1) {
            return r;
        }
        long n = validText(from);
        if (name.startsWith("txt_in.input_embedder") || name.startsWith("txt_in.refiner_block") || name.equals("txt_in")
                || name.endsWith(".txt")) {
            return r.narrow(1, 0, n);
        }
        if (name.startsWith("single_blocks.")) {
            return r.narrow(1, 0, imageTokens() + n);
        }
        return r;
    }
}
