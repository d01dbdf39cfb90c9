package io.github.hunyuanvideo.io.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Captures what a benchmark or check main prints, for smoke tests that look at its table, and what code logs (the
 * tests' SLF4J provider, slf4j-simple, writes to the current {@code System.err}).
 */
public final class Stdout {
    private Stdout() {
    }

    /** A main's body; may throw checked exceptions like the mains do. */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    /**
     * Runs {@code body} with {@code System.out} redirected and returns what it printed, which is also echoed to the
     * real output (so a failing test's log shows it). A checked exception from {@code body} is rethrown wrapped in
     * an {@link IllegalStateException}; unchecked ones pass through.
     */
    public static String capture(Body body) {
        return capture(body, () -> System.out, System::setOut);
    }

    /** {@link #capture} for {@code System.err}: what {@code body} logged. */
    public static String captureErr(Body body) {
        return capture(body, () -> System.err, System::setErr);
    }

    private static String capture(Body body, Supplier<PrintStream> stream, Consumer<PrintStream> redirect) {
        PrintStream old = stream.get();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        redirect.accept(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            redirect.accept(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        old.print(out);
        return out;
    }
}
