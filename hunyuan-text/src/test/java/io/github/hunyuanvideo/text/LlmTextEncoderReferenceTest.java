package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.Weights;
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
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Llama hidden-state encoder against the official {@code TextEncoder.encode} on {@code text_llm_tiny}. */
class LlmTextEncoderReferenceTest {
    private static final Device CPU = new Device("cpu");
    @RegisterExtension
    static final TinyCase CASE = new TinyCase("text_llm_tiny", 1e-4);

    private static int cropStart() {
        return CASE.cfg("crop_start").asInt();
    }

    /** A HF folder with LlamaForCausalLM keys ({@code model.*} + lm_head) in one file, or bare keys in 3 shards. */
    private static Path folder(Path dir, boolean prefixed) throws IOException {
        HfFolders.writeConfig(dir, CASE.cfg("full_config"));
        if (prefixed) {
            HfFolders.writeWeights(dir, CASE.tensors(),
                    n -> n.startsWith("model.") || n.startsWith("lm_head.") ? n : null, 1);
        } else {
            HfFolders.writeWeights(dir, CASE.tensors(),
                    n -> n.startsWith("model.") ? n.substring("model.".length()) : null, 3);
        }
        HfFolders.copyTokenizer(TokenizerDirs.llama3(), dir);
        return dir;
    }

    @Test
    void everyHiddenStateMatches() {
        LlamaConfig c = LlamaConfig.fromJson(CASE.cfg("full_config"));
        Weights w = CASE.tensors().stripPrefix("model.");
        try (PointerScope scope = new PointerScope();
             LlamaModel model = LlamaModel.load(c, TensorLoader.of(w, CPU, ScalarType.Float), c.numLayers(), true)) {
            List<Tensor> hs = model.hiddenStates(CASE.tensor("in.input_ids"), CASE.tensor("in.attention_mask"));
            assertEquals(c.numLayers() + 1, hs.size());
            for (int i = 0; i < hs.size(); i++) {
                CASE.report("mid.hidden_states." + i, hs.get(i));
            }
            CASE.report("mid.last_hidden_state", hs.get(hs.size() - 1));
            hs.forEach(Tensor::releaseReference);
        }
    }

    @Test
    void defaultSettingsGiveTheSkipTwoStateFromAShardedBareFolder(@TempDir Path dir) throws IOException {
        try (LlmTextEncoder enc = LlmTextEncoder.fromPretrained(folder(dir, false), LlmEncoderOptions.defaults(),
                CPU, ScalarType.Float);
             TextEncoding out = enc.encodeIds(CASE.tensor("in.input_ids"), CASE.tensor("in.attention_mask"),
                     cropStart())) {
            CASE.report("out.hidden_state", out.states());
            assertArrayEquals(Tensors.toLongArray(CASE.tensor("out.attention_mask")), Tensors.toLongArray(out.mask()));
        }
    }

    @Test
    void finalNormVariantsFromAPrefixedFolder(@TempDir Path dir) throws IOException {
        folder(dir, true);
        Pattern variant = Pattern.compile("out\\.final_norm_skip(\\d+)\\.hidden_state");
        int checked = 0;
        for (String key : CASE.tensors().names()) {
            Matcher m = variant.matcher(key);
            if (!m.matches()) {
                continue;
            }
            LlmEncoderOptions opts = new LlmEncoderOptions(LlmEncoderOptions.defaults().textLen(),
                    Integer.parseInt(m.group(1)), true);
            try (LlmTextEncoder enc = LlmTextEncoder.fromPretrained(dir, opts, CPU, ScalarType.Float);
                 TextEncoding out = enc.encodeIds(CASE.tensor("in.input_ids"), CASE.tensor("in.attention_mask"),
                         cropStart())) {
                CASE.report(key, out.states());
                String maskKey = key.replace("hidden_state", "attention_mask");
                String expectedMask = CASE.tensors().contains(maskKey) ? maskKey : "out.attention_mask";
                assertArrayEquals(Tensors.toLongArray(CASE.tensor(expectedMask)), Tensors.toLongArray(out.mask()));
            }
            checked++;
        }
        assertEquals(2, checked, "the case holds the skip-0 and skip-2 final-norm variants");
    }

