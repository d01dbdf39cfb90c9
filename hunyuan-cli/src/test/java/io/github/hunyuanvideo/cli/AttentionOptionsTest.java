package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.dit.Attention;
import io.github.hunyuanvideo.io.testing.Stdout;
import io.github.hunyuanvideo.sampler.SamplerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --attention} and {@code --bf16-attention-steps}: mapped to the sampler configuration, validated before any
 * model loads, and the demo model generating with INT8 on the CPU (SDPA after one warning).
 */
class AttentionOptionsTest {
    @TempDir
    static Path tmp;

    private static SamplerConfig parsed(String... args) {
        HunyuanVideoCli cli = new HunyuanVideoCli();
        HunyuanVideoCli.commandLine(cli).parseArgs(args);
        return cli.samplerConfig();
    }

    @Test
    void optionsSetTheBackendAndItsSdpaSteps() {
        SamplerConfig defaults = parsed("--prompt", "a cat");
        assertEquals(Attention.SDPA, defaults.attention());
        assertEquals(0, defaults.bf16AttentionSteps());
        SamplerConfig int8 = parsed("--prompt", "a cat", "--attention", "int8", "--bf16-attention-steps", "3");
        assertEquals(Attention.INT8, int8.attention());
        assertEquals(3, int8.bf16AttentionSteps());
        assertEquals(Attention.INT8, parsed("--prompt", "a cat", "--attention", "INT8").attention());
        assertEquals(Attention.SDPA, parsed("--prompt", "a cat", "--attention", "sdpa").attention());
        assertEquals(Attention.INT8_FP8, parsed("--prompt", "a cat", "--attention", "int8-fp8").attention());
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "--attention | fp8 | expected one of sdpa, int8, int8-fp8 but was 'fp8'",
            "--bf16-attention-steps | -1 | must be >= 0, got -1"})
    void badValuesExitWithTwoNamingTheOption(String flag, String value, String why) {
        HunyuanVideoCliTest.Run r = HunyuanVideoCliTest.run("--prompt", "a cat", flag, value, "--model-base",
                tmp.resolve("no-such-model").toString(), "--save-path", tmp.resolve("bad").toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(List.of("hunyuan-video: Invalid value for option '" + flag + "': " + why + " (see --help)"),
                r.errLines());
        assertEquals("", r.out());
    }

    @Test
    void sdpaStepsWithoutInt8Warn() {
        HunyuanVideoCliTest.Run r = HunyuanVideoCliTest.run("--prompt", "a cat", "--bf16-attention-steps", "2",
                "--model-base", tmp.resolve("no-such-model").toString(), "--save-path", tmp.resolve("w").toString());
        assertEquals("hunyuan-video: warning: --bf16-attention-steps has no effect without --attention int8 or "
                + "int8-fp8 (every step runs SDPA)", r.errLines().get(0), r.err());
        // then the run proceeds to loading and stops at the missing model folder
        assertEquals(2, r.code(), r.err());
        assertTrue(r.errLines().get(r.errLines().size() - 1).contains("'--model-base'"), r.err());
    }

    /** On the CPU the 8-bit kernel cannot run: the demo generates with SDPA and logs that once. */
    @Test
    void theDemoRunsWithInt8OnTheCpu() {
        HunyuanVideoCliTest.Run[] r = new HunyuanVideoCliTest.Run[1];
        String log = Stdout.captureErr(() -> r[0] = HunyuanVideoCliTest.run("--demo", "--demo-dir",
                SharedDemo.path().toString(), "--save-path", tmp.resolve("out").toString(), "--video-size", "32",
                "32", "--video-length", "5", "--infer-steps", "3", "--seed", "1", "--no-contact-sheet",
                "--attention", "int8", "--bf16-attention-steps", "1"));
        assertEquals(0, r[0].code(), r[0].err());
        assertTrue(log.contains("attention INT8 on 1 of 3 steps (SDPA on the first and the last 1)"), log);
        assertEquals(1, log.lines().filter(l -> l.contains("attention int8: no CUDA device; the DiT runs SDPA "
                + "instead")).count(), log);
    }
}
