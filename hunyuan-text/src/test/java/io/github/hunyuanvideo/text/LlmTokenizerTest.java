package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The LLM tokenization of the original's {@code TextEncoder} (template, BOS, padding, truncation) with the real
 * Llama-3 tokenizer.
 */
class LlmTokenizerTest {
    /** "A cat walks on the grass, realistic style." is 10 Llama-3 tokens, + {@code <|eot_id|>} after the crop. */
    private static final String CAT = "A cat walks on the grass, realistic style.";
    private static final int CAT_PROMPT_TOKENS = 10;
    /** Llama-3 special token ids of the template prefix. */
    private static final long BEGIN_OF_TEXT = 128000;
    private static final long START_HEADER = 128006;
    private static final long END_HEADER = 128007;
    private static final long EOT = 128009;
    private static final long DOUBLE_NEWLINE = 271;

    private static LlmTokenizer tok;
    private static final int MAX = LlmEncoderOptions.defaults().maxLength();

    @BeforeAll
    static void load() {
        tok = LlmTokenizer.load(TokenizerDirs.llama3());
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    @Test
    void templatePrefixesCountTheirCropWithBos() {
        assertEquals(PromptTemplate.VIDEO.cropStart(), tok.prefixTokens(PromptTemplate.VIDEO));
        assertEquals(PromptTemplate.IMAGE.cropStart(), tok.prefixTokens(PromptTemplate.IMAGE));
    }

    @Test
    void theCatPromptGives95PrefixTokensAnd11ValidTokensAfterTheCrop() {
        int crop = PromptTemplate.VIDEO.cropStart();
        TokenizedPrompts p = tok.tokenize(List.of(CAT), PromptTemplate.VIDEO, MAX);
        long[] ids = p.inputIds()[0];
        assertEquals(MAX, ids.length);
        assertEquals(BEGIN_OF_TEXT, ids[0]);
        assertEquals(1, Arrays.stream(ids).filter(id -> id == BEGIN_OF_TEXT).count(), "exactly one BOS");
        assertEquals(START_HEADER, ids[1]);
        assertEquals(END_HEADER, ids[crop - 2]);
        assertEquals(DOUBLE_NEWLINE, ids[crop - 1]);
        assertArrayEquals(tok.encode(PromptTemplate.VIDEO.prefix()), Arrays.copyOf(ids, crop));
        int valid = p.validTokens(0) - crop;
        assertEquals(CAT_PROMPT_TOKENS + 1, valid);
        assertEquals(EOT, ids[crop + valid - 1]);
        assertEquals(CAT, tok.decode(Arrays.copyOfRange(ids, crop, crop + CAT_PROMPT_TOKENS)));
        for (int i = crop + valid; i < MAX; i++) {
            assertEquals(tok.padTokenId(), ids[i]);
            assertEquals(0, p.attentionMask()[0][i]);
        }
        assertEquals(0, p.truncatedTokens()[0]);
    }

    @ParameterizedTest
    @ValueSource(strings = {"一只猫在草地上行走，写实风格。", "A cat 🐱 walks on the grass 🌿🌞, realistic style.",
            "猫🐈 auf der Wiese, réaliste, 写实 🎥"})
    void chineseAndEmojiPromptsRoundTrip(String prompt) {
        for (PromptTemplate t : List.of(PromptTemplate.VIDEO, PromptTemplate.IMAGE)) {
            TokenizedPrompts p = tok.tokenize(List.of(prompt, CAT), t, MAX);
            long[] ids = p.inputIds()[0];
            int end = p.validTokens(0);
            assertEquals(EOT, ids[end - 1]);
            assertEquals(prompt, tok.decode(Arrays.copyOfRange(ids, t.cropStart(), end - 1)));
            assertEquals(CAT_PROMPT_TOKENS + 1 + t.cropStart(), p.validTokens(1), "rows are padded independently");
        }
    }

    @Test
    void a400TokenPromptIsTruncatedWithAWarning() {
        String prompt = String.join("", Collections.nCopies(400, " cat"));
        assertEquals(400, tok.encode(prompt).length - 1, "precondition: the prompt is 400 tokens");
        int whole = tok.encode(PromptTemplate.VIDEO.format(prompt)).length;
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        TokenizedPrompts p;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            p = tok.tokenize(List.of(CAT, prompt), PromptTemplate.VIDEO, MAX);
        } finally {
            System.setErr(err);
        }
        assertEquals(0, p.truncatedTokens()[0]);
        assertEquals(whole - MAX, p.truncatedTokens()[1]);
        assertTrue(p.anyTruncated());
        assertEquals(MAX, p.validTokens(1));
        assertEquals(BEGIN_OF_TEXT, p.inputIds()[1][0]);
        assertFalse(p.inputIds()[1][MAX - 1] == EOT, "the trailing <|eot_id|> is lost, as in the original");
        String log = captured.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("WARN") && log.contains("prompt 1") && log.contains((whole - MAX) + " of its "
                + whole + " tokens were cut"), log);
    }

    @Test
    void aTokenizerFileThatAddsBosGivesTheSameIds(@TempDir Path dir) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode file = (ObjectNode) json.readTree(TokenizerDirs.llama3().resolve(HfTokenizer.TOKENIZER_FILE)
                .toFile());
        ObjectNode seq = json.createObjectNode().put("type", "Sequence");
        ArrayNode processors = seq.putArray("processors");
        processors.add(file.get("post_processor"));
        ObjectNode template = processors.addObject().put("type", "TemplateProcessing");
        template.putArray("single").add(special(json, 0)).add(sequence(json, "A", 0));
        template.putArray("pair").add(special(json, 0)).add(sequence(json, "A", 0)).add(special(json, 1))
                .add(sequence(json, "B", 1));
        ObjectNode bos = template.putObject("special_tokens").putObject("<|begin_of_text|>");
        bos.put("id", "<|begin_of_text|>");
        bos.putArray("ids").add(BEGIN_OF_TEXT);
        bos.putArray("tokens").add("<|begin_of_text|>");
        file.set("post_processor", seq);
        json.writeValue(dir.resolve(HfTokenizer.TOKENIZER_FILE).toFile(), file);
        Files.copy(TokenizerDirs.llama3().resolve(HfTokenizer.TOKENIZER_CONFIG_FILE),
                dir.resolve(HfTokenizer.TOKENIZER_CONFIG_FILE));
        try (LlmTokenizer adding = LlmTokenizer.load(dir)) {
            assertTrue(adding.tokenizerFileAddsBos());
            assertFalse(tok.tokenizerFileAddsBos());
            assertEquals(BEGIN_OF_TEXT, adding.bosTokenId());
            List<String> prompts = List.of(CAT, "一只猫 🐱");
            assertArrayEquals(tok.tokenize(prompts, PromptTemplate.VIDEO, MAX).inputIds(),
                    adding.tokenize(prompts, PromptTemplate.VIDEO, MAX).inputIds());
        }
    }

    private static ObjectNode special(ObjectMapper json, int typeId) {
        ObjectNode n = json.createObjectNode();
        n.putObject("SpecialToken").put("id", "<|begin_of_text|>").put("type_id", typeId);
        return n;
    }

    private static ObjectNode sequence(ObjectMapper json, String id, int typeId) {
        ObjectNode n = json.createObjectNode();
        n.putObject("Sequence").put("id", id).put("type_id", typeId);
        return n;
    }
}
