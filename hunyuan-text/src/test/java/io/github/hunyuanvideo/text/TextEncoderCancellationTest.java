package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Cancellation;
import io.github.hunyuanvideo.nn.CancelledException;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The text encoders' layer loops stop within one layer of a cancel, and stay usable afterwards. */
class TextEncoderCancellationTest {
    private static final Device CPU = new Device("cpu");
    @RegisterExtension
    static final TinyCase LLM = new TinyCase("text_llm_tiny", 1e-4);
    @RegisterExtension
    static final TinyCase CLIP = new TinyCase("text_clip_tiny", 1e-4);

    /**
     * The case's 4-layer Llama, cancelled just after layer {@code k} finished (as if the cancel arrived right after
     * the check at that boundary, so it is seen one layer later): layer k + 1 is the last to run, never k + 2.
     * Layers are counted from the outputs the model hands to {@code collect}.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3})
    void llamaStopsBeforeLayerKPlusTwo(int k) {
        LlamaConfig c = LlamaConfig.fromJson(LLM.cfg("full_config"));
        int n = c.numLayers();
        try (PointerScope scope = new PointerScope();
             Parameters p = Parameters.of(LLM.tensors().stripPrefix("model."), CPU, ScalarType.Float);
             LlamaModel model = LlamaModel.load(c, p, n, true)) {
            List<Tensor> collect = new ArrayList<>();
            AtomicBoolean requested = new AtomicBoolean();
            BooleanSupplier check = () -> {
                boolean seen = requested.get();
                if (collect.size() - 1 == k) {
                    requested.set(true);
                }
                return seen;
            };
            CancelledException e = assertThrows(CancelledException.class, () -> model.forward(
                    LLM.tensor("in.input_ids"), LLM.tensor("in.attention_mask"), n, collect, check));
            int ran = collect.size() - 1;
            collect.forEach(Tensor::releaseReference);
            assertEquals(Math.min(k + 1, n), ran, "layers run: at most one after layer k, never layer k + 2");
            assertEquals("after " + ran + " of " + n + " LLM layers", e.getMessage());
        }
    }

    /**
     * Through the public encoder (every layer run, skip 0): the cancelled call throws, and the next one gives the
     * uncancelled result.
     */
    @Test
    void llmEncoderCancelsAndStaysUsable() {
        LlmEncoderOptions allLayers = new LlmEncoderOptions(LlmEncoderOptions.defaults().textLen(), 0, false);
        try (LlmTextEncoder enc = TinyLlama.encoder(allLayers, 7);
             PointerScope scope = new PointerScope()) {
            List<String> prompts = List.of("A cat walks on the grass.");
            AtomicInteger asked = new AtomicInteger();
            CancelledException e = assertThrows(CancelledException.class,
                    () -> enc.encode(prompts, PromptTemplate.VIDEO, () -> asked.incrementAndGet() == 2));
            assertEquals("after 1 of " + TinyLlama.CONFIG.numLayers() + " LLM layers", e.getMessage());
            assertEquals(2, asked.get(), "not asked again after firing");
            try (TextEncoding again = enc.encode(prompts, PromptTemplate.VIDEO, Cancellation.NEVER);
                 TextEncoding plain = enc.encode(prompts, PromptTemplate.VIDEO)) {
                assertEquals(0.0, Tensors.relativeError(again.states(), plain.states()), 0.0);
            }
        }
    }

    /** CLIP: asked before its first layer and after each one; a cancelled call leaves the encoder usable. */
    @Test
    void clipEncoderStopsBetweenLayers(@TempDir Path dir) throws IOException {
        int n = CLIP.cfg("num_hidden_layers").asInt();
        try (ClipTextEncoder enc = ClipTextEncoder.fromPretrained(ClipFolders.write(dir, CLIP.ref(),
                CLIP.cfg("full_config"), true), CPU, ScalarType.Float);
             PointerScope scope = new PointerScope()) {
            List<String> prompts = List.of("A photo of a cat");
            for (int done = 0; done <= n; done++) {
                AtomicInteger asked = new AtomicInteger();
                int fireAt = done + 1;
                CancelledException e = assertThrows(CancelledException.class,
                        () -> enc.encode(prompts, () -> asked.incrementAndGet() == fireAt));
                assertEquals("after " + done + " of " + n + " CLIP layers", e.getMessage());
                assertEquals(fireAt, asked.get(), "not asked again after firing");
            }
            Tensor pooled = enc.encode(prompts, Cancellation.NEVER);
            Tensor plain = enc.encode(prompts);
            assertEquals(0.0, Tensors.relativeError(pooled, plain), 0.0);
            pooled.releaseReference();
            plain.releaseReference();
        }
    }
}
