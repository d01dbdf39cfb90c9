package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.nn.CancelledException;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.StreamedWeights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Layer streaming changes nothing but where the LLM's weights live: on {@code text_llm_tiny} every hidden state of a
 * model with some or all layers streamed (and the embedding looked up in host memory) equals the resident model's
 * bit for bit, pass after pass, through the public encoder across a release, and after a cancelled pass.
 */
class StreamedLlmTest {
    private static final Device CPU = new Device("cpu");
    @RegisterExtension
    static final TinyCase CASE = new TinyCase("text_llm_tiny", 1e-4);

    private static LlamaConfig config() {
        return LlamaConfig.fromJson(CASE.cfg("full_config"));
    }

    /** The case's model with every layer and the norm, bound under {@code streaming}. */
    private static LlamaModel model(Parameters p, LayerStreaming streaming) {
        LlamaConfig c = config();
        return LlamaModel.load(c, p, c.numLayers(), true, streaming);
    }

    private static Parameters caseParameters() {
        return Parameters.of(CASE.tensors().stripPrefix("model."), CPU, ScalarType.Float);
    }

    /** Every hidden state of the case's input, each holding a reference the caller releases. */
    private static List<Tensor> hiddenStates(LlamaModel m) {
        return m.hiddenStates(CASE.tensor("in.input_ids"), CASE.tensor("in.attention_mask"));
    }

    private static void assertEqualStates(List<Tensor> expected, List<Tensor> actual, String what) {
        assertEquals(expected.size(), actual.size(), what);
        for (int i = 0; i < expected.size(); i++) {
            assertTrue(torch.equal(expected.get(i), actual.get(i)), what + ": hidden state " + i + " differs");
        }
    }

