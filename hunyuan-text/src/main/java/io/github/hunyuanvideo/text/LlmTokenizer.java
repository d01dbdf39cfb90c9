package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The LLM encoder's tokenizer: a folder's {@code tokenizer.json} read by DJL, producing the ids of the official
 * {@code AutoTokenizer(padding_side="right")} call: exactly one BOS first, right padding, truncation to
 * {@code max_length} (BOS kept, the end cut, with a warning).
 *
 * <p>BOS: the file's post-processor may or may not add {@code <|begin_of_text|>} (the Llama-3 tokenizer of the
 * checkpoint does; some copies do not). The text is always encoded without the post-processor's tokens and the BOS
 * is put in front here, so the ids are the same either way. Its id is the one the post-processor adds, else
 * {@code bos_token} of {@code tokenizer_config.json}, else {@code bos_token_id} of {@code config.json}.
 */
public final class LlmTokenizer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LlmTokenizer.class);

    private final HfTokenizer tokenizer;
    private final long bosId;
    private final long padId;
    private final boolean fileAddsBos;

    private LlmTokenizer(HfTokenizer tokenizer, long bosId, long padId, boolean fileAddsBos) {
        this.tokenizer = tokenizer;
        this.bosId = bosId;
        this.padId = padId;
        this.fileAddsBos = fileAddsBos;
    }

    /**
     * Loads the tokenizer of folder {@code dir} ({@code tokenizer.json}, optional {@code tokenizer_config.json} and
     * {@code config.json}).
     *
     * @throws IllegalArgumentException if {@code tokenizer.json} is missing or no BOS token can be determined
     */
    public static LlmTokenizer load(Path dir) {
        Objects.requireNonNull(dir, "dir");
        HfTokenizer t = HfTokenizer.load(dir);
        try {
            JsonNode modelConfig = readModelConfig(dir);
            long[] added = t.addedPrefix();
            boolean fileAddsBos = added.length == 1;
            long bos;
            if (fileAddsBos) {
                bos = added[0];
            } else if (t.configToken("bos_token") != null) {
                bos = t.tokenId(t.configToken("bos_token"));
            } else if (modelConfig != null && modelConfig.path("bos_token_id").canConvertToLong()) {
                bos = modelConfig.get("bos_token_id").asLong();
            } else {
                throw new IllegalArgumentException("tokenizer folder " + dir + ": cannot determine the BOS token "
                        + "(tokenizer.json does not add one, and neither tokenizer_config.json bos_token nor "
                        + "config.json bos_token_id is set)");
            }
            long pad;
            if (t.configToken("pad_token") != null) {
                pad = t.tokenId(t.configToken("pad_token"));
            } else if (modelConfig != null && modelConfig.path("pad_token_id").canConvertToLong()) {
                pad = modelConfig.get("pad_token_id").asLong();
            } else {
                pad = 0;
            }
            LOG.debug("LLM tokenizer {}: BOS {} ({}), pad {}", dir, bos,
                    fileAddsBos ? "added by tokenizer.json" : "added explicitly", pad);
            return new LlmTokenizer(t, bos, pad, fileAddsBos);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    private static JsonNode readModelConfig(Path dir) {
        Path f = dir.resolve("config.json");
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            return new ObjectMapper().readTree(f.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
    }

    /** The BOS id put in front of every text. */
    public long bosTokenId() {
        return bosId;
    }

    /** The id written at padded positions (masked out, so its value does not matter). */
    public long padTokenId() {
        return padId;
    }

    /** Whether the folder's {@code tokenizer.json} post-processor itself adds the BOS (informational). */
    public boolean tokenizerFileAddsBos() {
        return fileAddsBos;
    }

    /**
     * Tokenizes {@code template.format(p)} for every prompt, padded or cut to {@code maxLength}.
     *
     * @throws IllegalArgumentException if the list is empty or holds a null
     */
    public TokenizedPrompts tokenize(List<String> prompts, PromptTemplate template, int maxLength) {
        Objects.requireNonNull(template, "template");
        requirePrompts(prompts);
        List<String> texts = new ArrayList<>(prompts.size());
        for (String p : prompts) {
            texts.add(template.format(p));
        }
        return tokenizeTexts(texts, maxLength);
    }

    /** Tokenizes already formatted texts: BOS + text ids, padded or cut to {@code maxLength}. */
    public TokenizedPrompts tokenizeTexts(List<String> texts, int maxLength) {
        requirePrompts(texts);
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be >= 2, got " + maxLength);
        }
        List<long[]> contents = new ArrayList<>(texts.size());
        for (String s : texts) {
            contents.add(tokenizer.rawIds(s));
        }
        return HfTokenizer.pack(contents, new long[]{bosId}, new long[0], padId, maxLength, LOG);
    }

    /** Tokens of the template's prefix including BOS: equals {@code template.cropStart()} for a matching tokenizer. */
    public int prefixTokens(PromptTemplate template) {
        return 1 + tokenizer.rawIds(template.prefix()).length;
    }

    /** Ids (BOS included) of {@code text}, without padding or truncation. */
    public long[] encode(String text) {
        long[] raw = tokenizer.rawIds(Objects.requireNonNull(text, "text"));
        long[] out = new long[raw.length + 1];
        out[0] = bosId;
        System.arraycopy(raw, 0, out, 1, raw.length);
        return out;
    }

    /** The text of {@code ids}, special tokens included. */
    public String decode(long[] ids) {
        return tokenizer.decode(ids);
    }

    static void requirePrompts(List<String> prompts) {
        Objects.requireNonNull(prompts, "prompts");
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("prompts must not be empty");
        }
        for (int i = 0; i < prompts.size(); i++) {
            if (prompts.get(i) == null) {
                throw new IllegalArgumentException("prompts[" + i + "] is null");
            }
        }
    }

    @Override
    public String toString() {
        return "LlmTokenizer[" + tokenizer.dir() + ", bos=" + bosId + ", pad=" + padId + "]";
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
