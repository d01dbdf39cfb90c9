package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BOS/EOS/padding/truncation of {@link ClipTokenizer} on a small word-level tokenizer.json. */
class ClipTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long BOS = 510;
    private static final long EOS = 511;
    private static final int MAX = 77;
    static final Map<String, Integer> VOCAB = new LinkedHashMap<>();

    static {
        String[] words = {"[UNK]", "a", "photo", "of", "cat", "dog", "runs", "on", "the", "grass"};
        for (int i = 0; i < words.length; i++) {
            VOCAB.put(words[i], i);
        }
    }

    /**
     * Writes a lower-casing, whitespace-splitting word-level {@code tokenizer.json} with {@code <|startoftext|>}
     * = {@code bos} and {@code <|endoftext|>} = {@code eos}; with {@code postProcessor} CLIP's RobertaProcessing
     * wraps texts in them, without it only {@code tokenizer_config.json} names them.
     */
    static void writeWordLevelTokenizer(Path dir, long bos, long eos, boolean postProcessor) throws IOException {
        ObjectNode t = JSON.createObjectNode();
        t.put("version", "1.0");
        t.putNull("truncation");
        t.putNull("padding");
        ArrayNode added = t.putArray("added_tokens");
        addSpecial(added, bos, "<|startoftext|>");
        addSpecial(added, eos, "<|endoftext|>");
        t.putObject("normalizer").put("type", "Lowercase");
        t.putObject("pre_tokenizer").put("type", "Whitespace");
        if (postProcessor) {
            ObjectNode p = t.putObject("post_processor");
            p.put("type", "RobertaProcessing");
            p.putArray("sep").add("<|endoftext|>").add(eos);
            p.putArray("cls").add("<|startoftext|>").add(bos);
            p.put("trim_offsets", false);
            p.put("add_prefix_space", false);
        } else {
            t.putNull("post_processor");
        }
        t.putNull("decoder");
        ObjectNode model = t.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode vocab = model.putObject("vocab");
        VOCAB.forEach(vocab::put);
        vocab.put("<|startoftext|>", bos);
        vocab.put("<|endoftext|>", eos);
        model.put("unk_token", "[UNK]");
        JSON.writeValue(dir.resolve(HfTokenizer.TOKENIZER_FILE).toFile(), t);
        if (!postProcessor) {
            ObjectNode c = JSON.createObjectNode();
            c.put("bos_token", "<|startoftext|>");
            c.putObject("eos_token").put("content", "<|endoftext|>");
            c.put("pad_token", "<|endoftext|>");
            JSON.writeValue(dir.resolve(HfTokenizer.TOKENIZER_CONFIG_FILE).toFile(), c);
        }
    }

    private static void addSpecial(ArrayNode added, long id, String content) {
        ObjectNode a = added.addObject();
        a.put("id", id);
        a.put("content", content);
        a.put("single_word", false);
        a.put("lstrip", false);
        a.put("rstrip", false);
        a.put("normalized", false);
        a.put("special", true);
    }

    private static long[] expected(String... words) {
        long[] ids = new long[MAX];
        ids[0] = BOS;
        for (int i = 0; i < words.length; i++) {
            ids[i + 1] = VOCAB.get(words[i]);
        }
        for (int i = words.length + 1; i < MAX; i++) {
            ids[i] = EOS;
        }
        return ids;
    }

    @Test
    void specialTokensComeFromThePostProcessorOrTheConfig(@TempDir Path dir) throws IOException {
        for (boolean postProcessor : new boolean[]{true, false}) {
            Path d = dir.resolve("pp-" + postProcessor);
            java.nio.file.Files.createDirectories(d);
            writeWordLevelTokenizer(d, BOS, EOS, postProcessor);
            try (ClipTokenizer tok = ClipTokenizer.load(d)) {
                assertEquals(BOS, tok.bosTokenId());
                assertEquals(EOS, tok.eosTokenId());
                assertEquals(EOS, tok.padTokenId());
                TokenizedPrompts p = tok.tokenize(List.of("A Photo of a CAT", "the dog"), MAX);
                assertArrayEquals(expected("a", "photo", "of", "a", "cat"), p.inputIds()[0]);
                assertArrayEquals(expected("the", "dog"), p.inputIds()[1]);
                assertEquals(7, p.validTokens(0), "BOS + 5 words + EOS");
                assertEquals(4, p.validTokens(1));
                assertFalse(p.anyTruncated());
            }
        }
    }

    @Test
    void longPromptsAreCutKeepingBosAndEos(@TempDir Path dir) throws IOException {
        writeWordLevelTokenizer(dir, BOS, EOS, true);
        int words = 100;
        String prompt = String.join(" ", Collections.nCopies(words, "cat"));
        try (ClipTokenizer tok = ClipTokenizer.load(dir)) {
            TokenizedPrompts p = tok.tokenize(List.of(prompt), MAX);
            assertEquals(words - (MAX - 2), p.truncatedTokens()[0]);
            assertTrue(p.anyTruncated());
            long[] ids = p.inputIds()[0];
            assertEquals(BOS, ids[0]);
            assertEquals(EOS, ids[MAX - 1]);
            List<Long> middle = new ArrayList<>();
            for (int i = 1; i < MAX - 1; i++) {
                middle.add(ids[i]);
            }
            assertEquals(Collections.nCopies(MAX - 2, (long) VOCAB.get("cat")), middle);
            assertEquals(MAX, p.validTokens(0));
        }
    }
}
