package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.hunyuanvideo.io.SafetensorsWriter;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

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

    /** The case's text model tensors ({@code text_model.*}) without the prefix. */
    private static Weights textModelTensors() {
        return CASE.tensors().stripPrefix("text_model.");
    }

    @Test
    void expectedShapesAreTheCasesTextModelTensors() {
        Map<String, long[]> expected = ClipTextEncoder.expectedShapes(ClipTextConfig.fromJson(CASE.cfg("full_config")));
        Weights w = textModelTensors();
        assertEquals(w.names(), expected.keySet());
        for (String name : w.names()) {
            assertArrayEquals(w.shape(name), expected.get(name), name);
        }
    }

    /** An old snapshot's saved position_ids buffer and its vision tower are ignored; other tensors are not. */
    @Test
    void aSavedPositionIdsBufferIsIgnoredButAnUnexpectedTensorIsNamed(@TempDir Path dir) throws IOException {
        folder(dir, CASE.cfg("full_config"), true);
        ClipTextConfig c = ClipTextConfig.fromJson(CASE.cfg("full_config"));
        long[] positions = new long[c.maxPositions()];
        Arrays.setAll(positions, i -> i);
        Path extra = dir.resolve("extra.safetensors");
        try (PointerScope scope = new PointerScope()) {
            SafetensorsWriter.write(extra, Map.of("text_model.embeddings.position_ids",
                    Tensors.fromLongs(positions, 1, c.maxPositions()), "vision_model.embeddings.position_ids",
                    Tensors.fromLongs(positions, 1, c.maxPositions())), Map.of());
        }
        try (ClipTextEncoder enc = ClipTextEncoder.fromPretrained(dir, CPU, ScalarType.Float);
             ClipOutput out = enc.encodeIds(CASE.tensor("in.input_ids"), CASE.tensor("in.attention_mask"))) {
            CASE.report("out.pooler_output", out.pooled());
        }
        Files.delete(extra);
        String unexpected = "encoder.layers.0.mlp.fc3.weight";
        try (PointerScope scope = new PointerScope()) {
            SafetensorsWriter.write(extra, Map.of("text_model." + unexpected,
                    Tensors.fromFloats(new float[c.hiddenSize()], 1, c.hiddenSize())), Map.of());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClipTextEncoder.fromPretrained(dir, CPU, ScalarType.Float));
        assertTrue(e.getMessage().contains(unexpected) && e.getMessage().contains(dir.toString()), e.getMessage());
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
    void maxLengthSetsTheTokenizedLength(@TempDir Path dir) throws IOException {
        Path folder = folder(dir, CASE.cfg("full_config"), true);
        int positions = ClipTextConfig.fromJson(CASE.cfg("full_config")).maxPositions();
        try (ClipTextEncoder full = ClipTextEncoder.fromPretrained(folder, CPU, ScalarType.Float);
             ClipTextEncoder shorter = ClipTextEncoder.fromPretrained(folder, folder, positions - 1, CPU,
                     ScalarType.Float)) {
            assertEquals(positions, full.tokenize(List.of("a cat")).inputIds()[0].length);
            assertEquals(positions - 1, shorter.tokenize(List.of("a cat")).inputIds()[0].length);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClipTextEncoder.fromPretrained(folder, folder, positions + 1, CPU, ScalarType.Float));
        assertTrue(e.getMessage().startsWith("maxLength:") && e.getMessage().contains(String.valueOf(positions)),
                e.getMessage());
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
                 Parameters p = Parameters.of(textModelTensors(), CPU, ScalarType.Float);
                 ClipTextModel model = ClipTextModel.load(c, p)) {
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
            Arrays.fill(mask, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> enc.encodeIds(Tensors.fromLongs(ids, 1, len), Tensors.fromLongs(mask, 1, len)));
            assertTrue(e.getMessage().contains("positions"), e.getMessage());
        }
    }
}
