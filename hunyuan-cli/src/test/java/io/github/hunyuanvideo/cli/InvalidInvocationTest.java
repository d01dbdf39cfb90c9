package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.sampler.HunyuanVideoSampler;
import io.github.hunyuanvideo.sampler.SamplerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sizes and scales beyond their limits: each invocation ends at once with exit code 2 and one line naming the
 * option, prints no stack trace, loads no model and leaves the save folder as it was.
 */
class InvalidInvocationTest {
    /** The demo LLM's {@code max_position_embeddings} (DemoCheckpoint's Llama config). */
    private static final int DEMO_LLM_POSITIONS = 512;
    /** Tokens the template adds to {@code --text-len} (the video template's crop). */
    private static final int TEMPLATE_CROP = 95;
    /** A stack trace line, or a line that starts with an exception's class name. */
    private static final Pattern TRACE = Pattern.compile("(?m)^(\\s*at |Caused by|[\\w.$]*(Exception|Error)\\b)");
    private static final long LIMIT_NANOS = 2_000_000_000L;

    static final Path demo = SharedDemo.path();

    static Stream<Arguments> invocations() {
        String overLlm = String.valueOf(DEMO_LLM_POSITIONS - TEMPLATE_CROP + 1);
        return Stream.of(
                // the tester's five
                bad("--text-len", "--text-len 100000"),
                bad("--infer-steps", "--infer-steps 2147483647"),
                bad("--embedded-cfg-scale", "--embedded-cfg-scale 1e308"),
                bad("--flow-shift", "--flow-shift 1e-300"),
                bad("--cfg-scale", "--cfg-scale 1e308"),
                // --text-len over the record's maximum, and within it but over the demo LLM's 512 positions
                bad("--text-len", "--text-len " + (SamplerConfig.MAX_TEXT_LEN + 1)),
                bad("--text-len", "--text-len " + overLlm),
                bad("--text-len", "--text-len " + SamplerConfig.MAX_TEXT_LEN),
                bad("--text-len", "--text-len -1"),
                bad("--text-len-2", "--text-len-2 78"),
                bad("--text-len-2", "--text-len-2 100000"),
                bad("--hidden-state-skip-layer", "--hidden-state-skip-layer 4"),
                bad("--infer-steps", "--infer-steps 0"),
                bad("--infer-steps", "--infer-steps 1001"),
                bad("--infer-steps", "--infer-steps -1"),
                bad("--cfg-scale", "--cfg-scale -1e308"),
                bad("--cfg-scale", "--cfg-scale 100.5"),
                bad("--cfg-scale", "--cfg-scale NaN"),
                bad("--embedded-cfg-scale", "--embedded-cfg-scale 60.5"),
                bad("--embedded-cfg-scale", "--embedded-cfg-scale -1e308"),
                bad("--embedded-cfg-scale", "--embedded-cfg-scale -Infinity"),
                bad("--flow-shift", "--flow-shift 1e308"),
                bad("--flow-shift", "--flow-shift 0.0009"),
                bad("--flow-shift", "--flow-shift 1000.5"),
                bad("--flow-shift", "--flow-shift -7"),
                bad("--flow-shift", "--flow-shift NaN"),
                bad("--video-size", "--video-size 4112"),
                bad("--video-size", "--video-size 128 100000"),
                bad("--video-size", "--video-size 2147483647 2147483647"),
                bad("--video-size", "--video-size 4096 4096 --video-length 129"),
                bad("--video-length", "--video-size 4096 4096 --video-length 129"),
                bad("--video-length", "--video-length 1029"),
                bad("--video-length", "--video-length 2147483647"),
                bad("--video-length", "--video-length -3"),
                bad("--num-videos", "--num-videos 65"),
                bad("--num-videos", "--num-videos 2147483647"),
                bad("--num-videos", "--num-videos -1"),
                // device memory budgets: not a size, none at all, beyond any device, too small for any plan, on a CPU
                bad("--max-gpu-memory", "--max-gpu-memory 24X"),
                bad("--max-gpu-memory", "--max-gpu-memory G"),
                bad("--max-gpu-memory", "--max-gpu-memory 1e3G"),
                bad("--max-gpu-memory", "--max-gpu-memory NaN"),
                bad("--max-gpu-memory", "--max-gpu-memory -1G"),
                bad("--max-gpu-memory", "--max-gpu-memory 0"),
                bad("--max-gpu-memory", "--max-gpu-memory 9223372036854775808"),
                bad("--max-gpu-memory", "--max-gpu-memory 1048577G"),
                bad("--max-gpu-memory", "--max-gpu-memory 1023M"),
                bad("--max-gpu-memory", "--max-gpu-memory 24G --device cpu"),
                bad("--device", "--max-gpu-memory 24G --device cpu"),
                bad("--prefetch-depth", "--max-gpu-memory 24G --prefetch-depth 0"),
                bad("--prefetch-depth", "--max-gpu-memory 24G --prefetch-depth 5"),
                bad("--prefetch-depth", "--prefetch-depth -1"),
                bad("--prefetch-depth", "--prefetch-depth x"),
                // attention backends
                bad("--attention", "--attention fp8"),
                bad("--bf16-attention-steps", "--attention int8 --bf16-attention-steps -1"),
                bad("--bf16-attention-steps", "--bf16-attention-steps x"));
    }

