package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.sampler.ProgressListener;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * A text progress bar with ETA for the denoising loop, e.g.
 * {@code denoising  12/50 [#######.....................]  24%  00:12 elapsed, ETA 00:38}.
 *
 * <p>On a terminal it redraws one line; otherwise (output piped to a file) it prints a line at every tenth of the
 * loop, so logs stay short. When a step cache skipped steps, the loop ends with a line saying how many.
 */
final class ProgressBar implements ProgressListener {
    private static final int WIDTH = 30;

    private final PrintStream out;
    private final boolean interactive;
    private int lastDecile = -1;
    private int skipped;

    ProgressBar(PrintStream out, boolean interactive) {
        this.out = out;
        this.interactive = interactive;
    }

    @Override
    public void onStage(String stage) {
        out.println("[" + stage + "]");
        out.flush();
    }

    @Override
    public void onStepSkipped(int index) {
        skipped++;
    }

    @Override
    public void onStep(int step, int total, Duration elapsed, Duration eta) {
        String line = line(step, total, elapsed, eta);
        if (interactive) {
            out.print("\r" + line);
            if (step == total) {
                out.println();
            }
        } else {
            int decile = step * 10 / total;
            if (decile != lastDecile || step == total) {
                lastDecile = decile;
                out.println(line);
            }
        }
        if (step == total && skipped > 0) {
            out.println("step cache: skipped " + skipped + " of " + total + " steps");
        }
        out.flush();
    }

    /** One rendering of the bar. */
    static String line(int step, int total, Duration elapsed, Duration eta) {
        int filled = total == 0 ? WIDTH : (int) ((long) step * WIDTH / total);
        String bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
        int pct = total == 0 ? 100 : (int) ((long) step * 100 / total);
        int digits = Integer.toString(total).length();
        return String.format(Locale.ROOT, "denoising %" + digits + "d/%d [%s] %3d%%  %s elapsed, ETA %s", step, total,
                bar, pct, clock(elapsed), clock(eta));
    }

    /** {@code mm:ss}, or {@code h:mm:ss} from one hour on. */
    static String clock(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
        }
        return String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }
}