    @Test
    void releaseFreesTheWeightsAndTheNextCallReloadsThem(@TempDir Path dir) throws IOException {
        try (LlmTextEncoder enc = LlmTextEncoder.fromPretrained(folder(dir, true), LlmEncoderOptions.defaults(),
                CPU, ScalarType.Float)) {
            enc.release();
            assertFalse(enc.isLoaded());
            try (TextEncoding out = enc.encodeIds(CASE.tensor("in.input_ids"), CASE.tensor("in.attention_mask"),
                    cropStart())) {
                assertTrue(enc.isLoaded());
                CASE.report("out.hidden_state", out.states());
            }
        }
    }

    @Test
    void theTokenizerMayLiveInItsOwnFolder(@TempDir Path dir) throws IOException {
        Path model = Files.createDirectories(dir.resolve("text_encoder"));
        HfFolders.writeConfig(model, CASE.cfg("full_config"));
        HfFolders.writeWeights(model, CASE.tensors(), n -> n.startsWith("model.") ? n : null, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlmTextEncoder.fromPretrained(model, LlmEncoderOptions.defaults(), CPU, ScalarType.Float));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
        try (LlmTextEncoder enc = LlmTextEncoder.fromPretrained(model, TokenizerDirs.llama3(),
                LlmEncoderOptions.defaults(), CPU, ScalarType.Float);
             TextEncoding out = enc.encodeIds(CASE.tensor("in.input_ids"), CASE.tensor("in.attention_mask"),
                     cropStart())) {
            CASE.report("out.hidden_state", out.states());
            assertEquals(PromptTemplate.VIDEO.cropStart(), enc.tokenizer().prefixTokens(PromptTemplate.VIDEO));
        }
    }

    @Test
    void badInputsFailEarlyNamingTheProblem(@TempDir Path dir) throws IOException {
        folder(dir, true);
        try (LlmTextEncoder enc = LlmTextEncoder.fromPretrained(dir, LlmEncoderOptions.defaults(), CPU,
                ScalarType.Float)) {
            Tensor ids = CASE.tensor("in.input_ids");
            Tensor mask = CASE.tensor("in.attention_mask");
            long len = ids.size(1);
            IllegalArgumentException crop = assertThrows(IllegalArgumentException.class,
                    () -> enc.encodeIds(ids, mask, (int) len));
            assertTrue(crop.getMessage().contains("cropStart"), crop.getMessage());
            long[] leftPadded = Tensors.toLongArray(mask);
            leftPadded[0] = 0;
            IllegalArgumentException pad = assertThrows(IllegalArgumentException.class,
                    () -> enc.encodeIds(ids, Tensors.fromLongs(leftPadded, Tensors.shape(mask)), cropStart()));
            assertTrue(pad.getMessage().contains("attentionMask"), pad.getMessage());
            long[] big = Tensors.toLongArray(ids);
            big[3] = CASE.cfg("vocab_size").asLong();
            IllegalArgumentException vocab = assertThrows(IllegalArgumentException.class,
                    () -> enc.encodeIds(Tensors.fromLongs(big, Tensors.shape(ids)), mask, cropStart()));
            assertTrue(vocab.getMessage().contains("vocabulary"), vocab.getMessage());
        }
        int layers = CASE.cfg("num_hidden_layers").asInt();
        IllegalArgumentException skip = assertThrows(IllegalArgumentException.class,
                () -> LlmTextEncoder.fromPretrained(dir, new LlmEncoderOptions(256, layers + 1, false), CPU,
                        ScalarType.Float));
        assertTrue(skip.getMessage().contains("hiddenStateSkipLayer"), skip.getMessage());
    }

    @Test
    void aMissingTensorIsNamedBeforeAnyWeightIsCopied(@TempDir Path dir) throws IOException {
        HfFolders.writeConfig(dir, CASE.cfg("full_config"));
        String missing = "model.layers.1.mlp.up_proj.weight";
        HfFolders.writeWeights(dir, CASE.tensors(), n -> n.startsWith("model.") && !n.equals(missing) ? n : null, 1);
        HfFolders.copyTokenizer(TokenizerDirs.llama3(), dir);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlmTextEncoder.fromPretrained(dir, LlmEncoderOptions.defaults(), CPU, ScalarType.Float));
        assertTrue(e.getMessage().contains("layers.1.mlp.up_proj.weight"), e.getMessage());
    }

    @Test
    void aFolderWithoutConfigIsRejected(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("empty"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlmTextEncoder.fromPretrained(dir.resolve("empty"), LlmEncoderOptions.defaults(), CPU,
                        ScalarType.Float));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }
}
