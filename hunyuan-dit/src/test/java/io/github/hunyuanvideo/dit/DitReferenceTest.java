package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
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
 * The tiny official DiT ({@code dit_tiny}: batch 2 with different text masks) on CPU float32: every intermediate and
 * the output within 1e-4 relative, padded text rows included (varlen semantics); and each sample alone, through the
 * batch-1 path that drops the padded text tokens.
 */
class DitReferenceTest {
    static final double TOL = 1e-4;
    private static ReferenceCase ref;
    private static HunyuanVideoTransformer model;

    @BeforeAll
    static void load() {
        ref = ReferenceCase.load("dit_tiny");
        model = HunyuanVideoTransformer.load(weightsOnly(ref.tensors()), DitConfig.fromJson(ref.config()),
                new Device("cpu"), ScalarType.Float);
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

    /** The inputs {@code in.*} of samples [from, from+count). */
    private static Tensor forward(HunyuanVideoTransformer m, long from, long count, DitProbe probe) {
        return m.forward(in("x", from, count), in("t", from, count), in("text_states", from, count),
                in("text_mask", from, count), in("text_states_2", from, count), ref.tensor("in.freqs_cos"),
                ref.tensor("in.freqs_sin"), in("guidance", from, count), probe);
    }

    private static Tensor in(String name, long from, long count) {
        return ref.tensor("in." + name).narrow(0, from, count);
    }

    @Test
    void batchOfTwoMatchesEveryIntermediate() {
        Map<String, Double> errors = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            Tensor out = forward(model, 0, ref.tensor("in.x").size(0), (name, value) -> {
                if (name.equals("cu_seqlens")) {
                    assertArrayEquals(Tensors.toLongArray(ref.tensor("mid.cu_seqlens")), Tensors.toLongArray(value));
                    errors.put(name, 0.0);
                } else {
                    errors.put(name, Tensors.relativeError(value, ref.tensor("mid." + name)));
                }
            });
            assertEquals(ScalarType.Float, out.scalar_type().intern());
            double outErr = ref.assertClose("out.x", out, TOL);
            System.out.printf("dit_tiny batch 2: out.x %.2e, worst mid %s%n", outErr,
                    errors.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow());
        }
        for (String name : midNames()) {
            assertTrue(errors.containsKey(name), "mid." + name + " was never produced");
            assertTrue(errors.get(name) <= TOL, "mid." + name + " relative error " + errors.get(name));
        }
    }

    @Test
    void eachSampleAloneMatchesItsRows() {
        long batch = ref.tensor("in.x").size(0);
        long[] mask = Tensors.toLongArray(ref.tensor("in.text_mask"));
        long textLen = ref.tensor("in.text_mask").size(1);
        long imageTokens = ref.tensor("in.freqs_cos").size(0);
        for (long s = 0; s < batch; s++) {
            long n = Arrays.stream(mask, (int) (s * textLen), (int) ((s + 1) * textLen)).sum();
            long sample = s;
            Map<String, Double> errors = new LinkedHashMap<>();
            try (PointerScope scope = new PointerScope()) {
                Tensor out = forward(model, s, 1, (name, value) -> {
                    Tensor r = rowsOf(name, sample, n, imageTokens);
                    if (r != null) {
                        errors.put(name, Tensors.relativeError(value, r));
                    }
                });
                double err = Tensors.relativeError(out, ref.tensor("out.x").narrow(0, s, 1));
                assertTrue(err <= TOL, "sample " + s + " out.x relative error " + err);
            }
            for (String name : midNames()) {
                if (!name.equals("cu_seqlens")) {
                    assertTrue(errors.containsKey(name), "sample " + s + ": mid." + name + " never produced");
                    assertTrue(errors.get(name) <= TOL, "sample " + s + ": mid." + name + " " + errors.get(name));
                }
            }
        }
    }

    /** The reference rows a batch-1 run of {@code sample} with {@code n} valid text tokens must reproduce. */
    private static Tensor rowsOf(String name, long sample, long n, long imageTokens) {
        if (name.equals("cu_seqlens")) {
            return null;
        }
        Tensor r = ref.tensor("mid." + name).narrow(0, sample, 1);
        if (name.startsWith("txt_in.input_embedder") || name.startsWith("txt_in.refiner_block") || name.equals("txt_in")
                || name.endsWith(".txt")) {
            return r.narrow(1, 0, n);
        }
        if (name.startsWith("single_blocks.")) {
            return r.narrow(1, 0, imageTokens + n);
        }
        return r;
    }
}
