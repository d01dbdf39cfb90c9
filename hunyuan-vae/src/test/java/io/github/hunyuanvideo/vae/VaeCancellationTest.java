package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Cancellation;
import io.github.hunyuanvideo.nn.CancelledException;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link CausalVideoVae#decode(Tensor, BooleanSupplier)} and {@link CausalVideoVae#decode(Tensor, BooleanSupplier,
 * FrameSink)} on {@code vae_tiny}: a cancelled decode stops within a tile.
 */
class VaeCancellationTest {
    private static ReferenceCase ref;
    private static CausalVideoVae vae;

    @BeforeAll
    static void load() {
        ref = ReferenceCase.load("vae_tiny");
        vae = VaeTinyReferenceTest.tinyVae(ref);
    }

    @AfterAll
    static void close() {
        vae.close();
        ref.close();
    }

    @AfterEach
    void officialTiling() {
        vae.setTiling(TilingConfig.of(vae.config()));
    }

    /**
     * A check that counts how often it is asked (once before the first tile, then once per decoded tile) and reports
     * {@link #cancelled}, which it sets itself right after call {@code cancelAfterCall}: as if the user cancelled
     * just after that check, while the next tile runs.
     */
    private static final class CountingCheck implements BooleanSupplier {
        final AtomicInteger asked = new AtomicInteger();
        final AtomicBoolean cancelled = new AtomicBoolean();
        private final int cancelAfterCall;

        CountingCheck(int cancelAfterCall) {
            this.cancelAfterCall = cancelAfterCall;
        }

        @Override
        public boolean getAsBoolean() {
            boolean fire = cancelled.get();
            if (asked.incrementAndGet() == cancelAfterCall) {
                cancelled.set(true);
            }
            return fire;
        }

        int tilesDecoded() {
            return asked.get() - 1;
        }
    }

    /**
     * The x2 latents under the case's tiling run the decoder {@code tiled_decoder_calls} times (12); a cancel that
     * arrives while tile 2 runs stops the decode right after that tile, with the count in the message.
     */
    @Test
    void cancelDuringTheSecondTileStopsAfterIt() {
        vae.setTiling(VaeTinyReferenceTest.tilingForX2(ref));
        int tiles = ref.json().get("tiled_decoder_calls").asInt();
        try (PointerScope scope = new PointerScope()) {
            Tensor z = ref.tensor("out.tiled_posterior_mean");
            assertEquals(tiles, new Tiler(vae.tiling(), vae.config()).decodeTileCount(z));
            CountingCheck check = new CountingCheck(2);
            CancelledException e = assertThrows(CancelledException.class, () -> vae.decode(z, check));
            assertEquals(2, check.tilesDecoded(), "one tile after the one that was running when cancelled");
            assertEquals("after 2 of " + tiles + " tiles", e.getMessage());

            // nothing of the cancelled decode is left behind: the next one is the case's tiled decode
            ref.assertClose("out.tiled_decode", vae.decode(z, Cancellation.NEVER), 1e-4);
        }
    }

    /**
     * Decoding to a frame sink is checked as often: one spatial tile of the x2 latents makes two temporal tiles; a
     * cancel that arrives while the second runs stops after it, once the first tile's chunk went to the sink.
     */
    @Test
    void cancelledDecodeToASinkStopsWithinATileAndHandsOutOnlyFinishedChunks() {
        vae.setTiling(VaeTinyReferenceTest.tilingForX2(ref));
        try (PointerScope scope = new PointerScope()) {
            int tile = vae.tiling().latentTileSize(vae.config());
            Tensor z = ref.tensor("out.tiled_posterior_mean").narrow(3, 0, tile).narrow(4, 0, tile);
            assertEquals(2, new Tiler(vae.tiling(), vae.config()).decodeTileCount(z));
            List<Long> chunks = new ArrayList<>();
            CountingCheck check = new CountingCheck(2);
            CancelledException e = assertThrows(CancelledException.class,
                    () -> vae.decode(z, check, (frames, first) -> chunks.add(first)));
            assertEquals("after 2 of 2 tiles", e.getMessage());
            assertEquals(List.of(0L), chunks);

            CountingCheck before = new CountingCheck(0);
            before.cancelled.set(true);
            chunks.clear();
            e = assertThrows(CancelledException.class,
                    () -> vae.decode(z, before, (frames, first) -> chunks.add(first)));
            assertEquals("after 0 of 2 tiles", e.getMessage());
            assertEquals(List.of(), chunks);
        }
    }

    /** Untiled, the decode is one tile: asked before it and after it. */
    @Test
    void untiledDecodeIsCheckedBeforeAndAfter() {
        vae.setTiling(TilingConfig.disabled());
        try (PointerScope scope = new PointerScope()) {
            Tensor z = ref.tensor("out.posterior_mean");
            CountingCheck before = new CountingCheck(0);
            before.cancelled.set(true);
            CancelledException e = assertThrows(CancelledException.class, () -> vae.decode(z, before));
            assertEquals("after 0 of 1 tiles", e.getMessage());
            assertEquals(1, before.asked.get());

            CountingCheck after = new CountingCheck(1);
            e = assertThrows(CancelledException.class, () -> vae.decode(z, after));
            assertEquals("after 1 of 1 tiles", e.getMessage());
            assertEquals(1, after.tilesDecoded());
        }
    }
}