    /** 1 layer, an odd count, all 4 by number and through {@link LayerStreaming#all}; prefetch depths 1 and 2. */
    static Stream<Arguments> streamings() {
        List<Arguments> out = new ArrayList<>();
        for (int depth : new int[]{1, 2}) {
            for (int layers : new int[]{1, 3, 4}) {
                out.add(Arguments.of(new LayerStreaming(layers, depth)));
            }
            out.add(Arguments.of(LayerStreaming.all(depth)));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("streamings")
    void everyHiddenStateEqualsTheResidentModelsBitForBit(LayerStreaming streaming) {
        LlamaConfig c = config();
        int streamed = streaming.streamedOf(c.numLayers());
        try (PointerScope scope = new PointerScope();
             Parameters rp = caseParameters(); LlamaModel resident = model(rp, LayerStreaming.none());
             Parameters sp = caseParameters(); LlamaModel model = model(sp, streaming)) {
            List<Tensor> expected = hiddenStates(resident);
            CASE.report("mid.hidden_states." + c.numLayers(), expected.get(c.numLayers()));
            long slots = StreamedWeights.slotsFor(streamed, streaming.prefetchDepth());
            assertEquals(slots * LlmMemory.layerBytes(c, ScalarType.Float), model.streamingSlotBytes());
            for (int pass = 0; pass < 3; pass++) {
                List<Tensor> actual = hiddenStates(model);
                assertEqualStates(expected, actual, "pass " + pass);
                actual.forEach(Tensor::releaseReference);
            }
            assertTrue(model.streamedBytesCopied() >= streamed * LlmMemory.layerBytes(c, ScalarType.Float));
            expected.forEach(Tensor::releaseReference);
        }
    }

    /**
     * Cancelled after each layer in turn, with the last 3 layers streamed: the pass stops as the resident one does,
     * and the next pass gives the resident states again (the ring recovers from a pass left halfway).
     */
    @Test
    void aCancelledStreamedPassStopsBetweenLayersAndTheNextPassIsExact() {
        LlamaConfig c = config();
        int n = c.numLayers();
        try (PointerScope scope = new PointerScope();
             Parameters rp = caseParameters(); LlamaModel resident = model(rp, LayerStreaming.none());
             Parameters sp = caseParameters(); LlamaModel model = model(sp, new LayerStreaming(3, 1))) {
            List<Tensor> expected = hiddenStates(resident);
            for (int k = 0; k < n; k++) {
                int stopAfter = k;
                List<Tensor> collect = new ArrayList<>();
                AtomicBoolean requested = new AtomicBoolean();
                CancelledException e = assertThrows(CancelledException.class, () -> model.forward(
                        CASE.tensor("in.input_ids"), CASE.tensor("in.attention_mask"), n, collect, () -> {
                            boolean seen = requested.get();
                            requested.set(collect.size() - 1 == stopAfter);
                            return seen;
                        }));
                int ran = collect.size() - 1;
                collect.forEach(Tensor::releaseReference);
                assertEquals(k + 1, ran, "one layer after the cancel, never two");
                assertEquals("after " + ran + " of " + n + " LLM layers", e.getMessage());
                List<Tensor> again = hiddenStates(model);
                assertEqualStates(expected, again, "after a pass cancelled at layer " + k);
                again.forEach(Tensor::releaseReference);
            }
            expected.forEach(Tensor::releaseReference);
        }
    }

    /**
     * From a Hugging Face folder with the case's stated settings: two encodings in a row, then a release and two
     * more, each equal to the resident encoder's output bit for bit (and to the golden state); a released encoder
     * holds no streaming slots.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("streamings")
    void theEncoderStreamsAcrossAReleaseFromAFolder(LayerStreaming streaming, @TempDir Path dir) throws IOException {
        HfFolders.writeConfig(dir, CASE.cfg("full_config"));
        HfFolders.writeWeights(dir, CASE.tensors(), n -> n.startsWith("model.") || n.startsWith("lm_head.") ? n
                : null, 2);
        HfFolders.copyTokenizer(TokenizerDirs.llama3(), dir);
        LlmEncoderOptions options = LlmTextEncoderReferenceTest.statedOptions(CASE);
        int cropStart = CASE.cfg("crop_start").asInt();
        try (LlmTextEncoder resident = LlmTextEncoder.fromPretrained(dir, options, CPU, ScalarType.Float);
             LlmTextEncoder streamed = LlmTextEncoder.fromPretrained(dir, dir, options, CPU, ScalarType.Float,
                     streaming);
             TextEncoding expected = resident.encodeIds(CASE.tensor("in.input_ids"),
                     CASE.tensor("in.attention_mask"), cropStart)) {
            assertEquals(streaming, streamed.streaming());
            assertEquals(LayerStreaming.none(), resident.streaming());
            assertEquals(0, resident.streamingSlotBytes());
            for (int encoding = 0; encoding < 4; encoding++) {
                if (encoding == 2) {
                    streamed.release();
                    assertFalse(streamed.isLoaded());
                    assertEquals(0, streamed.streamingSlotBytes());
                }
                try (TextEncoding out = streamed.encodeIds(CASE.tensor("in.input_ids"),
                        CASE.tensor("in.attention_mask"), cropStart)) {
                    assertTrue(torch.equal(expected.states(), out.states()), "encoding " + encoding);
                    assertTrue(torch.equal(expected.mask(), out.mask()), "encoding " + encoding);
                    CASE.report("out.hidden_state", out.states());
                }
                assertTrue(streamed.streamingSlotBytes() > 0);
                assertTrue(streamed.streamedBytesCopied() > 0);
            }
        }
    }

    /**
     * The public encoder over random weights made on the device ({@code create}), all layers streamed: cancelled
     * after the first layer, then encoding exactly what the resident encoder gives.
     */
    @Test
    void theCreatedEncoderCancelsAndStaysExact() {
        LlmEncoderOptions allLayers = new LlmEncoderOptions(LlmEncoderOptions.defaults().textLen(), 0, false);
        List<String> prompts = List.of("A cat walks on the grass.");
        try (LlmTextEncoder resident = TinyLlama.encoder(allLayers, 11);
             LlmTextEncoder streamed = LlmTextEncoder.create(TinyLlama.CONFIG,
                     () -> Parameters.random(CPU, ScalarType.Float, 11), LlmTokenizer.load(TokenizerDirs.llama3()),
                     allLayers, CPU, LayerStreaming.all(1));
             TextEncoding expected = resident.encode(prompts, PromptTemplate.VIDEO)) {
            int[] asked = {0};
            CancelledException e = assertThrows(CancelledException.class,
                    () -> streamed.encode(prompts, PromptTemplate.VIDEO, () -> ++asked[0] == 2));
            assertEquals("after 1 of " + TinyLlama.CONFIG.numLayers() + " LLM layers", e.getMessage());
            try (TextEncoding out = streamed.encode(prompts, PromptTemplate.VIDEO)) {
                assertTrue(torch.equal(expected.states(), out.states()));
            }
        }
    }

    @Test
    void hostBoundNamesAreTheEmbeddingAndTheStreamedLayers() {
        Predicate<String> host = LlamaModel.hostBound(12, new LayerStreaming(3, 1));
        assertTrue(host.test("embed_tokens.weight"));
        assertTrue(host.test("layers.9.self_attn.q_proj.weight"));
        assertTrue(host.test("layers.11.input_layernorm.weight"));
        assertFalse(host.test("layers.8.mlp.down_proj.weight"));
        assertFalse(host.test("layers.1.mlp.down_proj.weight"));
        assertFalse(host.test("norm.weight"));
        Predicate<String> none = LlamaModel.hostBound(12, LayerStreaming.none());
        assertFalse(none.test("embed_tokens.weight"));
        assertFalse(none.test("layers.11.input_layernorm.weight"));
    }

    /** The planner's figures for Llama-3-8B in fp16, with the options' 30 of 32 layers and no final norm. */
    @Test
    void llama3EightBillionFigures() {
        LlamaConfig c = new LlamaConfig(128256, 4096, 32, 32, 8, 128, 14336, 1e-5, 500000.0, null, false, false,
                8192);
        ScalarType fp16 = ScalarType.Half;
        long layer = 436_224_000L;
        long embedding = 1_050_673_152L;
        assertEquals(layer, LlmMemory.layerBytes(c, fp16));
        assertEquals(embedding, LlmMemory.embeddingBytes(c, fp16));
        assertEquals(8_192, LlmMemory.normBytes(c, fp16));
        LlmEncoderOptions defaults = LlmEncoderOptions.defaults();
        assertEquals(embedding + 30 * layer, LlmMemory.residentBytes(c, defaults, fp16));
        assertEquals(0, LlmMemory.hostWeightBytes(c, defaults, fp16, LayerStreaming.none()));
        assertEquals(3 * layer, LlmMemory.deviceWeightBytes(c, defaults, fp16, LayerStreaming.all(2)));
        assertEquals(embedding + 30 * layer, LlmMemory.hostWeightBytes(c, defaults, fp16, LayerStreaming.all(2)));
        assertEquals((20 + 2) * layer, LlmMemory.deviceWeightBytes(c, defaults, fp16, new LayerStreaming(10, 1)));
        LlmEncoderOptions normed = new LlmEncoderOptions(256, 0, false);
        assertEquals(embedding + 32 * layer + 8_192, LlmMemory.residentBytes(c, normed, fp16));
        assertEquals(183_629_160L, LlmMemory.activationPeakBytes(c, fp16, 1, defaults.maxLength()));
        assertTrue(LlmMemory.activationPeakBytes(c, fp16, 2, 351) > LlmMemory.activationPeakBytes(c, fp16, 1, 351));
        assertThrows(IllegalArgumentException.class, () -> LlmMemory.activationPeakBytes(c, fp16, 0, 351));
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LayerStreaming(-1, 1));
        assertThrows(IllegalArgumentException.class, () -> new LayerStreaming(1, 0));
        assertFalse(LayerStreaming.none().enabled());
        assertEquals(30, LayerStreaming.all(1).streamedOf(30));
        assertEquals(5, new LayerStreaming(5, 1).streamedOf(30));
    }
}
