package io.github.hunyuanvideo.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --gpus 2 --device cpu} end to end, as a user runs it (a JVM of its own): the worker JVM starts, both ranks
 * meet over Gloo at the launcher's rendezvous file, render the video together (without and with true CFG, where the
 * two ranks run a branch each), and rank 0 writes frames equal to a one-process run's with the same seed and alone
 * prints the paths on stdout (beside the one connection line that libtorch's Gloo prints there itself). The demo
 * DiT has 2 attention heads, so 3 ranks cannot share it: {@code --gpus 3} is refused before any worker starts, as is
 * a step cache with several ranks.
 */
class MultiRankCliTest {
    /** The demo run: 32×48, 5 frames, 1 step (2 with true CFG), every frame saved as PNG. */
    private static List<String> args(Path out, double cfgScale) {
        return List.of("--device", "cpu", "--demo", "--demo-dir", SharedDemo.path().toString(),
                "--prompt", "a cat", "--seed", "1", "--video-size", "32", "48", "--video-length", "5",
                "--infer-steps", cfgScale > 1 ? "2" : "1", "--cfg-scale", String.valueOf(cfgScale), "--save-frames",
                "--no-contact-sheet", "--save-path", out.toString(), "--collective-timeout", "60");
    }

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "cfg scale {0}")
    @ValueSource(doubles = {1.0, 3.0})
    void twoCpuRanksRenderTheFramesOfOneProcess(double cfgScale) throws IOException, InterruptedException {
        ByteArrayOutputStream oneOut = new ByteArrayOutputStream();
        ByteArrayOutputStream oneErr = new ByteArrayOutputStream();
        assertEquals(0, HunyuanVideoCli.run(args(tmp.resolve("one"), cfgScale).toArray(String[]::new),
                new PrintStream(oneOut, true, StandardCharsets.UTF_8),
                new PrintStream(oneErr, true, StandardCharsets.UTF_8)), oneErr.toString(StandardCharsets.UTF_8));

        Path out = tmp.resolve("two");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx2g", "-cp", System.getProperty("java.class.path"), HunyuanVideoCli.class.getName(),
                "--gpus", "2", "--ulysses-degree", "2"));  // the original's spelling of the same, accepted
        command.addAll(args(out, cfgScale));
        Process p = new ProcessBuilder(command).start();
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String stdout = read(p.getInputStream());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "still running");
        String err = stderr.join();
        assertEquals(0, p.exitValue(), err);
        assertTrue(err.lines().anyMatch(l -> l.startsWith("[rank 1] ")), "the worker's output, prefixed: " + err);
        assertFalse(err.contains("error"), err);
        List<String> written = stdout.lines().filter(l -> !l.startsWith("[Gloo] Rank 0 is connected")).toList();
        assertEquals(2, written.size(), "the video and its frames, from rank 0 only: " + stdout);
        for (String file : written) {
            assertTrue(Files.exists(Path.of(file)) && Path.of(file).startsWith(out), file);
        }
        assertSameFrames(frames(tmp.resolve("one")), frames(out));
    }

    /** The PNG frames under {@code dir}, by name. */
    private static List<Path> frames(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(f -> f.toString().endsWith(".png")).sorted().toList();
        }
    }

    /**
     * The same frames: the ranks' float32 frames equal one process's within 1e-5 relative, so an 8-bit value may
     * round the other way at most by one level, and hardly ever.
     */
    private static void assertSameFrames(List<Path> expected, List<Path> actual) throws IOException {
        assertEquals(5, expected.size(), expected.toString());
        assertEquals(expected.size(), actual.size(), actual.toString());
        long values = 0;
        long off = 0;
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).getFileName(), actual.get(i).getFileName());
            BufferedImage a = ImageIO.read(expected.get(i).toFile());
            BufferedImage b = ImageIO.read(actual.get(i).toFile());
            assertEquals(a.getWidth(), b.getWidth());
            assertEquals(a.getHeight(), b.getHeight());
            for (int y = 0; y < a.getHeight(); y++) {
                for (int x = 0; x < a.getWidth(); x++) {
                    for (int shift = 0; shift < 24; shift += 8) {
                        int d = Math.abs((a.getRGB(x, y) >> shift & 0xff) - (b.getRGB(x, y) >> shift & 0xff));
                        assertTrue(d <= 1, actual.get(i) + " (" + x + ", " + y + "): off by " + d);
                        off += d;
                        values++;
                    }
                }
            }
        }
        assertTrue(off * 1000 <= values, off + " of " + values + " 8-bit values off by one");
    }

    @Test
    void threeRanksCannotShareTheDemoDitsTwoHeads() {
        String err = refused("--gpus", "3", "--device", "cpu", "--demo", "--demo-dir", SharedDemo.path().toString(),
                "--save-path", tmp.resolve("out").toString());
        assertTrue(err.startsWith("hunyuan-video: Invalid value for option '--gpus': sequence parallelism over 3 "
                + "ranks"), err);
        assertFalse(Files.exists(tmp.resolve("out").resolve("rendezvous")), "no worker started");
    }

    @Test
    void aUlyssesDegreeOtherThanTheRanksIsRefused() {
        String err = refused("--gpus", "2", "--ulysses-degree", "4", "--device", "cpu", "--demo", "--demo-dir",
                SharedDemo.path().toString(), "--save-path", tmp.resolve("out").toString());
        assertTrue(err.startsWith("hunyuan-video: Invalid value for option '--ulysses-degree': is the number of ranks "
                + "sharing the DiT: it must equal the world size 2"), err);
    }

    @Test
    void stepCachesAreRefusedWithSeveralRanks() {
        String err = refused("--gpus", "2", "--teacache", "0.1", "--device", "cpu", "--demo", "--demo-dir",
                SharedDemo.path().toString(), "--save-path", tmp.resolve("out").toString());
        assertTrue(err.startsWith("hunyuan-video: Invalid value for option '--teacache': cannot be used with --gpus 2"),
                err);
    }

    /** Runs the command line in this JVM, expecting exit code 2; returns its stderr. */
    private static String refused(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = HunyuanVideoCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String message = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, message);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
        return message.lines().filter(l -> l.startsWith("hunyuan-video: Invalid")).findFirst().orElse(message);
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
