package io.github.hunyuanvideo.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A DJL {@link HuggingFaceTokenizer} over a folder's {@code tokenizer.json}, used without its own special tokens,
 * truncation or padding: the encoders add those themselves so that the ids equal the reference whatever the
 * file's post-processor does.
 *
 * <p>Offline use: DJL extracts the tokenizers native library from its jar into its cache folder
 * ({@code ~/.djl.ai}, or {@code DJL_CACHE_DIR} / {@code ENGINE_CACHE_DIR}). On a machine with CUDA it would try to
 * download a CUDA flavour of that library unless {@code RUST_FLAVOR} (or {@code ai.djl.offline}) is set, so this
 * class sets the system property {@code RUST_FLAVOR=cpu} when neither the variable nor the property is set:
 * tokenization runs on the CPU anyway.
 */
final class HfTokenizer implements AutoCloseable {
    static final String TOKENIZER_FILE = "tokenizer.json";
    static final String TOKENIZER_CONFIG_FILE = "tokenizer_config.json";

    private final Path dir;
    private final HuggingFaceTokenizer tokenizer;
    private final JsonNode tokenizerConfig;
    private final long[] addedPrefix;
    private final long[] addedSuffix;

    private HfTokenizer(Path dir, HuggingFaceTokenizer tokenizer, JsonNode tokenizerConfig) {
        this.dir = dir;
        this.tokenizer = tokenizer;
        this.tokenizerConfig = tokenizerConfig;
        long[] raw = rawIds("a");
        long[] full = tokenizer.encode("a", true, false).getIds();
        int at = indexOf(full, raw);
        if (at < 0) {
            throw new IllegalArgumentException("tokenizer " + dir.resolve(TOKENIZER_FILE) + " changes the text "
                    + "tokens when adding special tokens; cannot tell its post-processor's tokens apart");
        }
        this.addedPrefix = Arrays.copyOfRange(full, 0, at);
        this.addedSuffix = Arrays.copyOfRange(full, at + raw.length, full.length);
    }

    /**
     * Loads {@code dir/tokenizer.json} (and reads {@code dir/tokenizer_config.json} if present).
     *
     * @throws IllegalArgumentException if the folder has no {@code tokenizer.json}
     */
    static HfTokenizer load(Path dir) {
        Path file = dir.resolve(TOKENIZER_FILE);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("tokenizer folder " + dir + " has no " + TOKENIZER_FILE
                    + " (DJL reads only the fast-tokenizer file; vocab.json/merges.txt alone are not enough: save the"
                    + " tokenizer once with transformers' save_pretrained to produce it)");
        }
        if (System.getenv("RUST_FLAVOR") == null && System.getProperty("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
        JsonNode config = null;
        Path configFile = dir.resolve(TOKENIZER_CONFIG_FILE);
        try {
            if (Files.isRegularFile(configFile)) {
                config = new ObjectMapper().readTree(configFile.toFile());
            }
            HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(file, Map.of(
                    "addSpecialTokens", "false", "truncation", "false", "padding", "false"));
            return new HfTokenizer(dir, t, config);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer files in " + dir, e);
        }
    }

    Path dir() {
        return dir;
    }

    /** Token ids of {@code text} without any special tokens of the post-processor. */
    long[] rawIds(String text) {
        return tokenizer.encode(text, false, false).getIds();
    }

    /** Ids the file's post-processor puts before the text (e.g. a BOS). */
    long[] addedPrefix() {
        return addedPrefix.clone();
    }

    /** Ids the file's post-processor puts after the text (e.g. CLIP's EOS). */
    long[] addedSuffix() {
        return addedSuffix.clone();
    }

    /**
     * The content of special-token entry {@code key} ({@code bos_token}, {@code eos_token}, {@code pad_token}) of
     * {@code tokenizer_config.json}, as a string or {@code {"content": ...}} object; {@code null} if absent.
     */
    String configToken(String key) {
        JsonNode v = tokenizerConfig == null ? null : tokenizerConfig.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        return v.isObject() ? v.path("content").asText(null) : v.asText();
    }

    /**
     * The id of the single token {@code token}.
     *
     * @throws IllegalArgumentException if it does not encode to exactly one id
     */
    long tokenId(String token) {
        long[] ids = rawIds(token);
        if (ids.length != 1) {
            throw new IllegalArgumentException("token '" + token + "' is not a single token of "
                    + dir.resolve(TOKENIZER_FILE) + " (it encodes to " + Arrays.toString(ids) + ")");
        }
        return ids[0];
    }

    String decode(long[] ids) {
        return tokenizer.decode(ids, false);
    }

    /**
     * Builds {@code prefix + content + suffix} rows right padded with {@code padId} to {@code maxLength}, cutting
     * content tokens from the end where a row does not fit (as transformers does with {@code truncation=True}: the
     * special tokens are kept). Logs a warning naming how many tokens each cut row lost.
     */
    static TokenizedPrompts pack(List<long[]> contents, long[] prefix, long[] suffix, long padId, int maxLength,
                                 Logger log) {
        int room = maxLength - prefix.length - suffix.length;
        if (room < 0) {
            throw new IllegalArgumentException("maxLength " + maxLength + " leaves no room for the "
                    + (prefix.length + suffix.length) + " special tokens");
        }
        int b = contents.size();
        long[][] ids = new long[b][maxLength];
        long[][] mask = new long[b][maxLength];
        int[] cut = new int[b];
        for (int i = 0; i < b; i++) {
            long[] c = contents.get(i);
            int keep = Math.min(c.length, room);
            cut[i] = c.length - keep;
            if (cut[i] > 0) {
                log.warn("prompt {} is too long: {} of its {} tokens were cut to fit max_length {}", i, cut[i],
                        c.length + prefix.length + suffix.length, maxLength);
            }
            int n = 0;
            for (long t : prefix) {
                ids[i][n++] = t;
            }
            for (int k = 0; k < keep; k++) {
                ids[i][n++] = c[k];
            }
            for (long t : suffix) {
                ids[i][n++] = t;
            }
            Arrays.fill(mask[i], 0, n, 1L);
            Arrays.fill(ids[i], n, maxLength, padId);
        }
        return new TokenizedPrompts(ids, mask, cut);
    }

    private static int indexOf(long[] haystack, long[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
