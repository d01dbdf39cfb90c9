package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.io.video.Mp4Options;
import io.github.hunyuanvideo.io.video.Mp4Writer;
import io.github.hunyuanvideo.io.video.OutputFolder;
import io.github.hunyuanvideo.sampler.CancellationToken;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeout;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Ctrl-C hook's work, run directly (no signal, no JVM exit). */
class InterruptHookTest {
    @TempDir
    Path dir;

    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final PrintStream stderr = new PrintStream(err, true, StandardCharsets.UTF_8);

    List<String> partFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(OutputFolder::isTemporaryFileName).toList();
        }
    }

    static Mp4Writer writerWithOneFrame(Path target) throws IOException {
        Mp4Writer w = Mp4Writer.open(target, 16, 16, Mp4Options.defaults());
        w.writeFrame(new byte[16 * 16 * 3]);
        return w;
    }

    @Test
    void cancelsTheRunAndWaitsUntilItHasStopped() throws Exception {
        CancellationToken token = new CancellationToken();
        InterruptHook hook = new InterruptHook(token, dir, Duration.ofSeconds(30), stderr);
        CountDownLatch writing = new CountDownLatch(1);
        AtomicBoolean finishing = new AtomicBoolean();
        // a run that writes a video until it sees the cancellation, then cleans up as the command line does
        CompletableFuture<Void> run = CompletableFuture.runAsync(() -> {
            try (InterruptHook h = hook; Mp4Writer w = writerWithOneFrame(dir.resolve("v.mp4"))) {
                writing.countDown();
                while (!token.isCancelled()) {
                    Thread.onSpinWait();
                }
                // the run takes a moment to stop; the hook must wait for it
                Thread.sleep(100);
                finishing.set(true);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(writing.await(30, TimeUnit.SECONDS));
        assertEquals(1, partFiles().size());

        assertTimeout(Duration.ofSeconds(10), hook::run);

        assertTrue(token.isCancelled());
        assertTrue(finishing.get(), "the hook returned before the run stopped");
        run.get(10, TimeUnit.SECONDS);
        assertEquals(List.of(), partFiles());
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void deletesThePartFileOfARunThatDoesNotStopInTime() throws IOException {
        CancellationToken token = new CancellationToken();
        InterruptHook hook = new InterruptHook(token, dir, Duration.ofSeconds(1), stderr);
        try (Mp4Writer w = writerWithOneFrame(dir.resolve("v.mp4"))) {
            assertEquals(1, partFiles().size());

            assertTimeout(Duration.ofSeconds(10), hook::run);

            assertTrue(token.isCancelled());
            assertEquals(List.of(), partFiles());
            assertFalse(Files.exists(dir.resolve("v.mp4")));
            String said = err.toString(StandardCharsets.UTF_8);
            assertEquals(1, said.lines().count(), said);
            assertTrue(said.startsWith("hunyuan-video: interrupted (the run did not stop within 1 s"), said);
        }
        assertEquals(List.of(), partFiles());
    }

    @Test
    void isInstalledForTheRunOnly() {
        InterruptHook hook = InterruptHook.install(new CancellationToken(), dir, stderr);
        hook.close();
        // removing it again finds nothing: close() already did
        assertFalse(Runtime.getRuntime().removeShutdownHook(hook.thread));
        assertEquals(Duration.ofSeconds(10), InterruptHook.GRACE);
    }
}
