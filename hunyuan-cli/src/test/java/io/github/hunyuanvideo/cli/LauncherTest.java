package io.github.hunyuanvideo.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The worker processes of {@code --gpus}, with {@link FakeRank} as the worker. */
class LauncherTest {
    final ByteArrayOutputStream log = new ByteArrayOutputStream();
    final PrintStream logStream = new PrintStream(log, true, StandardCharsets.UTF_8);

    /** Worker {@code rank} exits with {@code codes.get(rank)} after {@code sleeps.get(rank)} ms. */
    static List<String> fake(int rank, Map<Integer, Integer> codes, Map<Integer, Long> sleeps) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return List.of(java, "-cp", System.getProperty("java.class.path"), FakeRank.class.getName(),
                String.valueOf(codes.getOrDefault(rank, 0)), String.valueOf(sleeps.getOrDefault(rank, 0L)));
    }

    @Test
    void workersGetTheNoMulticastVariablesAndTheirOutputIsPrefixed() throws Exception {
        Path folder;
        try (Launcher launcher = Launcher.start(3, (rank, file) -> fake(rank, Map.of(), Map.of()), logStream,
                why -> logStream.println("FAILURE " + why))) {
            folder = launcher.rendezvousFile().getParent();
            assertTrue(Files.isDirectory(folder));
            assertFalse(Files.exists(launcher.rendezvousFile()), "the first rank creates it");
            assertTrue(launcher.awaitWorkers(Duration.ofSeconds(30)));
        }
        String out = log.toString(StandardCharsets.UTF_8);
        for (int rank = 1; rank <= 2; rank++) {
            for (String line : List.of("NCCL_NVLS_ENABLE=0", "TORCH_SYMM_MEM_DISABLE_MULTICAST=1",
                    "NVSHMEM_DISABLE_NVLS=1", "RANK=null", "a line on stderr")) {
                assertTrue(out.contains("[rank " + rank + "] " + line + "\n"), out);
            }
        }
        assertFalse(out.contains("[rank 0]") || out.contains("[rank 3]") || out.contains("FAILURE"), out);
        assertFalse(Files.exists(folder), "the rendezvous folder is deleted");
    }

    @Test
    void aFailingWorkerEndsTheOthersAndIsReportedWithItsRankAndCode() throws Exception {
        CompletableFuture<String> failure = new CompletableFuture<>();
        long start = System.nanoTime();
        try (Launcher launcher = Launcher.start(4, (rank, file) -> fake(rank, Map.of(2, 7),
                Map.of(1, 120_000L, 2, 300L, 3, 120_000L)), logStream, failure::complete)) {
            assertEquals("rank 2 exited with code 7", failure.get(30, TimeUnit.SECONDS));
            assertTrue(launcher.awaitWorkers(Duration.ZERO), "ranks 1 and 3 were ended with it");
        }
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30));
    }

    @Test
    void closingEndsTheWorkersStillRunningWithoutReportingThem() throws Exception {
        CompletableFuture<String> failure = new CompletableFuture<>();
        Launcher launcher = Launcher.start(3, (rank, file) -> fake(rank, Map.of(), Map.of(1, 120_000L,
                2, 120_000L)), logStream, failure::complete);
        assertFalse(launcher.awaitWorkers(Duration.ofMillis(200)));
        launcher.close();
        assertTrue(launcher.awaitWorkers(Duration.ZERO));
        assertFalse(failure.isDone(), "ended on purpose: not a failure");
        assertFalse(Files.exists(launcher.rendezvousFile().getParent()));
    }
}
