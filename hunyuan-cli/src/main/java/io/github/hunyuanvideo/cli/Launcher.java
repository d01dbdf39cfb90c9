package io.github.hunyuanvideo.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The worker processes of {@code --gpus N}: ranks 1 to N−1, each a JVM started with the command a function gives for
 * its rank and the rendezvous file, while rank 0 runs in this process. Each worker gets the variables of
 * {@link #NO_MULTICAST} in its environment, and none of torchrun's rank variables; its output (stdout and stderr) goes
 * to {@code log} line by line, prefixed with {@code [rank r]}.
 *
 * <p>A worker that exits with a non-zero code makes the launcher end the other workers and call {@code onFailure}
 * with a line naming the rank and the code (the command line then exits). Closing the launcher, and a JVM shutdown
 * (Ctrl-C, SIGTERM), end the workers still running: SIGTERM, then SIGKILL after {@link #GRACE}. The rendezvous folder
 * ({@link #rendezvousFile()}) is a fresh temporary folder, deleted with what the ranks left there on close.
 */
final class Launcher implements AutoCloseable {
    /**
     * NVLink multicast off in NCCL, PyTorch and NVSHMEM, for every rank: on shared multi-GPU hosts a program that uses
     * it can put the GPUs out of service.
     */
    static final Map<String, String> NO_MULTICAST = Map.of("NCCL_NVLS_ENABLE", "0",
            "TORCH_SYMM_MEM_DISABLE_MULTICAST", "1", "NVSHMEM_DISABLE_NVLS", "1");
    /** The rank variables of torchrun that a worker must not inherit: its own come as options. */
    private static final List<String> RANK_VARIABLES = List.of("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR",
            "MASTER_PORT");
    /** How long a worker may take to stop after SIGTERM before it is killed. */
    static final Duration GRACE = Duration.ofSeconds(5);

    private final Path folder;
    private final List<Process> workers = new ArrayList<>();
    private final List<Thread> pumps = new ArrayList<>();
    private final AtomicBoolean ending = new AtomicBoolean();
    private final Thread shutdownHook = new Thread(() -> {
        endWorkers();
        deleteFolder();
    }, "hunyuan-video-end-workers");

    private Launcher(Path folder) {
        this.folder = folder;
    }

    /**
     * Starts ranks 1 to {@code worldSize − 1}.
     *
     * @param command   the command line of a rank that meets the others at a rendezvous file
     * @param onFailure called once, from a monitoring thread, when a worker exits with a non-zero code, after the
     *                  others were told to end
     * @throws IOException if the temporary folder cannot be made or a worker cannot be started (those started are
     *                     ended)
     */
    static Launcher start(int worldSize, BiFunction<Integer, Path, List<String>> command, PrintStream log,
                          Consumer<String> onFailure) throws IOException {
        Launcher launcher = new Launcher(Files.createTempDirectory("hunyuan-video-ranks-"));
        Runtime.getRuntime().addShutdownHook(launcher.shutdownHook);
        try {
            for (int rank = 1; rank < worldSize; rank++) {
                launcher.startWorker(rank, command.apply(rank, launcher.rendezvousFile()), log, onFailure);
            }
        } catch (IOException | RuntimeException e) {
            launcher.close();
            throw e;
        }
        return launcher;
    }

    /**
     * This JVM's command line as the operating system has it: the executable, then every argument (JVM options, the
     * main class or jar, the program's arguments).
     *
     * @throws IllegalStateException where the operating system does not tell
     */
    static List<String> thisJvm() {
        ProcessHandle.Info info = ProcessHandle.current().info();
        List<String> command = new ArrayList<>();
        command.add(info.command().orElseThrow(() -> new IllegalStateException(
                "cannot start the workers: this JVM's executable is unknown")));
        command.addAll(List.of(info.arguments().orElseThrow(() -> new IllegalStateException(
                "cannot start the workers: this JVM's arguments are unknown"))));
        return command;
    }

    /** Where the ranks meet: a file in the launcher's fresh folder, created by the first rank that opens it. */
    Path rendezvousFile() {
        return folder.resolve("rendezvous");
    }

    private void startWorker(int rank, List<String> command, PrintStream log, Consumer<String> onFailure)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        RANK_VARIABLES.forEach(builder.environment()::remove);
        builder.environment().putAll(NO_MULTICAST);
        Process worker = builder.start();
        workers.add(worker);
        Thread pump = new Thread(() -> copyLines(worker, "[rank " + rank + "] ", log), "hunyuan-video-rank-" + rank);
        pump.setDaemon(true);
        pump.start();
        pumps.add(pump);
        worker.onExit().thenAccept(p -> {
            if (p.exitValue() != 0 && !ending.getAndSet(true)) {
                endWorkers();
                onFailure.accept("rank " + rank + " exited with code " + p.exitValue());
            }
        });
    }

    private static void copyLines(Process worker, String prefix, PrintStream log) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(worker.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                log.println(prefix + line);
            }
        } catch (IOException e) {
            log.println(prefix + "(output lost: " + e.getMessage() + ")");
        }
    }

    /**
     * Waits until every worker has exited on its own, at most {@code limit} in all.
     *
     * @return whether all have
     */
    boolean awaitWorkers(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        for (Process worker : workers) {
            if (!worker.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return false;
            }
        }
        return true;
    }

    /** Ends the workers still running (a failure of theirs is not reported then) and deletes the folder. */
    @Override
    public void close() {
        ending.set(true);
        endWorkers();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is ending the workers already
        }
        for (Thread pump : pumps) {
            try {
                pump.join(GRACE.toMillis());  // the last lines of the workers' output
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        deleteFolder();
    }

    private void deleteFolder() {
        // the ranks remove their rendezvous files themselves (the group's and its sub-groups') unless one died
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(folder);
        } catch (NoSuchFileException gone) {
            // deleted already (the shutdown hook and close both delete it)
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete the rendezvous folder " + folder, e);
        }
    }

    /** SIGTERM to every worker still running, then SIGKILL to those still running after the grace period. */
    private void endWorkers() {
        ending.set(true);
        workers.stream().filter(Process::isAlive).forEach(Process::destroy);
        long deadline = System.nanoTime() + GRACE.toNanos();
        for (Process worker : workers) {
            try {
                if (!worker.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    worker.destroyForcibly().waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                worker.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
