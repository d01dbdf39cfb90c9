package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link LlmTextEncoder#encode}: tokenization, template crop and output shapes, with the real tokenizer. */
class LlmTextEncoderTokenizedTest {
    private static final String CAT = "A cat walks on the grass, realistic style.";
    private static LlmTextEncoder enc;

    @BeforeAll
    static void create() {
        enc = TinyLlama.encoder(LlmEncoderOptions.defaults(), 7);
    }

    @AfterAll
    static void close() {
        enc.close();
    }

    @Test
    void videoAndImageTemplatesGiveTheOfficialShapesAndMasks() {
        LlmEncoderOptions o = enc.options();
        for (PromptTemplate t : List.of(PromptTemplate.VIDEO, PromptTemplate.IMAGE)) {
            List<String> prompts = List.of(CAT, "一只猫 🐱");
            TokenizedPrompts tokens = enc.tokenize(prompts, t);
            try (PointerScope scope = new PointerScope(); TextEncoding out = enc.encode(prompts, t)) {
                int rows = o.maxLength() - t.cropStart();
                assertEquals(rows, enc.outputLength(t));
                assertArrayEquals(new long[]{2, rows, TinyLlama.CONFIG.hiddenSize()}, Tensors.shape(out.states()));
                long[] mask = Tensors.toLongArray(out.mask());
                for (int b = 0; b < 2; b++) {
                    long valid = Arrays.stream(mask, b * rows, (b + 1) * rows).sum();
                    assertEquals(tokens.validTokens(b) - t.cropStart(), valid);
                }
                try (TextEncoding direct = enc.encodeIds(tokens.inputIdsTensor(), tokens.attentionMaskTensor(),
                        t.cropStart())) {
                    assertEquals(0.0, Tensors.relativeError(out.states(), direct.states()), 0.0);
                }
            }
        }
        assertEquals(o.textLen(), enc.outputLength(PromptTemplate.VIDEO), "video keeps text_len rows");
    }

    @Test
    void emptyOrNullPromptsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> enc.encode(List.of(), PromptTemplate.VIDEO));
        assertThrows(IllegalArgumentException.class,
                () -> enc.encode(Arrays.asList(CAT, null), PromptTemplate.VIDEO));
    }
}
