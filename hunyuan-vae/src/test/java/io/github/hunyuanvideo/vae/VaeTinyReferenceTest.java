package io.github.hunyuanvideo.vae;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.nn.Cancellation;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code vae_tiny} golden case on the CPU in float32: posterior, intermediates, full and tiled decode/encode. */
class VaeTinyReferenceTest {
    private static final Logger LOG = LoggerFactory.getLogger(VaeTinyReferenceTest.class);
    private static final double TOL = 1e-4;

    private static ReferenceCase ref;
    private static CausalVideoVae vae;

    @BeforeAll
    static void load() {
        ref = ReferenceCase.load("vae_tiny");
        vae = tinyVae(ref);
    }

    /** The case's VAE, in float32 on the CPU. */
    static CausalVideoVae tinyVae(ReferenceCase ref) {
        return CausalVideoVae.load(ref.modelWeights(), VaeConfig.fromJson(ref.config()), new Device("cpu"),
                ScalarType.Float);
    }

    @AfterAll
    static void close() {
        vae.close();
        ref.close();
    }

    /** The tiling the case used for {@code in.x2} ({@code tiling_for_x2}), both tilings on. */
    static TilingConfig tilingForX2(ReferenceCase ref) {
        JsonNode t = ref.config().get("tiling_for_x2");
        return new TilingConfig(t.get("tile_sample_min_size").asInt(), t.get("tile_sample_min_tsize").asInt(),
                t.get("tile_overlap_factor").asDouble(), true, true);
    }

    @Test
    void posteriorAndEncoderIntermediates() {
        vae.setTiling(TilingConfig.disabled());
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            Tensor x = ref.tensor("in.x");
            assertArrayEquals(shape("x_shape"), Tensors.shape(x));
            Map<String, Tensor> seen = new LinkedHashMap<>();
            Tensor h = vae.encoder().forward(x, (module, out) -> seen.put(module, keep(scope, out)));
            Tensor moments = vae.quantConv().forward(h);
            checkIntermediates("mid.encoder", seen);
            check("mid.moments", moments, TOL);

            DiagonalGaussian posterior = vae.encode(x);
            check("out.posterior_mean", posterior.mean(), TOL);
            check("out.posterior_logvar", posterior.logvar(), TOL);
        }
    }

    @Test
    void fullDecodeAndDecoderIntermediates() {
        vae.setTiling(TilingConfig.disabled());
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            Tensor z = ref.tensor("out.posterior_mean");
            Map<String, Tensor> seen = new LinkedHashMap<>();
            vae.decoder().forward(vae.postQuantConv().forward(z), (module, out) -> seen.put(module, keep(scope, out)));
            checkIntermediates("mid.decoder", seen);
            check("out.decode_mean", vae.decode(z), TOL);
        }
    }

    @Test
    void tiledEncodeAndDecode() {
        VaeConfig config = vae.config();
        JsonNode t = ref.config().get("tiling_for_x2");
        TilingConfig tiling = tilingForX2(ref);
        assertEquals(t.get("tile_latent_min_size").asInt(), tiling.latentTileSize(config));
        assertEquals(t.get("tile_latent_min_tsize").asInt(), tiling.latentTileFrames(config));
        vae.setTiling(tiling);
        try (PointerScope scope = new PointerScope()) {
            Tensor x2 = ref.tensor("in.x2");
            assertArrayEquals(shape("x2_shape"), Tensors.shape(x2));
            DiagonalGaussian posterior = vae.encode(x2);
            check("out.tiled_posterior_mean", posterior.mean(), TOL);
            check("out.tiled_posterior_logvar", posterior.logvar(), TOL);

            Tensor z = ref.tensor("out.tiled_posterior_mean");
            Tensor video = vae.decode(z);
            check("out.tiled_decode", video, TOL);

            // Streaming gives the same frames, in order, without gaps, one chunk per temporal tile.
            List<Tensor> chunks = new ArrayList<>();
            long[] next = {0};
            vae.decode(z, (frames, first) -> {
                assertEquals(next[0], first);
                next[0] += frames.size(2);
                chunks.add(keep(scope, frames));
            });
            assertEquals(video.size(2), next[0]);
            if (z.size(2) > tiling.latentTileFrames(config)) {
                assertTrue(chunks.size() > 1, "x2 spans several temporal tiles");
            } else {
                assertEquals(1, chunks.size());
            }
            Tensor streamed = torch.cat(new org.bytedeco.pytorch.TensorArrayRef(
                    new org.bytedeco.pytorch.TensorVector(chunks.toArray(new Tensor[0]))), 2);
            assertEquals(0.0, Tensors.relativeError(streamed, video));
        } finally {
            vae.setTiling(TilingConfig.of(config));
        }
    }

    /**
     * The official tiled loops ran the encoder and the decoder {@code tiled_encoder_calls} and
     * {@code tiled_decoder_calls} times on {@code in.x2}: the tile plans have as many tiles. Stand-ins of the right
     * output shape take the network's place.
     */
    @Test
    void tilePlansHaveTheOfficialTileCounts() {
        VaeConfig c = vae.config();
        Tiler tiler = new Tiler(tilingForX2(ref), c);
        int[] calls = {0, 0};
        try (PointerScope scope = new PointerScope()) {
            Tensor moments = tiler.encode(ref.tensor("in.x2"), tile -> {
                calls[0]++;
                return torch.zeros(tile.size(0), 2L * c.latentChannels(), c.latentFrames(tile.size(2)),
                        c.latentSize(tile.size(3)), c.latentSize(tile.size(4)));
            });
            Tensor video = tiler.decode(ref.tensor("out.tiled_posterior_mean"), tile -> {
                calls[1]++;
                return torch.zeros(tile.size(0), c.outChannels(), c.decodedFrames(tile.size(2)),
                        c.decodedSize(tile.size(3)), c.decodedSize(tile.size(4)));
            }, Cancellation.NEVER);
            assertEquals(ref.json().get("tiled_encoder_calls").asInt(), calls[0]);
            assertEquals(ref.json().get("tiled_decoder_calls").asInt(), calls[1]);
            assertArrayEquals(shape("x2_shape"), Tensors.shape(video));
            assertEquals(2L * c.latentChannels(), moments.size(1));
        }
    }

    /** Every {@code prefix.*} intermediate of the case against the probe's output of that module. */
    private static void checkIntermediates(String prefix, Map<String, Tensor> seen) {
        List<String> keys = ref.tensors().names().stream().filter(n -> n.startsWith(prefix)).toList();
        assertFalse(keys.isEmpty(), "the case has no " + prefix + " intermediates");
        for (String key : keys) {
            Tensor actual = seen.get(key.substring("mid.".length()));
            assertNotNull(actual, "no probe output for " + key);
            check(key, actual, TOL);
        }
    }

    private static void check(String key, Tensor actual, double tol) {
        LOG.info("vae_tiny {}: relative error {}", key, ref.assertClose(key, actual, tol));
    }

    /** A copy of a tensor that a probe or sink sees only briefly, owned by the test's scope. */
    private static Tensor keep(PointerScope scope, Tensor t) {
        Tensor c = t.clone();
        scope.attach(c);
        return c;
    }

    private static long[] shape(String key) {
        JsonNode arr = ref.config().get(key);
        long[] s = new long[arr.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = arr.get(i).asLong();
        }
        return s;
    }
}
