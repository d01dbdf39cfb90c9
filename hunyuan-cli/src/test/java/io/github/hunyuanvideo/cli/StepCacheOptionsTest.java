package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.dit.StepCache;
import io.github.hunyuanvideo.sampler.demo.DemoCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --teacache} and {@code --fbcache}: mapped to the request's step cache, validated, mutually exclusive. */
class StepCacheOptionsTest {
    @TempDir
    static Path tmp;

    private static StepCache parsed(String... args) {
        HunyuanVideoCli cli = new HunyuanVideoCli();
        HunyuanVideoCli.commandLine(cli).parseArgs(args);
        return cli.request().stepCache();
    }

    /** Exit code and stderr of the program. */
    private record Run(int code, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = HunyuanVideoCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void eachFlagSelectsItsCache() {
        assertEquals(StepCache.none(), parsed("--prompt", "a cat"));
        assertEquals(StepCache.teaCache(0.15), parsed("--prompt", "a cat", "--teacache", "0.15"));
        assertEquals(StepCache.firstBlock(0.06), parsed("--prompt", "a cat", "--fbcache", "0.06"));
        assertEquals(StepCache.firstBlock(0), parsed("--prompt", "a cat", "--fbcache", "0"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"--teacache", "--fbcache"})
    void thresholdsMustBeFiniteAndNonNegative(String flag) {
        for (String bad : List.of("-0.1", "NaN", "Infinity")) {
            Run r = run("--prompt", "a cat", flag, bad, "--device", "cpu", "--model-base", tmp.toString());
            assertEquals(2, r.code(), r.err());
            assertEquals(List.of("hunyuan-video: Invalid value for option '" + flag + "': must be a finite number "
                    + ">= 0, got " + Double.valueOf(bad) + " (see --help)"), r.err().lines().toList());
        }
        Run r = run("--prompt", "a cat", flag, "fast");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(flag) && r.err().lines().count() == 1, r.err());
    }

    @Test
    void theTwoCachesAreExclusive() {
        Run r = run("--prompt", "a cat", "--teacache", "0.1", "--fbcache", "0.06", "--model-base", tmp.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(List.of("hunyuan-video: Invalid value for option '--teacache': cannot be combined with "
                + "--fbcache (one step cache at a time) (see --help)"), r.err().lines().toList());
    }

    @Test
    void theProgressBarCountsSkippedSteps() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
        for (int step = 1; step <= 3; step++) {
            if (step == 2) {
                bar.onStepSkipped(1);
            }
            bar.onStep(step, 3, Duration.ofSeconds(step), Duration.ofSeconds(3 - step));
        }
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals("step cache: skipped 1 of 3 steps", lines.get(lines.size() - 1));
    }

    /** The demo model with a threshold no step reaches: only the first and the last step compute. */
    @Test
    void theDemoRunsWithTeaCache() throws IOException {
        Path demo = DemoCheckpoint.ensure(tmp.resolve("demo"));
        Run r = run("--demo", "--demo-dir", demo.toString(), "--save-path", tmp.resolve("out").toString(),
                "--video-size", "32", "32", "--video-length", "5", "--infer-steps", "3", "--seed", "1",
                "--no-contact-sheet", "--teacache", "1e9");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("step cache: skipped 1 of 3 steps"), r.err());
    }
}
