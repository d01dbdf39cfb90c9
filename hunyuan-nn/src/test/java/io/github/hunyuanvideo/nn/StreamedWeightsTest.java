package io.github.hunyuanvideo.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link StreamedWeights} on the CPU: whatever the order in which layers are acquired, an acquired layer's bound
 * tensors hold exactly that layer's values; the ring copies each layer once per cycle in cyclic order; misuse is
 * refused.
 */
class StreamedWeightsTest {
    /** Layer {@code i}: a weight [rows, 3] and a bias [rows] (rows vary, so layers differ in size), seeded values. */
    private static void bindLayer(Parameters p, int i) {
        long rows = 2 + i % 3;
        p.tensor("layer" + i + ".weight", rows, 3);
        p.tensor("layer" + i + ".bias", rows);
    }

    private static final class Layers implements AutoCloseable {
        final Parameters params;
        final StreamedWeights streamed;
        final List<Tensor[]> bound = new ArrayList<>();
        final List<Tensor[]> expected = new ArrayList<>();

        Layers(int n, int depth, long seed) {
            long[] bytes = new long[n];
            for (int i = 0; i < n; i++) {
                int layer = i;
                bytes[i] = StreamedWeights.layerBytes(ScalarType.Float, p -> bindLayer(p, layer));
            }
            streamed = new StreamedWeights(new Device("cpu"), bytes, depth);
            params = Parameters.random(new Device("cpu"), ScalarType.Float, seed);
            for (int i = 0; i < n; i++) {
                int layer = i;
                long rows = 2 + i % 3;
                Tensor[] t = params.placing(streamed.placement(i), () -> new Tensor[]{
                        params.tensor("layer" + layer + ".weight", rows, 3), params.tensor("layer" + layer + ".bias",
                        rows)});
                bound.add(t);
            }
            // the expected values: the same seeded draws, bound resident
            try (Parameters resident = Parameters.random(new Device("cpu"), ScalarType.Float, seed)) {
                for (int i = 0; i < n; i++) {
                    long rows = 2 + i % 3;
                    Tensor w = resident.tensor("layer" + i + ".weight", rows, 3).clone();
                    Tensor b = resident.tensor("layer" + i + ".bias", rows).clone();
                    w.retainReference();
                    b.retainReference();
                    expected.add(new Tensor[]{w, b});
                }
            }
        }

        void assertHolds(int layer) {
            for (int k = 0; k < 2; k++) {
                assertTrue(torch.equal(bound.get(layer)[k], expected.get(layer)[k]), "layer " + layer + " tensor " + k);
            }
        }

        @Override
        public void close() {
            params.close();
            streamed.close();
            expected.forEach(t -> {
                t[0].releaseReference();
                t[1].releaseReference();
            });
        }
    }

    static Stream<Arguments> rings() {
        List<Arguments> out = new ArrayList<>();
        long seed = 7;
        for (int n : new int[]{1, 2, 3, 5, 8}) {
            for (int depth : new int[]{1, 2, 4}) {
                out.add(Arguments.of(n, depth, seed++));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} layers, depth {1}")
    @MethodSource("rings")
    void cyclicUseHoldsEachLayerAndCopiesItOncePerCycle(int n, int depth, long seed) {
        try (PointerScope scope = new PointerScope(); Layers layers = new Layers(n, depth, seed)) {
            int cycles = 3;
            for (int c = 0; c < cycles; c++) {
                for (int i = 0; i < n; i++) {
                    layers.streamed.acquire(i);
                    layers.assertHolds(i);
                    layers.streamed.release(i);
                }
            }
            int slots = Math.min(depth + 1, n);
            assertEquals(slots, layers.streamed.slots());
            if (n <= slots) {
                assertEquals(n, layers.streamed.copies(), "every layer has a slot of its own: copied once");
            } else if (n % slots == 0) {
                // each layer once per cycle, plus the next cycle's first layers, prefetched by the last releases
                assertEquals((long) n * cycles + slots, layers.streamed.copies());
            } else {
                // the ring does not divide the layers: at the wrap a layer may be copied again, never more than twice
                assertTrue(layers.streamed.copies() <= 2L * n * cycles, "copies " + layers.streamed.copies());
            }
        }
    }

    @ParameterizedTest(name = "{0} layers, depth {1}")
    @MethodSource("rings")
    void anyOrderHoldsTheAcquiredLayer(int n, int depth, long seed) {
        Random random = new Random(seed);
        try (PointerScope scope = new PointerScope(); Layers layers = new Layers(n, depth, seed)) {
            for (int k = 0; k < 40; k++) {
                int i = random.nextInt(n);
                layers.streamed.acquire(i);
                layers.assertHolds(i);
                layers.streamed.release(i);
            }
        }
    }

    @Test
    void misuseIsRefused() {
        try (PointerScope scope = new PointerScope(); Layers layers = new Layers(4, 1, 3)) {
            StreamedWeights s = layers.streamed;
            assertThrows(IllegalStateException.class, () -> s.release(0), "not acquired");
            s.acquire(0);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.acquire(2));
            assertTrue(e.getMessage().contains("held by layer 0"), e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> s.acquire(4));
            s.release(0);
            s.close();
            assertThrows(IllegalStateException.class, () -> s.acquire(1));
        }
        assertThrows(IllegalArgumentException.class, () -> new StreamedWeights(new Device("cpu"), new long[0], 1));
        assertThrows(IllegalArgumentException.class, () -> new StreamedWeights(new Device("cpu"), new long[]{512}, 0));
    }

    @Test
    void layerBytesAlignEveryTensor() {
        // a [2, 3] float32 (24 bytes) and a [2] (8 bytes): each starts on a 512-byte boundary
        assertEquals(1024, StreamedWeights.layerBytes(ScalarType.Float, p -> bindLayer(p, 0)));
        assertEquals(512, StreamedWeights.layerBytes(ScalarType.Float, p -> p.tensor("w", 128)));
        assertEquals(1024, StreamedWeights.layerBytes(ScalarType.BFloat16, p -> p.tensor("w", 257)));
    }
}
