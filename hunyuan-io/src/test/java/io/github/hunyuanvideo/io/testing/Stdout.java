package io.github.hunyuanvideo.io.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Captures what a benchmark or check main prints, for smoke tests that look at its table. */
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
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        old.print(out);
        return out;
    }
}
