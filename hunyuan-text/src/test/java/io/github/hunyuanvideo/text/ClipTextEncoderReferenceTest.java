package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLIP text transformer against the official {@code TextEncoder.encode} (clipL) on {@code text_clip_tiny}. */
class ClipTextEncoderReferenceTest {
    private static final Device CPU = new Device("cpu");
    @RegisterExtension
    static final TinyCase CASE = new TinyCase("text_clip_tiny", 1e-4);

    private static Path folder(Path dir, JsonNode config, boolean prefixed) throws IOException {
        return ClipFolders.write(dir, CASE.ref(), config, prefixed);
    }

    @Test
    void pooledAndLastHiddenStateMatch(@TempDir Path dir) throws IOException {
        try (ClipTextEncoder enc = ClipTextEncoder.fromPretrained(folder(dir, CASE.cfg("full_config"), true), CPU,
                ScalarType.Float);
             ClipOutput out = enc.encodeIds(CASE.tensor("in.input_ids"), CASE.tensor("in.attention_mask"))) {
            CASE.report("out.pooler_output", out.pooled());
            CASE.report("out.last_hidden_state", out.lastHiddenState());
        }
    }

    @Test
    void bothPoolingRulesPickTheCasesEosPositions(@TempDir Path dir) throws IOException {
        long[] expected = new long[CASE.cfg("eos_positions").size()];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = CASE.cfg("eos_positions").get(i).asLong();
        }
        ObjectNode legacy = CASE.cfg("full_config").deepCopy();
        legacy.put("eos_token_id", ClipTextConfig.LEGACY_EOS_TOKEN_ID);
        for (JsonNode config : List.of(CASE.cfg("full_config"), legacy)) {
            ClipTextConfig c = ClipTextConfig.fromJson(config);
            try (PointerScope scope = new PointerScope();
                 ClipTextModel model = ClipTextModel.load(c,
                         TensorLoader.of(CASE.tensors().stripPrefix("text_model."), CPU, ScalarType.Float))) {
                assertArrayEquals(expected, Tensors.toLongArray(model.pooledPositions(CASE.tensor("in.input_ids"))),
                        "eos_token_id " + c.eosTokenId());
            }
        }
        try (ClipTextEncoder enc = ClipTextEncoder.fromPretrained(folder(dir, legacy, false), CPU, ScalarType.Float);
             ClipOutput out = enc.encodeIds(CASE.tensor("in.input_ids"), CASE.tensor("in.attention_mask"))) {
            CASE.report("out.pooler_output", out.pooled());
        }
    }

    @Test
    void encodeTokenizesAndPoolsLikeEncodeIds(@TempDir Path dir) throws IOException {
        try (ClipTextEncoder enc = ClipTextEncoder.fromPretrained(folder(dir, CASE.cfg("full_config"), true), CPU,
                ScalarType.Float);
             PointerScope scope = new PointerScope()) {
            List<String> prompts = List.of("A photo of a cat", "a dog runs on the grass");
            TokenizedPrompts tokens = enc.tokenize(prompts);
            assertEquals(CASE.cfg("max_position_embeddings").asInt(), tokens.length());
            Tensor pooled = enc.encode(prompts);
            try (ClipOutput direct = enc.encodeIds(tokens.inputIdsTensor(), tokens.attentionMaskTensor())) {
                assertEquals(0.0, Tensors.relativeError(pooled, direct.pooled()), 1e-7);
            }
            assertArrayEquals(new long[]{prompts.size(), CASE.cfg("hidden_size").asLong()}, Tensors.shape(pooled));
            enc.release();
            assertFalse(enc.isLoaded());
            Tensor again = enc.encode(prompts);
            assertTrue(enc.isLoaded());
            assertEquals(0.0, Tensors.relativeError(again, pooled), 1e-7);
            again.releaseReference();
            pooled.releaseReference();
        }
    }

    @Test
    void tooManyPositionsAreRejected(@TempDir Path dir) throws IOException {
        try (ClipTextEncoder enc = ClipTextEncoder.fromPretrained(folder(dir, CASE.cfg("full_config"), true), CPU,
                ScalarType.Float)) {
            int len = CASE.cfg("max_position_embeddings").asInt() + 1;
            long[] ids = new long[len];
            long[] mask = new long[len];
            java.util.Arrays.fill(mask, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> enc.encodeIds(Tensors.fromLongs(ids, 1, len), Tensors.fromLongs(mask, 1, len)));
            assertTrue(e.getMessage().contains("positions"), e.getMessage());
        }
    }
}