    static Arguments bad(String flag, String args) {
        return Arguments.of(flag, args);
    }

    @ParameterizedTest(name = "{1} names {0}")
    @MethodSource("invocations")
    void isRefusedAtOnceInOneLineNamingTheOption(String flag, String args, @TempDir Path tmp) throws IOException {
        Path save = Files.createDirectories(tmp.resolve("results"));
        Files.writeString(save.resolve("sentinel.txt"), "the user's earlier output", StandardCharsets.UTF_8);
        Map<String, byte[]> before = DemoFolderSafetyTest.snapshot(save);
        List<String> all = new ArrayList<>(List.of("--demo", "--demo-dir", demo.toString(), "--save-path",
                save.toString(), "--prompt", "a cat"));
        all.addAll(Arrays.asList(args.split(" ")));

        long t0 = System.nanoTime();
        HunyuanVideoCliTest.Run r = HunyuanVideoCliTest.run(all.toArray(String[]::new));
        long elapsed = System.nanoTime() - t0;

        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        String line = r.errLines().get(0);
        assertTrue(line.startsWith("hunyuan-video: "), line);
        assertTrue(line.contains("'" + flag + "'") || line.contains("'" + flag + "="), line);
        assertFalse(TRACE.matcher(r.err()).find(), r.err());
        assertEquals("", r.out());
        DemoFolderSafetyTest.assertSnapshotEquals(before, DemoFolderSafetyTest.snapshot(save));
        assertTrue(elapsed < LIMIT_NANOS, args + " took " + elapsed / 1_000_000 + " ms");
    }

    /** Limits found only once a model is loaded (or in its configs) name their flags too. */
    @Test
    void modelLimitComponentsMapToTheirFlags() {
        HunyuanVideoCli cli = new HunyuanVideoCli();
        HunyuanVideoCli.commandLine(cli);
        assertEquals("Invalid value for option '--video-size' / '--video-length' / '--num-videos': too large",
                cli.describe("height/width/videoLength/numVideosPerPrompt: too large"));
        assertEquals("Invalid value for option '--text-len-2': x", cli.describe("textLen2: x"));
        assertEquals("Invalid value for option '--hidden-state-skip-layer': x",
                cli.describe("hiddenStateSkipLayer: x"));
    }

    /** The demo LLM's limit comes from its config.json: a folder whose weights nobody can read proves it. */
    @Test
    void textLengthsFailAgainstTheDemoEncodersBeforeAnyWeightIsRead(@TempDir Path tmp) throws IOException {
        Path copy = DemoFolderSafetyTest.copyOf(demo, tmp.resolve("unreadable-weights"));
        try (Stream<Path> files = Files.walk(copy)) {
            for (Path p : files.filter(p -> p.toString().endsWith(".safetensors")).toList()) {
                Files.writeString(p, "not a safetensors file");
            }
        }
        int largest = DEMO_LLM_POSITIONS - TEMPLATE_CROP;
        SamplerConfig fits = SamplerConfig.builder().device("cpu").textLen(largest).build();

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HunyuanVideoSampler.fromPretrained(copy, fits.toBuilder().textLen(largest + 1).build()));
        assertTrue(e.getMessage().startsWith("textLen:"), e.getMessage());
        assertTrue(e.getMessage().contains("max_position_embeddings " + DEMO_LLM_POSITIONS), e.getMessage());
        assertTrue(e.getMessage().contains("largest textLen for this LLM is " + largest), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HunyuanVideoSampler.fromPretrained(copy, fits.toBuilder().textLen2(78).build()));
        assertTrue(e.getMessage().startsWith("textLen2:") && e.getMessage().contains("77"), e.getMessage());

        // at the limit the lengths pass, and loading goes on to the weights, which fail
        Exception weights = assertThrows(Exception.class, () -> HunyuanVideoSampler.fromPretrained(copy, fits));
        assertFalse(weights.getMessage().startsWith("textLen"), weights.getMessage());
        assertTrue(weights.getMessage().contains(copy.toString()), weights.getMessage());
    }
}
