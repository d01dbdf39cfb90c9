package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PromptEncodingCacheTest {
    private static final double TOL = 1e-5;
    private static LlmTextEncoder llm;

    @BeforeAll
    static void create() {
        llm = TinyLlama.encoder(LlmEncoderOptions.defaults(), 11);
    }

    @AfterAll
    static void close() {
        llm.close();
    }

    private static void assertSame(TextEncoding expected, TextEncoding actual) {
        assertEquals(0.0, Tensors.relativeError(actual.states(), expected.states()), TOL);
        assertArrayEquals(Tensors.toLongArray(expected.mask()), Tensors.toLongArray(actual.mask()));
    }

    @Test
    void repeatedPromptsAreServedFromTheCacheInTheAskedOrder() {
        try (PromptEncodingCache cache = new PromptEncodingCache(8)) {
            List<String> first = List.of("a red fox", "a cat");
            try (TextEncoding cached = cache.encode(llm, first, PromptTemplate.VIDEO);
                 TextEncoding direct = llm.encode(first, PromptTemplate.VIDEO)) {
                assertSame(direct, cached);
            }
            assertEquals(0, cache.hits());
            assertEquals(2, cache.misses());
            List<String> again = List.of("a cat", "a red fox", "a cat");
            try (TextEncoding cached = cache.encode(llm, again, PromptTemplate.VIDEO);
                 TextEncoding direct = llm.encode(again, PromptTemplate.VIDEO)) {
                assertSame(direct, cached);
            }
            assertEquals(3, cache.hits());
            assertEquals(2, cache.misses());
            try (TextEncoding image = cache.encode(llm, List.of("a cat"), PromptTemplate.IMAGE)) {
                assertEquals(llm.outputLength(PromptTemplate.IMAGE), image.states().size(1));
            }
            assertEquals(3, cache.misses(), "another template is another entry");
            assertEquals(3, cache.size());
        }
    }

    @Test
    void hitsDoNotReloadAReleasedEncoderAndMissesDo() {
        try (PromptEncodingCache cache = new PromptEncodingCache(4)) {
            cache.encode(llm, List.of("a dog"), PromptTemplate.VIDEO).close();
            llm.release();
            cache.encode(llm, List.of("a dog"), PromptTemplate.VIDEO).close();
            assertFalse(llm.isLoaded());
            cache.encode(llm, List.of("a dog", "a bird"), PromptTemplate.VIDEO).close();
            assertTrue(llm.isLoaded());
            assertEquals(2, cache.misses());
        }
    }

    @Test
    void leastRecentlyUsedRowsAreEvictedAndABatchLargerThanTheCacheStillWorks() {
        try (PromptEncodingCache cache = new PromptEncodingCache(2)) {
            for (String p : List.of("a", "b", "a", "c", "b", "a")) {
                cache.encode(llm, List.of(p), PromptTemplate.VIDEO).close();
            }
            // a b → miss miss; a → hit; c → miss, evicts b; b → miss, evicts a; a → miss
            assertEquals(1, cache.hits());
            assertEquals(5, cache.misses());
            assertEquals(2, cache.size());
            List<String> many = List.of("x", "y", "z", "x");
            try (TextEncoding cached = cache.encode(llm, many, PromptTemplate.VIDEO);
                 TextEncoding direct = llm.encode(many, PromptTemplate.VIDEO)) {
                assertSame(direct, cached);
            }
            assertEquals(2, cache.size());
        }
    }

    @Test
    void clipPooledOutputsAreCachedToo(@TempDir Path dir) throws IOException {
        try (ReferenceCase ref = ReferenceCase.load("text_clip_tiny");
             ClipTextEncoder clip = ClipTextEncoder.fromPretrained(
                     ClipFolders.write(dir, ref, ref.config().get("full_config"), true), new Device("cpu"),
                     ScalarType.Float);
             PromptEncodingCache cache = new PromptEncodingCache(4);
             PointerScope scope = new PointerScope()) {
            List<String> prompts = List.of("a photo of a cat", "the dog", "a photo of a cat");
            Tensor cached = cache.encode(clip, prompts);
            Tensor direct = clip.encode(prompts);
            assertEquals(0.0, Tensors.relativeError(cached, direct), TOL);
            assertEquals(1, cache.hits(), "the repeated prompt inside one batch is encoded once");
            assertEquals(2, cache.misses());
            Tensor again = cache.encode(clip, List.of("the dog"));
            assertEquals(2, cache.misses());
            assertEquals(0.0, Tensors.relativeError(again, direct.narrow(0, 1, 1)), TOL);
            List.of(cached, direct, again).forEach(Tensor::releaseReference);
        }
    }
}
