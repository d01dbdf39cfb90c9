package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.sampler.GenerationRequest;
import io.github.hunyuanvideo.sampler.SamplerConfig;
import io.github.hunyuanvideo.nn.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HunyuanVideoCliTest {
    @TempDir
    static Path tmp;

    /** What one command line parses to. */
    record Parsed(HunyuanVideoCli cli, SamplerConfig config, GenerationRequest request) {
    }

    static Parsed parse(String... args) {
        HunyuanVideoCli cli = new HunyuanVideoCli();
        CommandLine cl = HunyuanVideoCli.commandLine(cli);
        List<String> all = new ArrayList<>(List.of(args));
        if (!all.contains("--prompt")) {
            all.addAll(List.of("--prompt", "a cat"));
        }
        cl.parseArgs(all.toArray(String[]::new));
        if (cli.demo) {
            cli.applyDemoDefaults();
        }
        return new Parsed(cli, cli.samplerConfig(), cli.request());
    }

    /** Runs the program; returns exit code, stdout and stderr. */
    record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = HunyuanVideoCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void defaultsAreTheOfficialOnes() {
        Parsed p = parse();
        assertEquals(SamplerConfig.defaults(), p.config());
        assertEquals(GenerationRequest.builder("a cat").build(), p.request());
        assertEquals(720, p.request().height());
        assertEquals(1280, p.request().width());
        assertEquals(129, p.request().videoLength());
        assertEquals(50, p.request().inferSteps());
        assertEquals(7.0, p.request().flowShift());
        assertEquals(6.0, p.request().embeddedGuidanceScale());
        assertNull(p.request().seed());
        assertTrue(p.config().flowReverse());
        assertTrue(p.config().vaeTiling());
        assertEquals("./results", p.cli().savePath);
        assertEquals(24, p.cli().mp4Options().fps());
        assertTrue(p.cli().contactSheet);
    }

    static Stream<Arguments> flags() {
        return Stream.of(
                flag("--model HYVideo-T/2", p -> p.config().model(), "HYVideo-T/2"),
                flag("--precision fp16", p -> p.config().precision(), Precision.FP16),
                flag("--precision FP32", p -> p.config().precision(), Precision.FP32),
                flag("--vae-precision bf16", p -> p.config().vaePrecision(), Precision.BF16),
                flag("--no-vae-tiling", p -> p.config().vaeTiling(), false),
                flag("--vae-tiling", p -> p.config().vaeTiling(), true),
                flag("--text-encoder-precision fp32", p -> p.config().textEncoderPrecision(), Precision.FP32),
                flag("--text-len 128", p -> p.config().textLen(), 128),
                flag("--tokenizer llm", p -> p.cli().tokenizer, "llm"),
                flag("--prompt-template dit-llm-encode-video", p -> p.config().promptTemplate(),
                        "dit-llm-encode-video"),
                flag("--prompt-template-video dit-llm-encode", p -> p.config().promptTemplateVideo(),
                        "dit-llm-encode"),
                flag("--hidden-state-skip-layer 1", p -> p.config().hiddenStateSkipLayer(), 1),
                flag("--apply-final-norm", p -> p.config().applyFinalNorm(), true),
                flag("--text-encoder-precision-2 bf16", p -> p.config().textEncoderPrecision2(), Precision.BF16),
                flag("--tokenizer-2 clipL", p -> p.cli().tokenizer2, "clipL"),
                flag("--text-len-2 64", p -> p.config().textLen2(), 64),
                flag("--flow-shift 5.0", p -> p.request().flowShift(), 5.0),
                flag("--flow-reverse", p -> p.config().flowReverse(), true),
                flag("--no-flow-reverse", p -> p.config().flowReverse(), false),
                flag("--use-linear-quadratic-schedule", p -> p.cli().useLinearQuadraticSchedule, true),
                flag("--linear-schedule-end 10", p -> p.cli().linearScheduleEnd, 10),
                flag("--model-base /models/hv", p -> p.cli().modelBase, Path.of("/models/hv")),
                flag("--dit-weight /models/dit.pt", p -> p.config().ditWeight(), Path.of("/models/dit.pt")),
                flag("--model-resolution 720p", p -> p.cli().modelResolution, "720p"),
                flag("--load-key ema", p -> p.config().loadKey(), "ema"),
                flag("--use-cpu-offload", p -> p.config().useCpuOffload(), true),
                flag("--text-encoders-on-cpu", p -> p.config().textEncodersOnCpu(), true),
                flag("--batch-size 1", p -> p.request().batchSize(), 1),
                flag("--infer-steps 30", p -> p.request().inferSteps(), 30),
                flag("--save-path out", p -> p.cli().savePath, "out"),
                flag("--save-path-suffix run1", p -> p.cli().savePathSuffix, "run1"),
                flag("--name-suffix x", p -> p.cli().nameSuffix, "x"),
                flag("--num-videos 3", p -> p.request().numVideosPerPrompt(), 3),
                flag("--video-size 544 960", p -> List.of(p.request().height(), p.request().width()),
                        List.of(544, 960)),
                flag("--video-size 512", p -> List.of(p.request().height(), p.request().width()),
                        List.of(512, 512)),
                flag("--video-size 540 961", p -> List.of(p.request().targetHeight(), p.request().targetWidth()),
                        List.of(544, 976)),
                flag("--video-length 65", p -> p.request().videoLength(), 65),
                flag("--seed-type fixed", p -> p.cli().seedType, "fixed"),
                flag("--seed 42", p -> p.request().seed(), 42L),
                flag("--cfg-scale 7.5", p -> p.request().guidanceScale(), 7.5),
                flag("--embedded-cfg-scale 3.5", p -> p.request().embeddedGuidanceScale(), 3.5),
                flag("--use-fp8", p -> p.config().useFp8(), true),
                flag("--reproduce", p -> p.cli().reproduce, true),
                flag("--ulysses-degree 1", p -> p.cli().ulyssesDegree, 1),
                flag("--ring-degree 1", p -> p.cli().ringDegree, 1),
                flag("--device cpu", p -> p.config().device(), "cpu"),
                flag("--device CUDA:1", p -> p.config().device(), "cuda:1"),
                flag("--max-gpu-memory 24G", p -> p.config().deviceMemoryBudget(), 24L << 30),
                flag("--max-gpu-memory 12GiB", p -> p.config().deviceMemoryBudget(), 12L << 30),
                flag("--max-gpu-memory 16000M --device cuda", p -> p.config().deviceMemoryBudget(), 16000L << 20),
                flag("--max-gpu-memory 24G --prefetch-depth 2", p -> p.config().prefetchDepth(), 2),
                flag("--fps 30", p -> p.cli().mp4Options().fps(), 30),
                flag("--encoder libopenh264", p -> p.cli().mp4Options().encoder(), "libopenh264"),
                flag("--no-contact-sheet", p -> p.cli().contactSheet, false),
                flag("--save-frames", p -> p.cli().saveFrames, true),
                flag("--grid", p -> p.cli().grid, true),
                flag("--demo-dir /tmp/d", p -> p.cli().demoDir, Path.of("/tmp/d")),
                flag("--demo", p -> List.of(p.request().height(), p.request().width(), p.request().videoLength(),
                        p.request().inferSteps()), List.of(128, 192, 33, 12)),
                flag("--demo", p -> p.config().precision(), Precision.FP32),
                flag("--demo --infer-steps 3", p -> p.request().inferSteps(), 3),
                flag("--demo --precision bf16", p -> p.config().precision(), Precision.BF16));
    }

    static Arguments flag(String args, Function<Parsed, Object> get, Object expected) {
        return Arguments.of(args, get, expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flags")
    void eachFlagParsesToItsValue(String args, Function<Parsed, Object> get, Object expected) {
        assertEquals(expected, get.apply(parse(args.split(" "))));
    }

    @Test
    void promptsWithSpacesAndNegativePrompt() {
        Parsed p = parse("--prompt", "A dog runs", "--neg-prompt", "blurry, dark");
        assertEquals("A dog runs", p.request().prompt());
        assertEquals("blurry, dark", p.request().negativePrompt());
        assertEquals("A cat walks on the grass, realistic style.", parse("--demo", "--prompt", HunyuanVideoCli
                .DEMO_PROMPT).request().prompt());
    }

    @Test
    void saveFolderTakesTheSuffix() {
        Parsed p = parse("--save-path", tmp.resolve("res").toString(), "--save-path-suffix", "a");
        assertEquals(tmp.resolve("res_a"), p.cli().saveDir());
        assertTrue(Files.isDirectory(tmp.resolve("res_a")));
    }

    static Stream<Arguments> invalid() {
        String save = tmp.resolve("invalid-out").toString();
        return Stream.of(
                bad("--model", "--model HYVideo-X"),
                bad("--latent-channels", "--latent-channels abc"),
                bad("--precision", "--precision fp8"),
                bad("--vae", "--vae 999-16c-hy"),
                bad("--vae-precision", "--vae-precision x"),
                bad("--text-encoder", "--text-encoder clipL"),
                bad("--text-encoder-precision", "--text-encoder-precision half"),
                bad("--text-len", "--text-len 0"),
                bad("--tokenizer", "--tokenizer clipL"),
                bad("--prompt-template", "--prompt-template foo"),
                bad("--prompt-template-video", "--prompt-template-video foo"),
                bad("--hidden-state-skip-layer", "--hidden-state-skip-layer -1"),
                bad("--text-encoder-2", "--text-encoder-2 llm"),
                bad("--text-encoder-precision-2", "--text-encoder-precision-2 x"),
                bad("--tokenizer-2", "--tokenizer-2 llm"),
                bad("--text-len-2", "--text-len-2 0"),
                bad("--denoise-type", "--denoise-type ddpm"),
                bad("--flow-shift", "--flow-shift 0"),
                bad("--flow-shift", "--flow-shift x"),
                bad("--flow-solver", "--flow-solver heun"),
                bad("--linear-schedule-end", "--linear-schedule-end x"),
                bad("--model-base", "--model-base " + tmp.resolve("no-such-model") + " --save-path " + save),
                bad("--dit-weight", "--model-base " + tmp + " --dit-weight " + tmp.resolve("no-dit.pt")
                        + " --save-path " + save),
                bad("--model-resolution", "--model-resolution 1080p"),
                bad("--load-key", "--load-key foo"),
                bad("--batch-size", "--batch-size 2"),
                bad("--infer-steps", "--infer-steps 0"),
                bad("--infer-steps", "--infer-steps 1.5"),
                bad("--save-path", "--save-path " + tmp.resolve("a-file.txt")),
                bad("--num-videos", "--num-videos 0"),
                bad("--video-size", "--video-size 0 100"),
                bad("--video-size", "--video-size 100 -5"),
                bad("--video-size", "--video-size abc"),
                bad("--video-length", "--video-length 10"),
                bad("--video-length", "--video-length 0"),
                bad("--seed-type", "--seed-type weird"),
                bad("--seed", "--seed abc"),
                bad("--cfg-scale", "--cfg-scale Infinity"),
                bad("--embedded-cfg-scale", "--embedded-cfg-scale NaN"),
                bad("--ulysses-degree", "--ulysses-degree 2"),
                bad("--ring-degree", "--ring-degree 4"),
                bad("--device", "--device tpu"),
                bad("--fps", "--fps 0"),
                bad("--encoder", "--encoder nosuchcodec"),
                bad("--encoder", "--encoder mpeg4"),
                bad("--model-base", "--demo --model-base x"),
                bad("--foo", "--foo"));
    }

    static Arguments bad(String flag, String args) {
        return Arguments.of(flag, args);
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("invalid")
    void eachInvalidValueGivesOneLineNamingTheFlag(String flag, String args) throws IOException {
        Files.writeString(tmp.resolve("a-file.txt"), "not a folder");
        List<String> all = new ArrayList<>(Arrays.asList(args.split(" ")));
        all.addAll(List.of("--prompt", "a cat"));
        Run r = run(all.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("'" + flag + "'") || r.err().contains("'" + flag + "="), r.err());
        assertTrue(r.err().startsWith("hunyuan-video: "), r.err());
        assertEquals("", r.out());
    }

    @Test
    void missingPromptIsNamed() {
        Run r = run("--save-path", tmp.resolve("np").toString());
        assertEquals(2, r.code());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("--prompt"), r.err());
    }

    @Test
    void noOpFlagsWarnAndAreOtherwiseAccepted() {
        Run r = run("--prompt", "a cat", "--name-suffix", "x", "--reproduce", "--seed-type", "fixed",
                "--model-resolution", "720p", "--use-linear-quadratic-schedule", "--linear-schedule-end", "3",
                "--latent-channels", "8", "--rope-theta", "128", "--text-states-dim", "1024",
                "--text-states-dim-2", "512", "--vae", "884-16c-hy", "--text-encoder", "llm", "--tokenizer", "llm",
                "--text-encoder-2", "clipL", "--tokenizer-2", "clipL", "--denoise-type", "flow",
                "--flow-solver", "euler", "--disable-autocast",
                "--model-base", tmp.resolve("no-such-model").toString(), "--save-path",
                tmp.resolve("noop").toString());
        List<String> lines = r.errLines();
        HunyuanVideoCli.NO_OP_FLAGS.forEach((flag, why) -> assertTrue(lines.stream().anyMatch(
                l -> l.contains("warning: " + flag + " has no effect here (" + why + ")")), flag + ": " + r.err()));
        // then the run proceeds to loading and stops at the missing model folder
        assertTrue(lines.get(lines.size() - 1).contains("'--model-base'"), r.err());
    }

    @Test
    void prefetchDepthWithoutABudgetWarns() {
        Run r = run("--prompt", "a cat", "--prefetch-depth", "2", "--model-base",
                tmp.resolve("no-such-model").toString(), "--save-path", tmp.resolve("prefetch").toString());
        assertTrue(r.errLines().get(0).equals("hunyuan-video: warning: --prefetch-depth has no effect without "
                + "--max-gpu-memory (nothing is streamed)"), r.err());
        // then the run proceeds to loading and stops at the missing model folder
        assertTrue(r.errLines().get(r.errLines().size() - 1).contains("'--model-base'"), r.err());
        assertEquals(0, parse().config().deviceMemoryBudget(), "no budget by default");
    }

    @Test
    void helpListsEveryOfficialFlag() {
        Run r = run("--help");
        assertEquals(0, r.code());
        for (String flag : List.of("--model", "--latent-channels", "--precision", "--rope-theta", "--vae",
                "--vae-precision", "--vae-tiling", "--text-encoder", "--text-encoder-precision", "--text-states-dim",
                "--text-len", "--tokenizer", "--prompt-template", "--prompt-template-video",
                "--hidden-state-skip-layer", "--apply-final-norm", "--text-encoder-2", "--text-encoder-precision-2",
                "--text-states-dim-2", "--tokenizer-2", "--text-len-2", "--denoise-type", "--flow-shift",
                "--flow-reverse", "--flow-solver", "--use-linear-quadratic-schedule", "--linear-schedule-end",
                "--model-base", "--dit-weight", "--model-resolution", "--load-key", "--use-cpu-offload",
                "--batch-size", "--infer-steps", "--disable-autocast", "--save-path", "--save-path-suffix",
                "--name-suffix", "--num-videos", "--video-size", "--video-length", "--prompt", "--seed-type",
                "--seed", "--neg-prompt", "--cfg-scale", "--embedded-cfg-scale", "--use-fp8", "--reproduce",
                "--ulysses-degree", "--ring-degree")) {
            // negatable options show as --[no-]name
            assertTrue(r.out().contains(flag) || r.out().contains("--[no-]" + flag.substring(2)), flag);
        }
        assertTrue(r.out().contains("Default: 7.0"), "defaults are shown");
        assertFalse(r.out().isBlank());
    }

    @Test
    void coreMessagesAreRewrittenToFlags() {
        HunyuanVideoCli cli = new HunyuanVideoCli();
        HunyuanVideoCli.commandLine(cli);
        assertEquals("Invalid value for option '--infer-steps': must be >= 1, got 0",
                cli.describe("inferSteps: must be >= 1, got 0"));
        assertEquals("Invalid value for option '--video-size' / '--video-length': too large",
                cli.describe("height/width/videoLength: too large"));
        assertEquals("Invalid value for option '--text-states-dim-2': x", cli.describe("textStatesDim2: x"));
        assertEquals("Invalid value for option '--text-encoder-precision-2': x",
                cli.describe("textEncoderPrecision2: x"));
        assertEquals("Invalid value for option '--use-fp8': x", cli.describe("useFp8: x"));
        assertEquals("error: something else: x", cli.describe("something else: x"));
        assertEquals("error: no colon", cli.describe("no colon"));
    }

    @Test
    void progressLineShowsStepPercentAndEta() {
        assertEquals("denoising 12/50 [#######.......................]  24%  00:12 elapsed, ETA 00:38",
                ProgressBar.line(12, 50, java.time.Duration.ofSeconds(12), java.time.Duration.ofSeconds(38)));
        assertEquals("1:01:05", ProgressBar.clock(java.time.Duration.ofSeconds(3665)));
        assertArrayEquals(new int[]{128, 192}, HunyuanVideoCli.DEMO_SIZE);
    }
}
