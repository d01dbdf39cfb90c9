package io.github.hunyuanvideo.sampler.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.hunyuanvideo.text.PromptTemplate;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tiny Hugging Face {@code tokenizer.json} files for the demo model, built so that prompts take the real
 * tokenization path of both text encoders.
 *
 * <p><b>LLM.</b> A byte-level BPE like Llama-3's (same pre-tokenizer regex, byte-level alphabet,
 * {@code ignore_merges}), whose vocabulary holds the 256 byte symbols plus every pre-token of the two prompt templates
 * as one token, and no merges. The templates therefore tokenize exactly as with the real Llama-3 vocabulary (each of
 * their pre-tokens is one Llama-3 token), so the official crops (95 for the video template, 36 for the image one,
 * BOS included) fall right after the template's prefix; any other word becomes one token per UTF-8 byte.
 *
 * <p><b>CLIP.</b> CLIP's normalizer (NFC, whitespace, lower case), pre-tokenizer and end-of-word suffix, with only the
 * byte symbols (each also with {@code </w>}) as vocabulary and no merges; {@code <|endoftext|>} is the highest id.
 */
final class DemoTokenizers {
    /** Llama-3's pre-tokenizer split (the regex of its tokenizer.json). */
    static final String LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** CLIP's pre-tokenizer split. */
    static final String CLIP_SPLIT = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+"
            + "|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";
    static final String BOS = "<|begin_of_text|>";
    static final String EOS = "<|end_of_text|>";
    static final List<String> LLM_SPECIALS = List.of(BOS, EOS, "<|start_header_id|>", "<|end_header_id|>",
            "<|eot_id|>");
    static final String CLIP_BOS = "<|startoftext|>";
    static final String CLIP_EOS = "<|endoftext|>";
    private static final String END_OF_WORD = "</w>";
    private static final ObjectMapper JSON = new ObjectMapper();

    private DemoTokenizers() {
    }

    /** The LLM tokenizer: the JSON and the ids of its special tokens. */
    record Llm(ObjectNode json, Map<String, Integer> specials, int vocabSize) {
    }

    /** The CLIP tokenizer: the JSON, BOS and EOS ids. */
    record Clip(ObjectNode json, int bosId, int eosId, int vocabSize) {
    }

