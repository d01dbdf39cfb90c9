package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Streaming changes nothing but where the weights live: the {@code vae_tiny} VAE streamed through device slots
 * decodes (untiled, tiled, to a frame sink) and encodes bit for bit as the resident one, call after call, and its
 * slots take the bytes {@link VaeMemory#streamedWeightBytes} counts.
 */
class StreamedVaeTest {
    private static final Device CPU = new Device("cpu");

    private static ReferenceCase ref;
    private static VaeConfig config;
    private static CausalVideoVae resident;
    private static CausalVideoVae streamed;

    @BeforeAll
    static void load() {
        ref = ReferenceCase.load("vae_tiny");
        config = VaeConfig.fromJson(ref.config());
        resident = VaeTinyReferenceTest.tinyVae(ref);
        streamed = CausalVideoVae.load(ref.modelWeights(), config, CPU, ScalarType.Float, true);
    }

    @AfterAll
    static void close() {
        streamed.close();
        resident.close();
        ref.close();
    }

    @Test
    void untiledDecodeEqualsResident() {
        setTiling(TilingConfig.disabled());
        try (PointerScope scope = new PointerScope()) {
            Tensor z = ref.tensor("out.posterior_mean");
            Tensor expected = resident.decode(z);
            for (int call = 0; call < 2; call++) {
                assertTrue(torch.equal(streamed.decode(z), expected), "call " + call + " differs");
            }
        }
    }

    /**
     * The tiled decode runs the decoder once per tile, so the slots cycle through the parts many times. (The resident
     * frame sink gives the resident decode's frames: {@link VaeTinyReferenceTest}.)
     */
    @Test
    void tiledDecodeAndFrameSinkEqualResident() {
        setTiling(VaeTinyReferenceTest.tilingForX2(ref));
        try (PointerScope scope = new PointerScope()) {
            Tensor z = ref.tensor("out.tiled_posterior_mean");
            Tensor expected = resident.decode(z);
            long copiedBefore = streamed.streamedBytesCopied();
            assertTrue(torch.equal(streamed.decode(z), expected));
            long perDecode = streamed.streamedBytesCopied() - copiedBefore;
            long decoderBytes = Arrays.stream(CausalVideoVae.partBytes(config, ScalarType.Float)[1]).sum();
            assertTrue(perDecode > decoderBytes, "copied " + perDecode + " bytes, the decoder has " + decoderBytes);

            int[] chunks = {0};
            streamed.decode(z, (frames, first) -> {
                assertTrue(torch.equal(frames, expected.narrow(2, first, frames.size(2))), "chunk " + chunks[0]);
                chunks[0]++;
            });
            assertTrue(chunks[0] > 1, "x2 spans several temporal tiles");
        } finally {
            setTiling(TilingConfig.of(config));
        }
    }

    @Test
    void encodeEqualsResident() {
        setTiling(TilingConfig.disabled());
        try (PointerScope scope = new PointerScope()) {
            Tensor x = ref.tensor("in.x");
            DiagonalGaussian expected = resident.encode(x);
            DiagonalGaussian actual = streamed.encode(x);
            assertTrue(torch.equal(actual.mean(), expected.mean()));
            assertTrue(torch.equal(actual.logvar(), expected.logvar()));
        } finally {
            setTiling(TilingConfig.of(config));
        }
    }

    /** The live model's slots, float32 and fp16 (float32 norms among half weights), are what VaeMemory counts. */
    @Test
    void slotBytesAreWhatVaeMemoryCounts() {
        assertTrue(streamed.streamed());
        assertFalse(resident.streamed());
        assertEquals(0, resident.streamingSlotBytes());
        assertEquals(VaeMemory.streamedWeightBytes(config, ScalarType.Float), streamed.streamingSlotBytes());
        try (CausalVideoVae half = CausalVideoVae.withRandomWeights(config, CPU, ScalarType.Half, 1, true)) {
            assertEquals(VaeMemory.streamedWeightBytes(config, ScalarType.Half), half.streamingSlotBytes());
        }
    }

    private static void setTiling(TilingConfig tiling) {
        resident.setTiling(tiling);
        streamed.setTiling(tiling);
    }
}
