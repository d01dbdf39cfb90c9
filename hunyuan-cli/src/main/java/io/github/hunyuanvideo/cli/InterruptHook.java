package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.io.video.OutputFolder;
import io.github.hunyuanvideo.sampler.CancellationToken;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What the command line does on Ctrl-C (SIGINT) or SIGTERM during a run: a JVM shutdown hook, installed for the run
 * and removed after it, that cancels the run's {@link CancellationToken}, waits up to {@link #GRACE} for the run to
 * stop (the run then says so on stderr and deletes what it was writing), and deletes the temporary file of any
 * output still being written in the save folder, so that nothing half-written is left when the JVM exits.
 */
final class InterruptHook implements AutoCloseable {
    /** Longest wait for the run to stop before the JVM exits anyway. */
    static final Duration GRACE = Duration.ofSeconds(10);

    private final CancellationToken cancel;
    private final Path saveDir;
    private final Duration grace;
    private final PrintStream stderr;
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** The thread registered with the runtime; it runs {@link #run()}. */
    final Thread thread = new Thread(this::run, "hunyuan-video-interrupt");

    InterruptHook(CancellationToken cancel, Path saveDir, Duration grace, PrintStream stderr) {
        this.cancel = cancel;
        this.saveDir = saveDir;
        this.grace = grace;
        this.stderr = stderr;
    }

    /**
     * A hook for the run that {@code cancel} stops and that writes into {@code saveDir} (null: a rank that writes
     * nothing), installed now.
     */
    static InterruptHook install(CancellationToken cancel, Path saveDir, PrintStream stderr) {
        InterruptHook hook = new InterruptHook(cancel, saveDir, GRACE, stderr);
        Runtime.getRuntime().addShutdownHook(hook.thread);
        return hook;
    }

    /** The hook's work, run by the JVM on shutdown (and by tests directly). */
    void run() {
        cancel.cancel();
        boolean inTime = false;
        try {
            inTime = stopped.await(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!inTime) {
            stderr.println("hunyuan-video: interrupted (the run did not stop within " + grace.toSeconds()
                    + " s; a file it had not finished is deleted)");
        }
        if (saveDir == null) {
            return;
        }
        try {
            OutputFolder.deleteUnfinished(saveDir);
        } catch (IOException e) {
            stderr.println("hunyuan-video: could not delete an unfinished file in " + saveDir + ": "
                    + OutputFolder.reason(e));
        }
    }

    /**
     * Marks the run stopped and removes the hook; when the JVM is already shutting down the hook is running instead,
     * and this lets it go on.
     */
    @Override
    public void close() {
        stopped.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(thread);
        } catch (IllegalStateException shuttingDown) {
            // the hook only waited for the count-down above
        }
    }
}