    static Llm llm() {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String symbol : byteSymbols()) {
            vocab.put(symbol, vocab.size());
        }
        Pattern split = Pattern.compile(LLAMA3_SPLIT);
        for (PromptTemplate t : List.of(PromptTemplate.VIDEO, PromptTemplate.IMAGE)) {
            for (String segment : withoutSpecials(t.template().replace("{}", ""))) {
                Matcher m = split.matcher(segment);
                while (m.find()) {
                    vocab.putIfAbsent(byteLevel(m.group()), vocab.size());
                }
            }
        }
        Map<String, Integer> specials = new LinkedHashMap<>();
        ArrayNode added = JSON.createArrayNode();
        for (String s : LLM_SPECIALS) {
            int id = vocab.size();
            vocab.put(s, id);
            specials.put(s, id);
            added.add(addedToken(id, s));
        }
        ObjectNode root = header(added);
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode pres = pre.putArray("pretokenizers");
        pres.add(splitNode(LLAMA3_SPLIT, "Isolated", false));
        pres.add(byteLevel(false, true, false));
        root.set("post_processor", byteLevel(true, false, true));
        root.set("decoder", byteLevel(true, true, true));
        root.set("model", bpe(vocab, null, null, true));
        return new Llm(root, specials, vocab.size());
    }

    static Clip clip() {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        List<String> symbols = byteSymbols();
        for (String s : symbols) {
            vocab.put(s, vocab.size());
        }
        for (String s : symbols) {
            vocab.put(s + END_OF_WORD, vocab.size());
        }
        int bos = vocab.size();
        vocab.put(CLIP_BOS, bos);
        int eos = vocab.size();
        vocab.put(CLIP_EOS, eos);
        ArrayNode added = JSON.createArrayNode();
        added.add(addedToken(bos, CLIP_BOS));
        added.add(addedToken(eos, CLIP_EOS));
        ObjectNode root = header(added);
        ObjectNode norm = root.putObject("normalizer");
        norm.put("type", "Sequence");
        ArrayNode norms = norm.putArray("normalizers");
        norms.addObject().put("type", "NFC");
        ObjectNode ws = norms.addObject();
        ws.put("type", "Replace");
        ws.putObject("pattern").put("Regex", "\\s+");
        ws.put("content", " ");
        norms.addObject().put("type", "Lowercase");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode pres = pre.putArray("pretokenizers");
        pres.add(splitNode(CLIP_SPLIT, "Removed", true));
        pres.add(byteLevel(false, true, false));
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "RobertaProcessing");
        post.putArray("sep").add(CLIP_EOS).add(eos);
        post.putArray("cls").add(CLIP_BOS).add(bos);
        post.put("trim_offsets", false);
        post.put("add_prefix_space", false);
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "BPEDecoder");
        decoder.put("suffix", END_OF_WORD);
        root.set("model", bpe(vocab, CLIP_EOS, END_OF_WORD, false));
        return new Clip(root, bos, eos, vocab.size());
    }

    /** The template split around its special tokens (the tokenizer matches those before pre-tokenizing). */
    static List<String> withoutSpecials(String text) {
        List<String> parts = new ArrayList<>();
        parts.add(text);
        for (String special : LLM_SPECIALS) {
            List<String> next = new ArrayList<>();
            for (String p : parts) {
                for (String s : p.split(Pattern.quote(special), -1)) {
                    if (!s.isEmpty()) {
                        next.add(s);
                    }
                }
            }
            parts = next;
        }
        return parts;
    }

    /** GPT-2's byte-to-symbol table: printable bytes stand for themselves, the others map to U+0100 onwards. */
    static List<String> byteSymbols() {
        String[] table = new String[256];
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = new String(Character.toChars(printable ? b : 256 + extra++));
        }
        return List.of(table);
    }

    /** {@code text}'s UTF-8 bytes written with {@link #byteSymbols()}. */
    static String byteLevel(String text) {
        List<String> symbols = byteSymbols();
        StringBuilder b = new StringBuilder();
        for (byte x : text.getBytes(StandardCharsets.UTF_8)) {
            b.append(symbols.get(x & 0xff));
        }
        return b.toString();
    }

    private static ObjectNode header(ArrayNode added) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.set("added_tokens", added);
        return root;
    }

    private static ObjectNode addedToken(int id, String content) {
        ObjectNode t = JSON.createObjectNode();
        t.put("id", id);
        t.put("content", content);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
        return t;
    }

    private static ObjectNode splitNode(String regex, String behavior, boolean invert) {
        ObjectNode s = JSON.createObjectNode();
        s.put("type", "Split");
        s.putObject("pattern").put("Regex", regex);
        s.put("behavior", behavior);
        s.put("invert", invert);
        return s;
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) {
        ObjectNode b = JSON.createObjectNode();
        b.put("type", "ByteLevel");
        b.put("add_prefix_space", addPrefixSpace);
        b.put("trim_offsets", trimOffsets);
        b.put("use_regex", useRegex);
        return b;
    }

    private static ObjectNode bpe(Map<String, Integer> vocab, String unk, String endOfWord, boolean ignoreMerges) {
        ObjectNode m = JSON.createObjectNode();
        m.put("type", "BPE");
        m.putNull("dropout");
        if (unk == null) {
            m.putNull("unk_token");
        } else {
            m.put("unk_token", unk);
        }
        m.put("continuing_subword_prefix", endOfWord == null ? null : "");
        if (endOfWord == null) {
            m.putNull("end_of_word_suffix");
        } else {
            m.put("end_of_word_suffix", endOfWord);
        }
        m.put("fuse_unk", false);
        m.put("byte_fallback", false);
        m.put("ignore_merges", ignoreMerges);
        ObjectNode v = m.putObject("vocab");
        vocab.forEach(v::put);
        m.putArray("merges");
        return m;
    }
}
