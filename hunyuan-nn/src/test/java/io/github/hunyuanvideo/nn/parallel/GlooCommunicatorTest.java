package io.github.hunyuanvideo.nn.parallel;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Gloo communicator across real processes (one JVM per rank, {@link GlooWorker}): exact values of every
 * collective with 2 ranks (TCP store) and 3 ranks (file store), sub-groups ({@link Communicator#split}) of 2 and 4
 * ranks with exact values, and a rank that dies or hangs ends the others' collective with {@link CollectiveException}
 * within the timeout.
 */
class GlooCommunicatorTest {
    /** Collective timeout of the failure tests. */
    private static final Duration TIMEOUT = Duration.ofSeconds(4);
    /** What a survivor may take beyond the timeout to notice, report and exit. */
    private static final Duration MARGIN = Duration.ofSeconds(4);
    private static final Device CPU = new Device("cpu");

    @TempDir
    Path dir;

    @Test
    void groupOfOneRunsEveryCollectiveAndChecksArguments() {
        try (GlooCommunicator c = GlooCommunicator.connect(Rendezvous.file(dir.resolve("store"), 0, 1)
                .withTimeout(Duration.ofSeconds(10)));
             PointerScope scope = new PointerScope()) {
            assertEquals(List.of(), CollectiveChecks.run(c, CPU));
            assertEquals(0, c.rank());
            assertEquals(1, c.worldSize());
            Tensor t = torch.ones(2, 3);
            IllegalArgumentException root = assertThrows(IllegalArgumentException.class, () -> c.broadcast(t, 1));
            assertTrue(root.getMessage().contains("root 1"), root.getMessage());
            IllegalArgumentException strided = assertThrows(IllegalArgumentException.class,
                    () -> c.allReduceSum(t.t()));
            assertTrue(strided.getMessage().contains("contiguous"), strided.getMessage());
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> c.allGather(torch.ones(3, 3), t));
            assertTrue(shape.getMessage().startsWith("allGather"), shape.getMessage());
        }
    }

    @Test
    void singleRankHasTheSameArgumentChecks() {
        try (PointerScope scope = new PointerScope()) {
            Communicator c = Communicator.single();
            assertEquals(List.of(), CollectiveChecks.run(c, CPU));
            assertEquals(List.of(), CollectiveChecks.split(c, CPU));
            assertTrue(c.split(3) == c, "a group of one splits into itself");
            assertThrows(IllegalArgumentException.class, () -> c.split(-1));
            assertThrows(IllegalArgumentException.class, () -> c.broadcast(torch.ones(1), 1));
            assertThrows(IllegalArgumentException.class, () -> c.allToAll(torch.ones(2), torch.ones(3)));
        }
    }

    @Test
    void twoProcessesOverTcpGetExactValues() throws Exception {
        List<Rank> ranks = start(2, "tcp:127.0.0.1:" + freePort(), Duration.ofSeconds(60), "check");
        for (Rank r : ranks) {
            assertTrue(r.process.waitFor(120, TimeUnit.SECONDS), "rank " + r.rank + " did not finish");
            assertEquals(0, r.process.exitValue(), "rank " + r.rank + ": " + r.output());
            assertTrue(r.output().contains("ok"), r.output());
        }
    }

    @Test
    void threeProcessesOverAFileGetExactValuesAndTheFileIsRemoved() throws Exception {
        Path store = dir.resolve("store");
        List<Rank> ranks = start(3, "file:" + store, Duration.ofSeconds(60), "check");
        for (Rank r : ranks) {
            assertTrue(r.process.waitFor(120, TimeUnit.SECONDS), "rank " + r.rank + " did not finish");
            assertEquals(0, r.process.exitValue(), "rank " + r.rank + ": " + r.output());
        }
        assertFalse(Files.exists(store), "the last rank removes the store file");
    }

    @Test
    void twoAndFourProcessesSplitIntoSubGroupsWithExactValuesOverAFileAndTcp() throws Exception {
        for (String where : List.of("file:" + dir.resolve("split2"), "file:" + dir.resolve("split4"),
                "tcp:127.0.0.1:" + freePort())) {
            int world = where.endsWith("split2") ? 2 : 4;
            List<Rank> ranks = start(world, where, Duration.ofSeconds(60), "split");
            for (Rank r : ranks) {
                assertTrue(r.process.waitFor(180, TimeUnit.SECONDS), "rank " + r.rank + " did not finish");
                assertEquals(0, r.process.exitValue(), where + ", rank " + r.rank + ": " + r.output());
                assertTrue(r.output().contains("ok"), r.output());
            }
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.toList(), "the last rank of each group removes its file");
        }
    }

    @Test
    void aKilledRankFailsTheOthersAtOnce() throws Exception {
        List<Rank> ranks = start(3, "file:" + dir.resolve("store"), TIMEOUT, "victim");
        awaitReady(ranks);
        long killed = System.nanoTime();
        ranks.get(2).process.destroyForcibly();
        for (Rank survivor : ranks.subList(0, 2)) {
            assertTrue(survivor.process.waitFor(TIMEOUT.plus(MARGIN).toMillis(), TimeUnit.MILLISECONDS),
                    "rank " + survivor.rank + " still waits after the timeout: " + survivor.output());
            assertEquals(GlooWorker.EXIT_FAILED, survivor.process.exitValue(), survivor.output());
            assertTrue(survivor.output().contains("FAILED"), survivor.output());
            assertTrue(survivor.output().contains("allReduceSum failed"), survivor.output());
        }
        assertTrue(System.nanoTime() - killed < TIMEOUT.plus(MARGIN).toNanos());
    }

    @Test
    void aHungRankFailsTheOthersAfterTheTimeout() throws Exception {
        List<Rank> ranks = start(3, "file:" + dir.resolve("store"), TIMEOUT, "victim");
        try {
            awaitReady(ranks);
            for (Rank survivor : ranks.subList(0, 2)) {
                assertTrue(survivor.process.waitFor(TIMEOUT.plus(MARGIN).toMillis(), TimeUnit.MILLISECONDS),
                        "rank " + survivor.rank + " still waits after the timeout: " + survivor.output());
                assertEquals(GlooWorker.EXIT_FAILED, survivor.process.exitValue(), survivor.output());
                String line = survivor.output().lines().filter(l -> l.startsWith("FAILED")).findFirst().orElseThrow();
                long millis = Long.parseLong(line.split(" ")[1]);
                assertTrue(millis >= TIMEOUT.toMillis() / 2 && millis <= TIMEOUT.plus(MARGIN).toMillis(), line);
            }
        } finally {
            ranks.get(2).process.destroyForcibly();
        }
    }

    /** The ranks' JVMs, started at once with the test classpath; their output is collected. */
    private List<Rank> start(int world, String where, Duration timeout, String mode) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Rank> ranks = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            Process p = new ProcessBuilder(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                    GlooWorker.class.getName(), String.valueOf(r), String.valueOf(world), where,
                    String.valueOf(timeout.toMillis()), mode).redirectErrorStream(true).start();
            ranks.add(new Rank(r, p));
        }
        return ranks;
    }

    private static void awaitReady(List<Rank> ranks) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        for (Rank r : ranks) {
            while (!r.output().contains("READY")) {
                assertTrue(r.process.isAlive(), "rank " + r.rank + " ended early: " + r.output());
                assertTrue(System.nanoTime() < deadline, "rank " + r.rank + " never got ready: " + r.output());
                Thread.sleep(50);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A rank's process and every line it printed so far. */
    private static final class Rank {
        final int rank;
        final Process process;
        final List<String> lines = new CopyOnWriteArrayList<>();

        Rank(int rank, Process process) {
            this.rank = rank;
            this.process = process;
            CompletableFuture.runAsync(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    in.lines().forEach(lines::add);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }

        String output() {
            return String.join("\n", lines);
        }
    }
}
