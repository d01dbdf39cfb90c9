package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.DitInputs;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.dit.StepCache;
import io.github.hunyuanvideo.dit.StepCacheState;
import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.StageTimer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.DoubleFunction;

/**
 * What step caching costs and saves per step: the full-size DiT with seeded random weights, at each latent shape the
 * time of a step without a cache, of a computed step with each cache on (the decision plus keeping the residual), of
 * a skipped step, and of the decision alone, with the peak device memory and the tensors the cache keeps between
 * steps ({@link StepCache#storedBytes}). Prints a markdown table.
 *
 * <p>The thresholds of a real run only decide which steps skip, not what a step costs, so the benchmark forces
 * both: a threshold no distance stays under (every step computes) and one every distance stays under (every step
 * after the first skips). Each timed step gets its own timestep, so the distances are never 0. Times are wall times
 * of CUDA-synchronised steps (median of the timed runs); the decision is the device time of the cache's stages in
 * one skipped step under a {@link StageTimer}: for TeaCache double block 0's modulated input and its distance, for
 * First-Block Cache double block 0 itself and its residual's distance.
 *
 * <p>Arguments (all optional): {@code --device cuda|cuda:N|cpu} (default cuda), {@code --dtype bf16|fp16|fp32}
 * (default bf16), {@code --config HYVideo-T/2-cfgdistill|HYVideo-T/2|tiny} (default HYVideo-T/2-cfgdistill),
 * {@code --latents BxCxTxHxW,...} (default {@code 1x16x33x90x160}: 720×1280×129), {@code --text-len N} (default
 * 256), {@code --text-valid N} (default 40), {@code --caches teacache,fbcache} (default both), {@code --runs N}
 * timed steps per measurement (default 2). CPU smoke test:
 * {@code StepCacheBench --device cpu --dtype fp32 --config tiny --latents 1x16x5x16x16 --runs 1}.
 */
public final class StepCacheBench {
    /** The stages of a skipped step that are no part of the decision (the probe's and the program's laps). */
    private static final Set<String> NOT_THE_DECISION = Set.of("embeddings + token refiner",
            "step cache: stored residual added", "final layer", "unpatchify");

    private StepCacheBench() {
    }

    public static void main(String[] args) {
        BenchOptions o = BenchOptions.parse(args, "--device", "--dtype", "--config", "--latents", "--text-len",
                "--text-valid", "--caches", "--runs");
        Device device = new Device(o.get("--device", "cuda"));
        if (device.is_cuda() && !CudaMemory.available()) {
            throw new IllegalArgumentException("--device " + o.get("--device", "cuda") + ": CUDA is not available");
        }
        Precision precision = Precision.parse(o.get("--dtype", "bf16"));
        String configName = o.get("--config", DitConfig.CFG_DISTILL_NAME);
        DitConfig cfg = configName.equals("tiny") ? DitBench.tinyConfig() : DitConfig.byName(configName);
        List<long[]> shapes = Arrays.stream(o.get("--latents", "1x16x33x90x160").split(",")).map(DitBench::shape)
                .toList();
        for (long[] s : shapes) {
            if (s.length != 5 || s[1] != cfg.inChannels()) {
                throw new IllegalArgumentException("--latents entry " + Arrays.toString(s) + " must be Bx"
                        + cfg.inChannels() + "xTxHxW");
            }
        }
        int textLen = (int) o.getLong("--text-len", 256);
        int textValid = (int) o.getLong("--text-valid", 40);
        if (textValid < 1 || textValid > textLen) {
            throw new IllegalArgumentException("--text-valid " + textValid + " must be within 1 … --text-len "
                    + textLen);
        }
        int runs = (int) o.getLong("--runs", 2);
        if (runs < 1) {
            throw new IllegalArgumentException("--runs must be >= 1, got " + runs);
        }
        List<DoubleFunction<StepCache>> caches = new ArrayList<>();
        for (String name : o.get("--caches", "teacache,fbcache").split(",")) {
            caches.add(switch (name.strip()) {
                case "teacache" -> StepCache::teaCache;
                case "fbcache" -> StepCache::firstBlock;
                default -> throw new IllegalArgumentException("--caches: '" + name + "' is neither teacache nor "
                        + "fbcache");
            });
        }
        ScalarType dtype = precision.scalarType();
        try (HunyuanVideoTransformer dit = HunyuanVideoTransformer.randomInit(cfg, device, dtype, 0)) {
            System.out.printf(Locale.ROOT, "%nStep caching, DiT %s with random %s weights on %s, %d timed steps per "
                    + "measurement%n", configName, precision, device.str().getString(), runs);
            List<String> rows = new ArrayList<>();
            for (long[] shape : shapes) {
                try (PointerScope scope = new PointerScope()) {
                    DitInputs in = DitBench.randomInputs(cfg, shape, textLen, textValid, device, dtype);
                    Measured full = steps(dit, in, null, runs + 1);
                    String latent = Arrays.toString(shape);
                    rows.add(String.format(Locale.ROOT, "| none | %s | %.3f s | – | – | – | %.1f GiB | 0 GiB |",
                            latent, full.median(1), CudaMemory.gib(full.peak)));
                    for (DoubleFunction<StepCache> cache : caches) {
                        rows.add(row(dit, in, cache, runs, latent, cfg, shape, dtype));
                    }
                }
            }
            System.out.println();
            System.out.println("| cache | latent | full step | computed step | skipped step | decision | peak GPU "
                    + "memory (computed) | kept between steps |");
            System.out.println("|---|---|---|---|---|---|---|---|");
            rows.forEach(System.out::println);
        }
    }

