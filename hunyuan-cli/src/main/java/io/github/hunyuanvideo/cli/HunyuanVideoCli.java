package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.dit.Attention;
import io.github.hunyuanvideo.dit.StepCache;
import io.github.hunyuanvideo.io.video.Mp4Options;
import io.github.hunyuanvideo.io.video.Mp4Writer;
import io.github.hunyuanvideo.io.video.OutputFolder;
import io.github.hunyuanvideo.io.video.OutputNames;
import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.MemorySize;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.parallel.Communicator;
import io.github.hunyuanvideo.nn.parallel.Rendezvous;
import io.github.hunyuanvideo.sampler.CancellationToken;
import io.github.hunyuanvideo.sampler.GenerationCancelledException;
import io.github.hunyuanvideo.sampler.GenerationRequest;
import io.github.hunyuanvideo.sampler.HunyuanVideoSampler;
import io.github.hunyuanvideo.sampler.MissingCheckpointException;
import io.github.hunyuanvideo.sampler.ProgressListener;
import io.github.hunyuanvideo.sampler.RequestSize;
import io.github.hunyuanvideo.sampler.SamplerConfig;
import io.github.hunyuanvideo.sampler.SamplerResult;
import io.github.hunyuanvideo.sampler.demo.DemoCheckpoint;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The command-line program: the options of the official {@code sample_video.py}, each mapped to
 * {@link SamplerConfig} or {@link GenerationRequest}, plus output options and {@code --demo}.
 *
 * <p>Differences from the official CLI, each stated in the option's help: {@code --flow-reverse} and
 * {@code --vae-tiling} are on by default and can be turned off ({@code --no-…}); {@code --video-size} with one value
 * means a square; options that change nothing here (no effect in the original, a single allowed value, or a value
 * this program reads from the checkpoint: {@link #NO_OP_FLAGS}) are accepted with a warning that says so; parallel
 * degrees above 1 and {@code --batch-size} above 1 are refused. {@code --model-base} defaults to the
 * {@code MODEL_BASE} environment variable, else {@code ckpts}, and locates every component (the original reads the
 * VAE and text encoders from {@code MODEL_BASE}).
 *
 * <p>Several devices: {@code --gpus N} runs one process (rank) per GPU on this host, starting ranks 1 to N−1 as
 * worker JVMs ({@link Launcher}); {@code --rank}, {@code --world-size}, {@code --master-addr} and
 * {@code --master-port} (torchrun's variables by default) join processes another tool started
 * ({@link ParallelOptions}). The ranks render each video together ({@link SamplerConfig#communicator()}); rank 0
 * reports progress and writes the files, the others print and write nothing. A worker that exits with an error ends
 * the run: rank 0 ends the others and exits with 1, naming the rank and its exit code.
 *
 * <p>Bad input ends the program with exit code 2 and one line on stderr naming the option (an output folder that
 * cannot be written too, found before any model loads); other failures exit with 1. Ctrl-C (SIGINT) or SIGTERM
 * during a run cancels it ({@link InterruptHook}): one line on stderr, no half-written file left, exit code
 * {@value #EXIT_INTERRUPTED} (128 + the signal number, as the JVM sets it: 143 for SIGTERM). Standard output
 * receives only the paths of the written files, one per line, each as soon as it is complete. No file is ever
 * replaced: a name that is taken gets a number ({@code _1}, {@code _2}, ...), the same for a video and the files
 * beside it.
 */
@Command(name = "hunyuan-video", mixinStandardHelpOptions = true, version = "hunyuan-video-java 0.1.0",
        sortOptions = false, showDefaultValues = true, usageHelpWidth = 120, abbreviateSynopsis = true,
        description = {"Generates videos from a text prompt with HunyuanVideo (text-to-video).",
                "Writes {time}_seed{seed}_{prompt}.mp4 and a contact-sheet PNG per video into --save-path, never "
                        + "replacing a file (a taken name gets _1, _2, ...).",
                "Try it without any download: --demo (a tiny random-weight model made on the fly; its output is "
                        + "noise)."})
public final class HunyuanVideoCli implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(HunyuanVideoCli.class);
    private static final String NAME = "hunyuan-video";

    /** Default prompt of {@code --demo} when none is given. */
    static final String DEMO_PROMPT = "A cat walks on the grass, realistic style.";
    /** Demo defaults: a short small video in few steps, float32 everywhere (fast on a CPU). */
    static final int[] DEMO_SIZE = {128, 192};
    static final int DEMO_LENGTH = 33;
    static final int DEMO_STEPS = 12;

    @Spec
    CommandSpec spec;

    // ---- network (the original's add_network_args)
    @Option(names = "--model", defaultValue = "HYVideo-T/2-cfgdistill",
            description = "DiT configuration: HYVideo-T/2-cfgdistill (the released checkpoint) or HYVideo-T/2.")
    String model;

    @Option(names = "--latent-channels", defaultValue = "16",
            description = "No effect here: read from the checkpoint (accepted for compatibility).")
    int latentChannels;

    @Option(names = "--precision", defaultValue = "bf16", converter = PrecisionConverter.class,
            description = "DiT weight and compute precision: fp32, fp16 or bf16.")
    Precision precision;

    @Option(names = "--rope-theta", defaultValue = "256",
            description = "No effect here: θ of the 3D RoPE is read from the checkpoint's config (256 in the released "
                    + "one).")
    int ropeTheta;

    // ---- extra models (add_extra_models_args)
    @Option(names = "--vae", defaultValue = "884-16c-hy", description = "VAE name; only 884-16c-hy exists, so no effect.")
    String vae;

    @Option(names = "--vae-precision", defaultValue = "fp16", converter = PrecisionConverter.class,
            description = "VAE weight and compute precision.")
    Precision vaePrecision;

    @Option(names = "--vae-tiling", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Tiled VAE decoding. Default: on (always on in the original; --no-vae-tiling turns it "
                    + "off).")
    boolean vaeTiling;

    @Option(names = "--text-encoder", defaultValue = "llm", description = "First text encoder; only llm, so no effect.")
    String textEncoder;

    @Option(names = "--text-encoder-precision", defaultValue = "fp16", converter = PrecisionConverter.class,
            description = "LLM precision; also the dtype of the initial noise, as in the original.")
    Precision textEncoderPrecision;

    @Option(names = "--text-states-dim", defaultValue = "4096",
            description = "No effect here: the LLM width is read from the checkpoint.")
    int textStatesDim;

    @Option(names = "--text-len", defaultValue = "256", description = "LLM tokens kept after the template crop.")
    int textLen;

    @Option(names = "--tokenizer", defaultValue = "llm",
            description = "Tokenizer of the first encoder; it must match --text-encoder, so no effect.")
    String tokenizer;

    @Option(names = "--prompt-template", defaultValue = "dit-llm-encode",
            description = "Template for one-frame generation: dit-llm-encode or dit-llm-encode-video.")
    String promptTemplate;

    @Option(names = "--prompt-template-video", defaultValue = "dit-llm-encode-video",
            description = "Template for videos: dit-llm-encode-video or dit-llm-encode.")
    String promptTemplateVideo;

    @Option(names = "--hidden-state-skip-layer", defaultValue = "2",
            description = "LLM hidden state used: hidden_states[-(skip+1)].")
    int hiddenStateSkipLayer;

    @Option(names = "--apply-final-norm", description = "Apply the LLM's final RMSNorm to that hidden state.")
    boolean applyFinalNorm;

    @Option(names = "--text-encoder-2", defaultValue = "clipL", description = "Second text encoder; only clipL, so no effect.")
    String textEncoder2;

    @Option(names = "--text-encoder-precision-2", defaultValue = "fp16", converter = PrecisionConverter.class,
            description = "CLIP precision.")
    Precision textEncoderPrecision2;

    @Option(names = "--text-states-dim-2", defaultValue = "768",
            description = "No effect here: the CLIP width is read from the checkpoint.")
    int textStatesDim2;

    @Option(names = "--tokenizer-2", defaultValue = "clipL",
            description = "Tokenizer of the second encoder; it must match --text-encoder-2, so no effect.")
    String tokenizer2;

    @Option(names = "--text-len-2", defaultValue = "77", description = "CLIP max tokens.")
    int textLen2;

    // ---- denoise schedule (add_denoise_schedule_args)
    @Option(names = "--denoise-type", defaultValue = "flow", description = "Denoiser; only flow, so no effect.")
    String denoiseType;

    @Option(names = "--flow-shift", defaultValue = "7.0", description = "Shift s of the flow schedule.")
    double flowShift;

    @Option(names = "--flow-reverse", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "σ from 1 to 0, right for the released checkpoint. Default: on (the official flag "
                    + "defaults to off, which produces garbage; --no-flow-reverse reproduces that).")
    boolean flowReverse;

    @Option(names = "--flow-solver", defaultValue = "euler", description = "Solver; only euler, so no effect.")
    String flowSolver;

    @Option(names = "--use-linear-quadratic-schedule", description = "No effect (as in the original).")
    boolean useLinearQuadraticSchedule;

    @Option(names = "--linear-schedule-end", defaultValue = "25", description = "No effect (as in the original).")
    int linearScheduleEnd;

    // ---- inference (add_inference_args)
    @Option(names = "--model-base", defaultValue = "${env:MODEL_BASE:-ckpts}",
            description = "Model folder: the official ckpts/ layout or a diffusers snapshot (the default comes from "
                    + "$MODEL_BASE when it is set).")
    Path modelBase;

    @Option(names = "--dit-weight", description = "DiT checkpoint file or folder. Default: the model folder's "
            + "(hunyuan-video-t2v-720p/transformers/mp_rank_00_model_states.pt in the official layout).")
    Path ditWeight;

    @Option(names = "--model-resolution", defaultValue = "540p", description = "No effect (as in the original).")
    String modelResolution;

    @Option(names = "--load-key", defaultValue = "module",
            description = "Key of the DiT state dict in the checkpoint: module or ema.")
    String loadKey;

    @Option(names = "--use-cpu-offload", description = "Keep the text encoders and the VAE in host memory and bring "
            + "them to the GPU only while they run (the LLM layer by layer); the DiT stays on the GPU (with "
            + "--max-gpu-memory its blocks may stream too).")
    boolean useCpuOffload;

    @Option(names = "--text-encoders-on-cpu", description = "Run the text encoders on the CPU in float32 (slow; the "
            + "GPU never holds them).")
    boolean textEncodersOnCpu;

    @Option(names = "--batch-size", defaultValue = "1",
            description = "Prompts per batch; only 1 (larger values break the original). Use --num-videos.")
    int batchSize;

    @Option(names = "--infer-steps", defaultValue = "50", description = "Denoising steps.")
    int inferSteps;

    @Option(names = "--disable-autocast", description = "No effect here: the modules always use the original's "
            + "mixed-precision policy.")
    boolean disableAutocast;

    @Option(names = "--save-path", defaultValue = "./results", description = "Output folder, created if missing.")
    String savePath;

    @Option(names = "--save-path-suffix", defaultValue = "",
            description = "If set, the output folder is {save-path}_{suffix}.")
    String savePathSuffix;

    @Option(names = "--name-suffix", defaultValue = "", description = "No effect (as in the original).")
    String nameSuffix;

    @Option(names = "--num-videos", defaultValue = "1", description = "Videos per prompt; video i uses seed + i.")
    int numVideos;

    @Option(names = "--video-size", arity = "1..2", paramLabel = "H [W]",
            description = "Frame height and width in pixels, each rounded up to a multiple of 16 (one value: a "
                    + "square).")
    int[] videoSize = {720, 1280};

    @Option(names = "--video-length", defaultValue = "129", description = "Frames; must be 4k+1.")
    int videoLength;

    @Option(names = "--prompt", description = "The text prompt (required, except with --demo).")
    String prompt;

    @Option(names = "--seed-type", defaultValue = "auto", description = "No effect (as in the original).")
    String seedType;

    @Option(names = "--seed", description = "Seed of the first video. Default: random.")
    Long seed;

    @Option(names = "--neg-prompt", description = "Negative prompt for --cfg-scale > 1. Default: the original's "
            + "default negative prompt.")
    String negPrompt;

    @Option(names = "--cfg-scale", defaultValue = "1.0", description = "True classifier-free guidance scale; > 1 "
            + "runs the negative prompt too.")
    double cfgScale;

    @Option(names = "--embedded-cfg-scale", defaultValue = "6.0", description = "Distilled guidance fed to the DiT.")
    double embeddedCfgScale;

    @Option(names = "--use-fp8", description = "Use the FP8 DiT checkpoint (mp_rank_00_model_states_fp8.pt + map).")
    boolean useFp8;

    @Option(names = "--lora", paramLabel = "FILE[:SCALE]", converter = LoraOption.class,
            showDefaultValue = CommandLine.Help.Visibility.NEVER, description = "LoRA adapter merged into the DiT "
            + "when it loads, at SCALE (default 1.0); repeatable, the adapters add up. Keys: original "
            + "(diffusion_model.*), kohya (lora_unet_*) or diffusers (transformer.*).")
    List<SamplerConfig.Lora> loras = new ArrayList<>();

    @Option(names = "--lora-ignore-unmatched", description = "Load a --lora file whose keys match no DiT weight, "
            + "with a warning listing them (default: refused).")
    boolean loraIgnoreUnmatched;

    @Option(names = "--reproduce", description = "No effect (as in the original).")
    boolean reproduce;

    // ---- parallel (add_parallel_args)
    @Option(names = "--ulysses-degree", defaultValue = "1", description = "Ulysses sequence-parallel degree, as in "
            + "the original: the number of ranks sharing the DiT, so it must equal the world size (--gpus, "
            + "--world-size or WORLD_SIZE); giving it is optional.")
    int ulyssesDegree;

    @Option(names = "--ring-degree", defaultValue = "1", description = "Ring-attention degree; only 1 (no ring "
            + "attention: the ranks share the DiT by Ulysses alone).")
    int ringDegree;

    // ---- several devices: one process (rank) per device
    @Mixin
    ParallelOptions parallel = new ParallelOptions();

    // ---- this program
    @Option(names = "--device", defaultValue = "auto", description = "auto (CUDA if available), cpu, cuda or "
            + "cuda:N.")
    String device;

    @Option(names = "--max-gpu-memory", paramLabel = "SIZE", converter = MemorySizeConverter.class,
            description = "Device memory budget, e.g. 24G, 12GiB, 16000M: DiT blocks and the LLM are streamed from "
                    + "host memory and VAE tiles shrink to fit (default: no budget)")
    Long maxGpuMemory;

    @Option(names = "--prefetch-depth", paramLabel = "N", defaultValue = "1", description = "DiT blocks copied to "
            + "the GPU ahead of the one computing when --max-gpu-memory makes them stream, 1 to "
            + SamplerConfig.MAX_PREFETCH_DEPTH + "; each holds one block's memory.")
    int prefetchDepth;

    @Option(names = "--teacache", paramLabel = "THRESHOLD", description = "TeaCache step caching: skip the DiT's "
            + "blocks while the rescaled change of its input, summed since the last computed step, stays below "
            + "THRESHOLD (its authors use 0.1 and 0.15; higher skips more). Not with --fbcache. Default: off.")
    Double teaCache;

    @Option(names = "--fbcache", paramLabel = "THRESHOLD", description = "First-Block Cache step caching: skip the "
            + "blocks after the first while the first block's residual differs from the last computed one by less "
            + "than THRESHOLD (relative, e.g. 0.06). Not with --teacache. Default: off.")
    Double fbCache;

    @Option(names = "--attention", paramLabel = "sdpa|int8|int8-fp8", defaultValue = "sdpa",
            converter = AttentionConverter.class, description = "Attention of the DiT's blocks: sdpa (SDPA in "
            + "--precision, the original's numerics), int8 (8-bit attention kernel on Hopper GPUs, e.g. H100; "
            + "elsewhere SDPA with a warning) or int8-fp8 (int8 with an FP8 P·V product: faster, about three times "
            + "int8's error). Default: sdpa.")
    Attention attention;

    @Option(names = "--bf16-attention-steps", paramLabel = "N", defaultValue = "0", description = "With --attention "
            + "int8 or int8-fp8: the first N and the last N denoising steps run SDPA all the same (the last steps are "
            + "the most sensitive). Default: 0.")
    int bf16AttentionSteps;

    @Option(names = "--fps", defaultValue = "24", description = "Frame rate of the mp4 files.")
    int fps;

    @Option(names = "--encoder", description = "H.264 encoder. Default: libx264 if the FFmpeg build has it "
            + "(ffmpeg-platform-gpl), else libopenh264.")
    String encoder;

    @Option(names = "--contact-sheet", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Write {name}_sheet.png (16 frames in a grid) beside each video. Default: on.")
    boolean contactSheet;

    @Option(names = "--save-frames", description = "Also write every frame as PNG into {name}_frames/.")
    boolean saveFrames;

    @Option(names = "--grid", description = "With several videos, also write them tiled in one {name}_grid.mp4 "
            + "(the original's save_videos_grid).")
    boolean grid;

    @Option(names = "--original-names", description = "Name files as the original: 2026-12-02-13:40:43_seed42_A cat "
            + "walks.mp4 (colons and spaces: not valid on Windows, quoting needed in shells). Default: portable "
            + "names, 2026-12-02T13-40-43_seed42_A_cat_walks.mp4.")
    boolean originalNames;

    /** Exit code of a run stopped by Ctrl-C, as a shell reports a process ended by SIGINT (128 + 2). */
    static final int EXIT_INTERRUPTED = 130;

    /** The time in file names and of the stale temporary file cutoff; tests fix it. */
    Clock clock = Clock.systemDefaultZone();

    /** Cancels this run; the {@link InterruptHook} does on Ctrl-C, tests directly. */
    final CancellationToken cancel = new CancellationToken();

    @Option(names = "--demo", description = "Use a tiny model with random weights, generated into --demo-dir (no "
            + "download; the output is noise). Defaults become 128x192, 33 frames, 12 steps, fp32.")
    boolean demo;

    @Option(names = "--demo-dir", defaultValue = "${sys:java.io.tmpdir}/hunyuan-video-demo",
            description = "Folder of the --demo model.")
    Path demoDir;

    /**
     * Flags accepted for compatibility with the original that change nothing here, with the reason: the original
     * never reads them, or their only allowed value is what this program does anyway, or the value is read from the
     * checkpoint instead.
     */
    static final Map<String, String> NO_OP_FLAGS = noOpFlags();

    private static Map<String, String> noOpFlags() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String f : List.of("--use-linear-quadratic-schedule", "--linear-schedule-end", "--model-resolution",
                "--name-suffix", "--seed-type", "--reproduce")) {
            m.put(f, "the original parses it and never reads it");
        }
        for (String f : List.of("--latent-channels", "--rope-theta", "--text-states-dim", "--text-states-dim-2")) {
            m.put(f, "the value is read from the checkpoint's config");
        }
        for (String f : List.of("--vae", "--text-encoder", "--tokenizer", "--text-encoder-2", "--tokenizer-2",
                "--denoise-type", "--flow-solver")) {
            m.put(f, "its only allowed value is what this program always uses");
        }
        m.put("--disable-autocast", "the modules always compute with the original's mixed-precision policy");
        return Collections.unmodifiableMap(m);
    }

    /** Flags of {@link GenerationRequest}/{@link SamplerConfig} components whose names do not spell the flag. */
    private static final Map<String, String> FLAG_OF = Map.ofEntries(
            Map.entry("height", "--video-size"), Map.entry("width", "--video-size"),
            Map.entry("videoLength", "--video-length"), Map.entry("seeds", "--seed"),
            Map.entry("negativePrompt", "--neg-prompt"), Map.entry("negative", "--neg-prompt"),
            Map.entry("guidanceScale", "--cfg-scale"), Map.entry("numVideosPerPrompt", "--num-videos"),
            Map.entry("embeddedGuidanceScale", "--embedded-cfg-scale"), Map.entry("positive", "--prompt"),
            Map.entry("useFp8", "--use-fp8"), Map.entry("vae", "--vae"), Map.entry("model", "--model"),
            Map.entry("device", "--device"), Map.entry("ditWeight", "--dit-weight"),
            Map.entry("modelBase", "--model-base"), Map.entry("deviceMemoryBudget", "--max-gpu-memory"));

    /** Runs the program with {@code args}; returns the exit code. */
    public static void main(String[] args) {
        // tokenizers are read from local files only; never let DJL try the network
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Parses {@code args} and runs; paths go to {@code out}, progress and errors to {@code err}.
     *
     * @return 0 on success, 2 for bad input (one line on {@code err} naming the option), 1 for other failures,
     *         {@value #EXIT_INTERRUPTED} when the run was cancelled
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        return run(new HunyuanVideoCli(), args, out, err);
    }

    /** {@link #run(String[], PrintStream, PrintStream)} on {@code cli}, whose clock or token a test may have set. */
    static int run(HunyuanVideoCli cli, String[] args, PrintStream out, PrintStream err) {
        cli.stdout = out;
        cli.stderr = err;
        CommandLine cl = commandLine(cli);
        cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        return cl.execute(args);
    }

    /** The picocli command with the one-line error handlers. */
    static CommandLine commandLine(HunyuanVideoCli cli) {
        CommandLine cl = new CommandLine(cli);
        cl.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println(oneLine(NAME + ": " + ex.getMessage()) + " (see --help)");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter e = commandLine.getErr();
            if (ex instanceof IllegalArgumentException) {
                e.println(oneLine(NAME + ": " + cli.describe(ex.getMessage())));
                LOG.debug("bad input", ex);
                return 2;
            }
            if (ex instanceof MissingCheckpointException m) {
                e.println(oneLine(NAME + ": Invalid value for option '" + String.join("' / '", cli.flagsOf(m))
                        + "': " + m.getMessage()));
                return 2;
            }
            String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
            e.println(oneLine(NAME + ": error: " + msg));
            LOG.debug("failure", ex);
            return 1;
        });
        return cl;
    }

    PrintStream stdout = System.out;
    PrintStream stderr = System.err;

    @Override
    public Integer call() throws IOException, InterruptedException {
        checkChoices();
        ParallelOptions.Plan plan = parallel.plan(spec.commandLine());
        if (matched("--ulysses-degree") && ulyssesDegree != plan.worldSize()) {
            // the original's world size is ulysses × ring, with ring 1 here
            throw bad("--ulysses-degree", "is the number of ranks sharing the DiT: it must equal the world size "
                    + plan.worldSize() + " (--gpus, --world-size or WORLD_SIZE), got " + ulyssesDegree);
        }
        device = parallel.rankDevice(spec.commandLine(), plan, device,
                plan.worldSize() > 1 ? CudaMemory.deviceCount() : 0);
        warnNoOps();
        if (demo) {
            applyDemoDefaults();
        }
        SamplerConfig config = samplerConfig();
        // after the check of its value, so that a bad depth is one line
        if (matched("--prefetch-depth") && maxGpuMemory == null) {
            stderr.println(NAME + ": warning: --prefetch-depth has no effect without --max-gpu-memory (nothing is "
                    + "streamed)");
        }
        if (matched("--bf16-attention-steps") && attention == Attention.SDPA) {
            stderr.println(NAME + ": warning: --bf16-attention-steps has no effect without --attention int8 or "
                    + "int8-fp8 (every step runs SDPA)");
        }
        GenerationRequest request = request();
        if (maxGpuMemory != null) {
            // the budget's plan is made for this very request: no memory is set aside for a larger one
            config = config.toBuilder().largestRequest(new RequestSize(request.targetHeight(), request.targetWidth(),
                    request.videoLength(), request.numVideosPerPrompt()
                    * (request.doClassifierFreeGuidance() ? 2 : 1))).build();
        }
        Mp4Options mp4 = mp4Options();
        Path saveDir = plan.rank() == 0 ? saveDir() : null;  // the other ranks write nothing
        Path base = demo ? demoModel() : modelBase;
        // what the model folder alone reveals (missing files, text lengths its encoders cannot take) fails here,
        // as one line before any notice and any loading
        HunyuanVideoSampler.check(base, config);
        if (plan.worldSize() > 1) {
            checkRanks(plan, base, config, request);
        }
        if (demo) {
            stderr.println("demo: random-weight model in " + base + " (its output is noise; use --model-base for "
                    + "real weights)");
        }
        if (plan.worldSize() == 1) {
            return render(base, config, request, mp4, saveDir);
        }
        try (Launcher launcher = plan.launch() ? startWorkers(plan) : null) {
            int code;
            try (Communicator group = meetRanks(plan, launcher, config.device())) {
                code = render(base, config.toBuilder().communicator(group).build(), request, mp4, saveDir);
            }
            if (code == 0 && launcher != null && !launcher.awaitWorkers(parallel.timeout())) {
                throw new IllegalStateException("the worker ranks did not exit within " + parallel.collectiveTimeout
                        + " s of the end of the generation");
            }
            return code;
        }
    }

    /**
     * Loads the sampler and generates. Rank 0 (the only rank of a one-process run) reports progress on stderr and
     * writes the videos, printing their paths on stdout; the other ranks of a group compute their share silently and
     * write nothing ({@code saveDir} is null there).
     */
    private int render(Path base, SamplerConfig config, GenerationRequest request, Mp4Options mp4, Path saveDir)
            throws IOException {
        boolean writes = config.communicator().rank() == 0;
        // the hook is closed only after the line below is printed: it waits for that before the JVM exits
        try (InterruptHook hook = InterruptHook.install(cancel, saveDir, stderr)) {
            String stopped;
            // the videos go to their files chunk by chunk while the VAE decodes; result holds no videos
            try (HunyuanVideoSampler sampler = HunyuanVideoSampler.fromPretrained(base, config)) {
                if (!writes) {
                    // rank 0 alone gets the frames: this sink is never called
                    sampler.predict(request, ProgressListener.NONE, cancel, (frames, first) -> { }).close();
                    return 0;
                }
                try (VideoOutputs outputs = new VideoOutputs(saveDir, mp4, contactSheet, saveFrames, grid,
                        originalNames ? OutputNames.Style.ORIGINAL : OutputNames.Style.PORTABLE, clock, cancel);
                     SamplerResult result = sampler.predict(request,
                             new ProgressBar(stderr, System.console() != null), cancel, outputs)) {
                    if (outputs.finish(stdout::println)) {
                        return 0;
                    }
                    stopped = "saving stopped before the next video; the files printed are complete";
                }
            } catch (GenerationCancelledException e) {
                stopped = e.getMessage() + "; no video was saved";
            }
            stderr.println(NAME + ": interrupted (" + stopped + ")");
            return EXIT_INTERRUPTED;
        }
    }

    /**
     * What a group of ranks needs, checked before any worker starts and any model loads: the number of ranks must
     * divide the DiT's attention heads, and step caches run on one rank only.
     *
     * @throws ParameterException naming {@code --gpus} (or {@code --world-size}), or the step cache's option
     */
    private void checkRanks(ParallelOptions.Plan plan, Path base, SamplerConfig config, GenerationRequest request)
            throws IOException {
        String flag = plan.launch() ? "--gpus" : "--world-size";
        try {
            HunyuanVideoSampler.checkRanks(base, config, plan.worldSize());
        } catch (IllegalArgumentException e) {
            throw bad(flag, e.getMessage());
        }
        if (request.stepCache().kind() != StepCache.Kind.NONE) {
            throw bad(teaCache != null ? "--teacache" : "--fbcache", "cannot be used with " + flag + " "
                    + plan.worldSize() + ": a step cache decides on the whole image, which one rank of several "
                    + "does not see");
        }
    }

    /**
     * Forms the group of the ranks of {@code plan} on this rank's device, the workers of {@code launcher} (with
     * {@code --gpus}) meeting rank 0 at its rendezvous file. A rank that is missing or dies fails every rank within
     * {@code --collective-timeout}.
     */
    private Communicator meetRanks(ParallelOptions.Plan plan, Launcher launcher, String rankDevice) {
        Rendezvous rendezvous = launcher == null ? plan.rendezvous()
                : Rendezvous.file(launcher.rendezvousFile(), 0, plan.worldSize()).withTimeout(parallel.timeout());
        return rendezvous.connect(new Device(rankDevice));
    }

    /**
     * Starts ranks 1 to N-1 of {@code --gpus N} with this JVM's command line, and sets rank 0's own NVLink multicast
     * variables as the workers get them, before NCCL reads them.
     */
    private Launcher startWorkers(ParallelOptions.Plan plan) throws IOException {
        List<String> jvm = Launcher.thisJvm();
        List<String> args = spec.commandLine().getParseResult().originalArgs();
        Launcher launcher = Launcher.start(plan.worldSize(),
                (rank, file) -> ParallelOptions.workerCommand(jvm, args, rank, plan.worldSize(), file), stderr,
                why -> {
                    stderr.println(NAME + ": error: " + why + " (the other ranks were ended)");
                    System.exit(1);  // rank 0 may be blocked in a native wait for the rank that is gone
                });
        Launcher.NO_MULTICAST.forEach((name, value) -> torch.set_env(name, value, true));
        return launcher;
    }

    /** The {@code --demo} model folder, made if needed; a folder that is not a demo model is refused, never touched. */
    private Path demoModel() throws IOException {
        try {
            return DemoCheckpoint.ensure(demoDir);
        } catch (IllegalArgumentException e) {
            throw bad("--demo-dir", e.getMessage());
        }
    }

    private void warnNoOps() {
        NO_OP_FLAGS.forEach((flag, why) -> {
            if (matched(flag)) {
                stderr.println(NAME + ": warning: " + flag + " has no effect here (" + why + ")");
            }
        });
    }

    private boolean matched(String flag) {
        return spec.commandLine().getParseResult().hasMatchedOption(flag);
    }

    private void checkChoices() {
        choice("--model", model, List.copyOf(SamplerConfig.MODELS));
        choice("--vae", vae, List.of("884-16c-hy"));
        choice("--text-encoder", textEncoder, List.of("llm", "clipL"));
        choice("--tokenizer", tokenizer, List.of("llm", "clipL"));
        choice("--text-encoder-2", textEncoder2, List.of("llm", "clipL"));
        choice("--tokenizer-2", tokenizer2, List.of("llm", "clipL"));
        choice("--prompt-template", promptTemplate, List.copyOf(SamplerConfig.TEMPLATES));
        choice("--prompt-template-video", promptTemplateVideo, List.copyOf(SamplerConfig.TEMPLATES));
        choice("--model-resolution", modelResolution, List.of("540p", "720p"));
        choice("--seed-type", seedType, List.of("file", "random", "fixed", "auto"));
        choice("--denoise-type", denoiseType, List.of("flow"));
        choice("--flow-solver", flowSolver, List.of("euler"));
        if (!textEncoder.equals("llm")) {
            throw bad("--text-encoder", "only llm is supported as the first text encoder, got '" + textEncoder + "'");
        }
        if (!textEncoder2.equals("clipL")) {
            throw bad("--text-encoder-2", "only clipL is supported as the second text encoder, got '" + textEncoder2
                    + "'");
        }
        if (!tokenizer.equals(textEncoder)) {
            throw bad("--tokenizer", "'" + tokenizer + "' must match --text-encoder '" + textEncoder
                    + "' (the tokenizer is read from the encoder's folder)");
        }
        if (!tokenizer2.equals(textEncoder2)) {
            throw bad("--tokenizer-2", "'" + tokenizer2 + "' must match --text-encoder-2 '" + textEncoder2 + "'");
        }
        if (ulyssesDegree < 1) {
            throw bad("--ulysses-degree", "must be >= 1, got " + ulyssesDegree);
        }
        if (ringDegree != 1) {
            throw bad("--ring-degree", "only 1 is supported (no ring attention: the ranks share the DiT by Ulysses "
                    + "sequence parallelism alone, --ulysses-degree = the number of ranks), got " + ringDegree);
        }
        if (videoSize.length == 0 || videoSize.length > 2) {
            throw bad("--video-size", "expects HEIGHT [WIDTH], got " + videoSize.length + " values");
        }
        if (linearScheduleEnd < 0) {
            throw bad("--linear-schedule-end", "must be >= 0, got " + linearScheduleEnd);
        }
        if (demo && demoDir.toString().isBlank()) {
            throw bad("--demo-dir", "must name a folder, got an empty path");
        }
        if (demo && matched("--model-base")) {
            throw bad("--model-base", "cannot be combined with --demo (the demo makes its own model)");
        }
    }

    private void choice(String flag, String value, List<String> allowed) {
        if (!allowed.contains(value)) {
            throw bad(flag, "'" + value + "' is not one of " + allowed);
        }
    }

    /** Small, fast settings for the random-weight demo model, for every option the user did not give. */
    void applyDemoDefaults() {
        if (!matched("--video-size")) {
            videoSize = DEMO_SIZE.clone();
        }
        if (!matched("--video-length")) {
            videoLength = DEMO_LENGTH;
        }
        if (!matched("--infer-steps")) {
            inferSteps = DEMO_STEPS;
        }
        if (!matched("--precision")) {
            precision = Precision.FP32;
        }
        if (!matched("--vae-precision")) {
            vaePrecision = Precision.FP32;
        }
        if (!matched("--text-encoder-precision")) {
            textEncoderPrecision = Precision.FP32;
        }
        if (!matched("--text-encoder-precision-2")) {
            textEncoderPrecision2 = Precision.FP32;
        }
        if (prompt == null) {
            prompt = DEMO_PROMPT;
        }
    }

    /**
     * The load-time configuration of the parsed options.
     *
     * @throws ParameterException naming the option of the first invalid value
     */
    SamplerConfig samplerConfig() {
        try {
            SamplerConfig.Builder b = SamplerConfig.builder().model(model).precision(precision)
                    .vaePrecision(vaePrecision)
                    .vaeTiling(vaeTiling).textEncoderPrecision(textEncoderPrecision).textLen(textLen)
                    .promptTemplate(promptTemplate).promptTemplateVideo(promptTemplateVideo)
                    .hiddenStateSkipLayer(hiddenStateSkipLayer).applyFinalNorm(applyFinalNorm)
                    .textEncoderPrecision2(textEncoderPrecision2).textLen2(textLen2).flowReverse(flowReverse)
                    .ditWeight(ditWeight).loadKey(loadKey).useCpuOffload(useCpuOffload)
                    .textEncodersOnCpu(textEncodersOnCpu).useFp8(useFp8).device(device).loraIgnoreUnmatched(loraIgnoreUnmatched)
                    .deviceMemoryBudget(maxGpuMemory == null ? 0 : maxGpuMemory).prefetchDepth(prefetchDepth)
                    .attention(attention).bf16AttentionSteps(bf16AttentionSteps);
            loras.forEach(l -> b.lora(l.path(), l.scale()));
            return b.build();
        } catch (IllegalArgumentException e) {
            throw parameterError(e.getMessage());
        }
    }

    /**
     * The generation arguments of the parsed options.
     *
     * @throws ParameterException naming the option of the first invalid value (a missing {@code --prompt} too)
     */
    GenerationRequest request() {
        if (prompt == null) {
            throw new ParameterException(spec.commandLine(), "Missing required option: '--prompt=<prompt>'");
        }
        int height = videoSize[0];
        int width = videoSize.length > 1 ? videoSize[1] : videoSize[0];
        try {
            return GenerationRequest.builder(prompt).size(height, width).videoLength(videoLength)
                    .inferSteps(inferSteps).flowShift(flowShift).guidanceScale(cfgScale)
                    .embeddedGuidanceScale(embeddedCfgScale).seed(seed).negativePrompt(negPrompt)
                    .numVideosPerPrompt(numVideos).batchSize(batchSize).stepCache(stepCache()).build();
        } catch (IllegalArgumentException e) {
            throw parameterError(e.getMessage());
        }
    }

    /**
     * The step cache of {@code --teacache} or {@code --fbcache} (at most one of them), else none.
     *
     * @throws ParameterException naming the option if both are given or the threshold is not finite and ≥ 0
     */
    StepCache stepCache() {
        if (teaCache != null && fbCache != null) {
            throw bad("--teacache", "cannot be combined with --fbcache (one step cache at a time)");
        }
        String flag = teaCache != null ? "--teacache" : "--fbcache";
        try {
            return teaCache != null ? StepCache.teaCache(teaCache)
                    : fbCache != null ? StepCache.firstBlock(fbCache) : StepCache.none();
        } catch (IllegalArgumentException e) {
            throw bad(flag, e.getMessage().replaceFirst("^threshold: ", ""));
        }
    }

    /** The mp4 settings; the encoder is looked up now, before any model is loaded. */
    Mp4Options mp4Options() {
        Mp4Options options;
        try {
            options = new Mp4Options(fps, encoder);
        } catch (IllegalArgumentException e) {
            throw bad(encoder != null && encoder.isBlank() ? "--encoder" : "--fps", e.getMessage());
        }
        try {
            Mp4Writer.selectEncoder(encoder);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw bad("--encoder", e.getMessage());
        }
        return options;
    }

    /**
     * {@code --save-path}, with {@code _suffix} when {@code --save-path-suffix} is set: created now and checked
     * writable with a probe file, so that a folder that cannot take the videos fails before any model loads. The
     * temporary files that killed runs left there more than a day ago are removed ({@link OutputFolder#removeStale}).
     */
    Path saveDir() {
        String flag = savePathSuffix.isEmpty() ? "--save-path" : "--save-path-suffix";
        Path dir;
        try {
            dir = Path.of(savePathSuffix.isEmpty() ? savePath : savePath + "_" + savePathSuffix);
            OutputFolder.prepare(dir);
        } catch (IOException e) {
            throw bad(flag, e.getMessage());
        } catch (InvalidPathException e) {
            throw bad(flag, "not a valid path: " + e.getMessage());
        }
        OutputFolder.removeStale(dir, clock.instant());
        return dir;
    }

    /** {@code --dit-weight} if a problem is about the given DiT file, {@code --model-base} for any other. */
    List<String> flagsOf(MissingCheckpointException m) {
        List<String> flags = new ArrayList<>();
        for (String problem : m.problems()) {
            String flag = ditWeight != null && problem.startsWith(ditWeight.toString()) ? "--dit-weight"
                    : "--model-base";
            if (!flags.contains(flag)) {
                flags.add(flag);
            }
        }
        if (flags.isEmpty()) {
            flags.add("--model-base");
        }
        return flags;
    }

    /** Rewrites a {@code component: reason} message of the core API as a message naming the option. */
    String describe(String message) {
        if (message != null) {
            int colon = message.indexOf(':');
            if (colon > 0) {
                String head = message.substring(0, colon);
                List<String> flags = new ArrayList<>();
                for (String component : head.split("/")) {
                    String flag = flagFor(component.strip());
                    if (flag == null) {
                        flags.clear();
                        break;
                    }
                    if (!flags.contains(flag)) {
                        flags.add(flag);
                    }
                }
                if (!flags.isEmpty()) {
                    return "Invalid value for option '" + String.join("' / '", flags) + "':"
                            + message.substring(colon + 1);
                }
            }
        }
        return "error: " + message;
    }

    private ParameterException parameterError(String message) {
        return new ParameterException(spec.commandLine(), describe(message));
    }

    private ParameterException bad(String flag, String why) {
        return new ParameterException(spec.commandLine(), "Invalid value for option '" + flag + "': " + why);
    }

    /** The option for a core API component name ({@code inferSteps} → {@code --infer-steps}), if there is one. */
    String flagFor(String component) {
        if (!component.matches("[a-z][A-Za-z0-9]*")) {
            return null;
        }
        String flag = FLAG_OF.getOrDefault(component, "--" + component
                .replaceAll("([a-z0-9])([A-Z])", "$1-$2")
                .replaceAll("([a-z])([0-9]+)$", "$1-$2")
                .toLowerCase(Locale.ROOT));
        return spec.findOption(flag) != null ? flag : null;
    }

    static String oneLine(String s) {
        return s.replaceAll("\\s*[\\r\\n]+\\s*", "; ").strip();
    }

    /** Parses {@code --max-gpu-memory} with {@link MemorySize#parse}; picocli puts the option name in front. */
    static final class MemorySizeConverter implements CommandLine.ITypeConverter<Long> {
        private static final String OPTION = "--max-gpu-memory";

        @Override
        public Long convert(String value) {
            try {
                return MemorySize.parse(OPTION, value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage().substring(OPTION.length() + 2));
            }
        }
    }

    /** Parses {@code --attention} with {@link Attention#parse} (sdpa, int8 or int8-fp8, case-insensitive). */
    static final class AttentionConverter implements CommandLine.ITypeConverter<Attention> {
        @Override
        public Attention convert(String value) {
            try {
                return Attention.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("expected one of "
                        + String.join(", ", Attention.optionNames()) + " but was '" + value + "'");
            }
        }
    }

    /** Parses fp32/fp16/bf16 (case-insensitive). */
    static final class PrecisionConverter implements CommandLine.ITypeConverter<Precision> {
        @Override
        public Precision convert(String value) {
            try {
                return Precision.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("expected one of fp32, fp16, bf16 but was '" + value
                        + "'");
            }
        }
    }
}
