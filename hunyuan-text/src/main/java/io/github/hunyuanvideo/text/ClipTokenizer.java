package io.github.hunyuanvideo.text;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The CLIP encoder's tokenizer: a folder's {@code tokenizer.json} read by DJL, producing the ids of the official
 * {@code CLIPTokenizer(max_length=77)} call with {@code padding="max_length", truncation=True}:
 * {@code <|startoftext|> text <|endoftext|>} then padding, the text cut to fit (with a warning).
 *
 * <p>BOS/EOS are the tokens the file's post-processor wraps a text in (CLIP's {@code RobertaProcessing}); when it
 * adds none, {@code bos_token}/{@code eos_token} of {@code tokenizer_config.json}, else {@code <|startoftext|>} and
 * {@code <|endoftext|>}. Padding uses {@code pad_token}, else EOS (openai/clip-vit-large-patch14 pads with
 * {@code <|endoftext|>}). Lower-casing and whitespace cleanup are the file's normalizer's job.
 */
public final class ClipTokenizer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClipTokenizer.class);

    private final HfTokenizer tokenizer;
    private final long bosId;
    private final long eosId;
    private final long padId;

    private ClipTokenizer(HfTokenizer tokenizer, long bosId, long eosId, long padId) {
        this.tokenizer = tokenizer;
        this.bosId = bosId;
        this.eosId = eosId;
        this.padId = padId;
    }

    /**
     * Loads the tokenizer of folder {@code dir} ({@code tokenizer.json}, optional {@code tokenizer_config.json}).
     *
     * @throws IllegalArgumentException if {@code tokenizer.json} is missing or a special token is not one token
     */
    public static ClipTokenizer load(Path dir) {
        Objects.requireNonNull(dir, "dir");
        HfTokenizer t = HfTokenizer.load(dir);
        try {
            long[] prefix = t.addedPrefix();
            long[] suffix = t.addedSuffix();
            long bos;
            long eos;
            if (prefix.length == 1 && suffix.length == 1) {
                bos = prefix[0];
                eos = suffix[0];
            } else {
                bos = t.tokenId(orDefault(t.configToken("bos_token"), "<|startoftext|>"));
                eos = t.tokenId(orDefault(t.configToken("eos_token"), "<|endoftext|>"));
            }
            String padToken = t.configToken("pad_token");
            long pad = padToken != null ? t.tokenId(padToken) : eos;
            return new ClipTokenizer(t, bos, eos, pad);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    private static String orDefault(String v, String d) {
        return v != null ? v : d;
    }

    public long bosTokenId() {
        return bosId;
    }

    public long eosTokenId() {
        return eosId;
    }

    public long padTokenId() {
        return padId;
    }

    /**
     * Tokenizes each prompt to exactly {@code maxLength} ids.
     *
     * @throws IllegalArgumentException if the list is empty, holds a null, or {@code maxLength < 2}
     */
    public TokenizedPrompts tokenize(List<String> prompts, int maxLength) {
        LlmTokenizer.requirePrompts(prompts);
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be >= 2, got " + maxLength);
        }
        List<long[]> contents = new ArrayList<>(prompts.size());
        for (String p : prompts) {
            contents.add(tokenizer.rawIds(p));
        }
        return HfTokenizer.pack(contents, new long[]{bosId}, new long[]{eosId}, padId, maxLength, LOG);
    }

    /** The text of {@code ids}, special tokens included. */
    public String decode(long[] ids) {
        return tokenizer.decode(ids);
    }

    @Override
    public String toString() {
        return "ClipTokenizer[" + tokenizer.dir() + ", bos=" + bosId + ", eos=" + eosId + ", pad=" + padId + "]";
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
