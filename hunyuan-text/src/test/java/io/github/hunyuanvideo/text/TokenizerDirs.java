package io.github.hunyuanvideo.text;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assertions.fail;

/** The shared tokenizer test data: {@code -Dhunyuan.tokenizer.dir}, else {@code ../shared/tokenizers}. */
final class TokenizerDirs {
    private TokenizerDirs() {
    }

    /** The Llama-3 tokenizer folder. */
    static Path llama3() {
        String p = System.getProperty("hunyuan.tokenizer.dir");
        Path d = (p != null ? Paths.get(p) : Paths.get("..", "..", "shared", "tokenizers")).resolve("llama3");
        if (!Files.isRegularFile(d.resolve(HfTokenizer.TOKENIZER_FILE))) {
            fail("no Llama-3 tokenizer.json in " + d.toAbsolutePath() + " (set -Dhunyuan.tokenizer.dir)");
        }
        return d;
    }
}