    /** The row of one cache: computed and skipped steps, the decision, memory. */
    private static String row(HunyuanVideoTransformer dit, DitInputs in, DoubleFunction<StepCache> cache, int runs,
                              String latent, DitConfig cfg, long[] shape, ScalarType dtype) {
        StepCache computing = cache.apply(Double.MIN_VALUE);
        StepCache skipping = cache.apply(Double.MAX_VALUE);
        // one step more than timed: TeaCache always computes the last step
        Measured computed;
        try (StepCacheState state = computing.start(runs + 2)) {
            computed = steps(dit, in, state, runs + 1);
            require(state, true);
        }
        Measured skipped;
        double decisionMs;
        try (StepCacheState state = skipping.start(runs + 3)) {
            skipped = steps(dit, in, state, runs + 1);
            decisionMs = decision(dit, step(in, runs + 1), state);
            require(state, false);
        }
        return String.format(Locale.ROOT, "| %s | %s | – | %.3f s | %.3f s | %.1f ms | %.1f GiB | %.2f GiB |",
                skipping.kind() == StepCache.Kind.TEA_CACHE ? "TeaCache" : "First-Block Cache", latent, computed.median(1), skipped.median(1), decisionMs,
                CudaMemory.gib(computed.peak), CudaMemory.gib(skipping.storedBytes(cfg, shape, dtype)));
    }

    /** Every step after the first computed (or skipped) as the forced threshold says. */
    private static void require(StepCacheState state, boolean computed) {
        List<StepCacheState.Step> log = state.decisions();
        for (int i = 1; i < log.size(); i++) {
            if (log.get(i).computed() != computed) {
                throw new IllegalStateException(state.cache() + " step " + i + " did not " + (computed ? "compute"
                        : "skip") + ": " + log.get(i));
            }
        }
    }

    /** Seconds of each of {@code count} synchronised steps (step 0 is the warm-up) and their peak memory. */
    private record Measured(double[] seconds, long peak) {
        /** Median of the steps from {@code from} on. */
        double median(int from) {
            double[] timed = Arrays.copyOfRange(seconds, from, seconds.length);
            Arrays.sort(timed);
            return timed[timed.length / 2];
        }
    }

    private static Measured steps(HunyuanVideoTransformer dit, DitInputs in, StepCacheState state, int count) {
        double[] seconds = new double[count];
        CudaMemory.synchronize();
        CudaMemory.resetPeak();
        for (int i = 0; i < count; i++) {
            try (PointerScope scope = new PointerScope()) {
                DitInputs stepIn = step(in, i);
                long t0 = System.nanoTime();
                dit.forward(stepIn, state);
                CudaMemory.synchronize();
                seconds[i] = (System.nanoTime() - t0) / 1e9;
            }
        }
        return new Measured(seconds, CudaMemory.peakAllocatedBytes());
    }

    /** {@code in} at step {@code i}: its own timestep, so that consecutive steps differ. */
    private static DitInputs step(DitInputs in, int i) {
        return new DitInputs(in.latents(), in.timesteps().sub(new Scalar(10.0 * i)), in.textStates(), in.textMask(),
                in.pooledText(), in.guidance());
    }

    /** Milliseconds of the decision in one (skipped) step, from its stage laps. */
    private static double decision(HunyuanVideoTransformer dit, DitInputs in, StepCacheState state) {
        Map<String, Double> stages;
        try (PointerScope scope = new PointerScope(); StageTimer timer = StageTimer.start(in.latents().is_cuda())) {
            dit.forward(in, (name, value) -> {
                if (name.equals("final_layer")) {
                    StageTimer.lap("final layer");
                } else if (!name.startsWith("double_blocks.") && !name.startsWith("single_blocks.")) {
                    StageTimer.lap("embeddings + token refiner");
                }
            }, state);
            StageTimer.lap("unpatchify");
            stages = timer.totals();
        }
        return stages.entrySet().stream().filter(e -> !NOT_THE_DECISION.contains(e.getKey()))
                .mapToDouble(Map.Entry::getValue).sum();
    }
}
