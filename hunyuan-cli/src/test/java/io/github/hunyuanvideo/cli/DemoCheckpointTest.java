package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.io.video.DecodedVideo;
import io.github.hunyuanvideo.sampler.demo.DemoCheckpoint;
import io.github.hunyuanvideo.text.ClipTokenizer;
import io.github.hunyuanvideo.text.LlmTokenizer;
import io.github.hunyuanvideo.text.PromptTemplate;
import io.github.hunyuanvideo.text.TokenizedPrompts;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemoCheckpointTest {
    @TempDir
    static Path tmp;
    static Path demo;

    @BeforeAll
    static void generate() throws IOException {
        demo = DemoCheckpoint.ensure(tmp.resolve("demo"));
    }

    @Test
    void llmTokenizerReproducesTheOfficialCrops() {
        try (LlmTokenizer t = LlmTokenizer.load(demo.resolve("tokenizer"))) {
            assertEquals(95, t.prefixTokens(PromptTemplate.VIDEO));
            assertEquals(36, t.prefixTokens(PromptTemplate.IMAGE));
            // a prompt becomes one token per UTF-8 byte unless it is a template word
            long[] a = t.encode("a cat");
            long[] b = t.encode("a dog");
            assertEquals(1 + 5, a.length);
            assertFalse(Arrays.equals(a, b));
            assertEquals("a cat", t.decode(Arrays.copyOfRange(a, 1, a.length)));
        }
    }

    @Test
    void clipTokenizerWrapsBytesInStartAndEnd() {
        try (ClipTokenizer t = ClipTokenizer.load(demo.resolve("tokenizer_2"))) {
            TokenizedPrompts p = t.tokenize(List.of("A  Cat"), 77);
            long[] ids = p.inputIds()[0];
            assertEquals(77, ids.length);
            assertEquals(t.bosTokenId(), ids[0]);
            // lower-cased, whitespace collapsed: "a", "c", "a", "t" (last byte of each word carries </w>)
            assertEquals(t.eosTokenId(), ids[5]);
            assertEquals("a cat", t.decode(Arrays.copyOfRange(ids, 1, 5)).strip());
        }
    }

    @Test
    void generationIsDeterministic() throws IOException {
        Path again = tmp.resolve("again");
        DemoCheckpoint.write(again);
        try (Stream<Path> s = Files.walk(demo)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(again.resolve(demo.relativize(f))),
                        f.toString());
            }
        }
    }

    @Test
    void ensureReusesAFinishedFolder() throws IOException {
        Path marker = demo.resolve(DemoCheckpoint.MARKER);
        long before = Files.getLastModifiedTime(marker).toMillis();
        assertEquals(demo, DemoCheckpoint.ensure(demo));
        assertEquals(before, Files.getLastModifiedTime(marker).toMillis());
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".hunyuan-demo-")));
        }
    }

    @Test
    void demoRunsEndToEndAndWritesAPlayableVideo() throws IOException {
        Path out = tmp.resolve("out");
        HunyuanVideoCliTest.Run r = HunyuanVideoCliTest.run("--demo", "--demo-dir", demo.toString(),
                "--save-path", out.toString(), "--prompt", "a cat / on a mat", "--video-size", "64", "96",
                "--video-length", "9", "--infer-steps", "2", "--seed", "7", "--num-videos", "2", "--grid");
        assertEquals(0, r.code(), r.err());
        List<Path> written = r.out().lines().map(Path::of).toList();
        assertEquals(5, written.size(), r.out());
        for (Path p : written) {
            assertTrue(Files.isRegularFile(p), p.toString());
            assertEquals(out.toAbsolutePath(), p.getParent());
        }
        assertTrue(written.get(0).getFileName().toString().matches(
                "\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d_seed7_a_cat_on_a_mat\\.mp4"), written.get(0).toString());
        assertTrue(written.get(2).getFileName().toString().contains("_seed8_"));
        DecodedVideo v = DecodedVideo.read(written.get(0));
        assertEquals(9, v.frames().size());
        assertEquals(96, v.width());
        assertEquals(64, v.height());
        assertEquals(9 / 24.0, v.streamSeconds(), 1e-6);
        // two videos side by side with make_grid padding
        DecodedVideo g = DecodedVideo.read(written.get(4));
        assertEquals(2 * (96 + 2) + 2, g.width());
        assertEquals(64 + 4, g.height());
        // not a constant picture
        byte[] f = v.frames().get(4);
        assertNotEquals(f[0], f[f.length / 2 + 7]);
        assertTrue(r.err().contains("[denoising]"), r.err());
        assertTrue(r.err().contains("denoising 2/2"), r.err());
    }
}
