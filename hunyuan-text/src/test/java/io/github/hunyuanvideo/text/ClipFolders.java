package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.io.testing.ReferenceCase;

import java.io.IOException;
import java.nio.file.Path;

/** CLIP folders built from the {@code text_clip_tiny} case for tests. */
final class ClipFolders {
    private ClipFolders() {
    }

    /**
     * Writes the case's weights ({@code text_model.*} names in one file, or without the prefix in two shards),
     * {@code config} as config.json, and a word-level tokenizer whose special tokens are the case's BOS/EOS ids.
     */
    static Path write(Path dir, ReferenceCase ref, JsonNode config, boolean prefixed) throws IOException {
        HfFolders.writeConfig(dir, config);
        HfFolders.writeWeights(dir, ref.tensors(), n -> !n.startsWith("text_model.") ? null
                : prefixed ? n : n.substring("text_model.".length()), prefixed ? 1 : 2);
        ClipTokenizerTest.writeWordLevelTokenizer(dir, ref.config().get("bos_token_id").asLong(),
                ref.config().get("eos_token_id").asLong(), true);
        return dir;
    }
}
