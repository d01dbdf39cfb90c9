package io.github.hunyuanvideo.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --gpus 2 --device cpu} end to end, as a user runs it (a JVM of its own): the worker JVM starts, both ranks
 * meet over Gloo at the launcher's rendezvous file, the worker leaves with 0, rank 0 writes the videos and alone
 * prints their paths to stdout (beside the one connection line that libtorch's Gloo prints there itself).
 */
class MultiRankCliTest {
    @TempDir
    Path tmp;

    @Test
    void twoCpuRanksMeetAndRankZeroWritesTheVideo() throws IOException, InterruptedException {
        Path out = tmp.resolve("out");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g", "-cp", System.getProperty("java.class.path"), HunyuanVideoCli.class.getName(),
                "--gpus", "2", "--device", "cpu", "--demo", "--demo-dir", SharedDemo.path().toString(),
                "--prompt", "a cat", "--seed", "1", "--video-size", "32", "48", "--video-length", "5",
                "--infer-steps", "1", "--save-path", out.toString(), "--collective-timeout", "60").start();
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String stdout = read(p.getInputStream());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "still running");
        String err = stderr.join();
        assertEquals(0, p.exitValue(), err);
        assertTrue(err.contains("hunyuan-video: warning: 2 ranks met"), err);
        assertTrue(err.lines().anyMatch(l -> l.startsWith("[rank 1] ")), "the worker's output, prefixed: " + err);
        List<String> written = stdout.lines().filter(l -> !l.startsWith("[Gloo] Rank 0 is connected")).toList();
        assertEquals(2, written.size(), "the video and its contact sheet, from rank 0 only: " + stdout);
        for (String file : written) {
            assertTrue(Files.isRegularFile(Path.of(file)) && Path.of(file).startsWith(out), file);
        }
        assertFalse(err.contains("error"), err);
    }

    private static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
