package io.github.hunyuanvideo.text;

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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
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

    private static final Pattern FINAL_NORM_VARIANT = Pattern.compile("out\\.final_norm_skip(\\d+)\\.hidden_state");
    private static final Pattern SKIP_SETTING = Pattern.compile("hidden_state_skip_layer=(\\d+)");
    private static final Pattern NORM_SETTING = Pattern.compile("apply_final_norm=(True|False)");

    private static int cropStart() {
        return CASE.cfg("crop_start").asInt();
    }

    /** The settings {@code llmCase} states in the description of {@code out.hidden_state}. */
    static LlmEncoderOptions statedOptions(TinyCase llmCase) {
        String desc = llmCase.ref().json().get("tensors").get("out.hidden_state").get("desc").asText();
        Matcher skip = SKIP_SETTING.matcher(desc);
        Matcher norm = NORM_SETTING.matcher(desc);
        assertTrue(skip.find() && norm.find(), "out.hidden_state states no settings: " + desc);
        return new LlmEncoderOptions(LlmEncoderOptions.defaults().textLen(), Integer.parseInt(skip.group(1)),
                Boolean.parseBoolean(norm.group(1)));
    }

    /** The case's LlamaModel tensors ({@code model.*}) without the prefix. */
    private static Weights llamaModelTensors() {
        return CASE.tensors().stripPrefix("model.");
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
        try (PointerScope scope = new PointerScope();
             Parameters p = Parameters.of(llamaModelTensors(), CPU, ScalarType.Float);
             LlamaModel model = LlamaModel.load(c, p, c.numLayers(), true)) {
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
    void expectedShapesAreTheCasesLlamaModelTensors() {
        Map<String, long[]> expected = LlmTextEncoder.expectedShapes(LlamaConfig.fromJson(CASE.cfg("full_config")));
        Weights w = llamaModelTensors();
        assertEquals(w.names(), expected.keySet());
        for (String name : w.names()) {
            assertArrayEquals(w.shape(name), expected.get(name), name);
        }
    }

    @Test
    void theStatedSettingsGiveTheHiddenStateFromAShardedBareFolder(@TempDir Path dir) throws IOException {
        try (LlmTextEncoder enc = LlmTextEncoder.fromPretrained(folder(dir, false), statedOptions(CASE), CPU,
                ScalarType.Float);
             TextEncoding out = enc.encodeIds(CASE.tensor("in.input_ids"), CASE.tensor("in.attention_mask"),
                     cropStart())) {
            CASE.report("out.hidden_state", out.states());
            assertArrayEquals(Tensors.toLongArray(CASE.tensor("out.attention_mask")), Tensors.toLongArray(out.mask()));
        }
    }

    @Test
    void finalNormVariantsFromAPrefixedFolder(@TempDir Path dir) throws IOException {
        folder(dir, true);
        int checked = 0;
        for (String key : CASE.tensors().names()) {
            Matcher m = FINAL_NORM_VARIANT.matcher(key);
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
        int declared = 0;
        for (Iterator<String> it = CASE.ref().json().get("tensors").fieldNames(); it.hasNext(); ) {
            declared += FINAL_NORM_VARIANT.matcher(it.next()).matches() ? 1 : 0;
        }
        assertTrue(declared > 0, "the case declares final-norm variants");
        assertEquals(declared, checked, "every final-norm variant the case declares is in its safetensors");
    }

    @Test
    void releaseFreesTheWeightsAndTheNextCallReloadsThem(@TempDir Path dir) throws IOException {
        try (LlmTextEncoder enc = LlmTextEncoder.fromPretrained(folder(dir, true), statedOptions(CASE), CPU,
                ScalarType.Float)) {
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
                () -> LlmTextEncoder.fromPretrained(model, statedOptions(CASE), CPU, ScalarType.Float));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
        try (LlmTextEncoder enc = LlmTextEncoder.fromPretrained(model, TokenizerDirs.llama3(), statedOptions(CASE), CPU,
                ScalarType.Float);
             TextEncoding out = enc.encodeIds(CASE.tensor("in.input_ids"), CASE.tensor("in.attention_mask"),
                     cropStart())) {
            CASE.report("out.hidden_state", out.states());
            assertEquals(PromptTemplate.VIDEO.cropStart(), enc.tokenizer().prefixTokens(PromptTemplate.VIDEO));
        }
    }

    @Test
    void badInputsFailEarlyNamingTheProblem(@TempDir Path dir) throws IOException {
        folder(dir, true);
        try (LlmTextEncoder enc = LlmTextEncoder.fromPretrained(dir, statedOptions(CASE), CPU,
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
                () -> LlmTextEncoder.fromPretrained(dir,
                        new LlmEncoderOptions(LlmEncoderOptions.defaults().textLen(), layers + 1, false), CPU,
                        ScalarType.Float));
        assertTrue(skip.getMessage().contains("hiddenStateSkipLayer"), skip.getMessage());
    }

    @Test
    void aMissingTensorIsNamedBeforeAnyWeightIsCopied(@TempDir Path dir) throws IOException {
        HfFolders.writeConfig(dir, CASE.cfg("full_config"));
        List<String> names = List.copyOf(llamaModelTensors().names());
        String missing = "model." + names.get(names.size() / 2);
        HfFolders.writeWeights(dir, CASE.tensors(), n -> n.startsWith("model.") && !n.equals(missing) ? n : null, 1);
        HfFolders.copyTokenizer(TokenizerDirs.llama3(), dir);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlmTextEncoder.fromPretrained(dir, statedOptions(CASE), CPU, ScalarType.Float));
        assertTrue(e.getMessage().contains(missing.substring("model.".length())), e.getMessage());
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void anUnexpectedTensorIsNamedButASavedRotaryBufferIsIgnored(@TempDir Path dir) throws IOException {
        folder(dir, true);
        LlamaConfig c = LlamaConfig.fromJson(CASE.cfg("full_config"));
        Path extra = dir.resolve("extra.safetensors");
        try (PointerScope scope = new PointerScope()) {
            SafetensorsWriter.write(extra, Map.of("model.layers.0.self_attn.rotary_emb.inv_freq",
                    Tensors.fromFloats(new float[c.headDim() / 2], c.headDim() / 2)), Map.of());
        }
        try (LlmTextEncoder enc = LlmTextEncoder.fromPretrained(dir, statedOptions(CASE), CPU, ScalarType.Float);
             TextEncoding out = enc.encodeIds(CASE.tensor("in.input_ids"), CASE.tensor("in.attention_mask"),
                     cropStart())) {
            CASE.report("out.hidden_state", out.states());
        }
        Files.delete(extra);
        String unexpected = "layers.0.mlp.extra_proj.weight";
        try (PointerScope scope = new PointerScope()) {
            SafetensorsWriter.write(extra, Map.of("model." + unexpected,
                    Tensors.fromFloats(new float[c.hiddenSize()], 1, c.hiddenSize())), Map.of());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlmTextEncoder.fromPretrained(dir, statedOptions(CASE), CPU, ScalarType.Float));
        assertTrue(e.getMessage().contains(unexpected) && e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void aFolderWithoutConfigIsRejected(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("empty"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlmTextEncoder.fromPretrained(dir.resolve("empty"), statedOptions(CASE), CPU,
                        ScalarType.Float));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }
}
