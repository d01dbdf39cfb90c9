package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * First-Block Cache on the tiny DiT over the {@code teacache_tiny} schedule: a threshold of 0 changes nothing, a
 * threshold above every distance runs the remaining blocks only at the first step, and a three-step case recomputed
 * by hand from the uncached model's intermediates (block 0's residuals, the remaining blocks' residual, the final
 * layer) checks the distances, the reference residual {@code r*} and what a skipped step returns.
 */
class FirstBlockCacheTest {
    private static TinyDenoiser tiny;
    private static PointerScope scope;
    /** The uncached velocities of the case's steps. */
    private static List<Tensor> plain;

    @BeforeAll
    static void load() {
        tiny = new TinyDenoiser();
        scope = new PointerScope();
        plain = tiny.velocities(tiny.steps(), 1, null, null);
    }

    @AfterAll
    static void close() {
        scope.close();
        tiny.close();
    }

    @Test
    void thresholdZeroGivesExactlyTheUncachedResult() {
        int n = tiny.steps();
        try (PointerScope scope = new PointerScope(); StepCacheState cache = StepCache.firstBlock(0).start(n)) {
            List<Tensor> cached = tiny.velocities(n, 1, null, cache);
            for (int i = 0; i < n; i++) {
                assertTrue(torch.equal(plain.get(i), cached.get(i)), "step " + i);
            }
            assertEquals(Collections.nCopies(n, true), computed(cache));
        }
    }

    @Test
    void aThresholdAboveEveryDistanceRunsTheRemainingBlocksOnlyOnTheFirstStep() {
        int n = tiny.steps();
        try (PointerScope scope = new PointerScope();
             StepCacheState cache = StepCache.firstBlock(Double.MAX_VALUE).start(n)) {
            List<List<String>> ran = new ArrayList<>();
            DitProbe blocks = (name, value) -> {
                if (name.equals("img_in")) {
                    ran.add(new ArrayList<>());
                } else if (name.endsWith(".img") || name.startsWith("single_blocks.")) {
                    ran.get(ran.size() - 1).add(name);
                }
            };
            List<Tensor> cached = tiny.velocities(n, 1, blocks, cache);
            List<Boolean> expected = new ArrayList<>(Collections.nCopies(n, false));
            expected.set(0, true);
            assertEquals(expected, computed(cache));
            List<String> all = new ArrayList<>();
            for (int i = 0; i < tiny.cfg.doubleBlocks(); i++) {
                all.add("double_blocks." + i + ".img");
            }
            for (int i = 0; i < tiny.cfg.singleBlocks(); i++) {
                all.add("single_blocks." + i);
            }
            assertEquals(all, ran.get(0));
            for (int i = 1; i < n; i++) {
                assertEquals(List.of("double_blocks.0.img"), ran.get(i), "step " + i);
                double d = cache.decisions().get(i).distance();
                assertTrue(Double.isFinite(d) && d > 0, "step " + i + " distance " + d);
            }
            assertTrue(Double.isNaN(cache.decisions().get(0).distance()));
            assertTrue(torch.equal(plain.get(0), cached.get(0)));
        }
    }

    /**
     * Step 2 skips (threshold above its distance to step 1's block-0 residual) and returns the final layer of
     * block 0's image tokens plus step 1's remaining-blocks residual; step 3 is compared with step 1's residual
     * (a skipped step does not replace {@code r*}), with a threshold chosen from the hand-computed distances so that
     * step 3 computes where its distance exceeds step 2's, and skips otherwise.
     */
    @Test
    void threeStepsRecomputedByHand() {
        try (PointerScope scope = new PointerScope(); FinalLayer finalLayer = tiny.finalLayer()) {
            Tensor x0 = tiny.inputs.tensor("in.latents");
            Uncached s1 = uncached(0, x0);
            Tensor x1 = tiny.euler(0, x0, s1.velocity);
            Uncached s2 = uncached(1, x1);
            double d2 = relativeL1(s2.firstResidual(), s1.firstResidual());
            Tensor v2 = skippedVelocity(finalLayer, s2, s1.remainingResidual());
            Tensor x2 = tiny.euler(1, x1, v2);
            Uncached s3 = uncached(2, x2);
            double d3 = relativeL1(s3.firstResidual(), s1.firstResidual());
            assertTrue(torch.equal(plain.get(0), s1.velocity));
            assertTrue(Math.abs(d3 - relativeL1(s3.firstResidual(), s2.firstResidual())) > 1e-6 * d3,
                    "step 3's residual must tell r1 from r2 apart");
            boolean step3Computes = d3 > d2;
            double threshold = step3Computes ? (d2 + d3) / 2 : 1.5 * d2;
            Tensor v3 = step3Computes ? s3.velocity : skippedVelocity(finalLayer, s3, s1.remainingResidual());

            try (StepCacheState cache = StepCache.firstBlock(threshold).start(3)) {
                List<Tensor> v = tiny.velocities(3, 1, null, cache);
                List<StepCacheState.Step> log = cache.decisions();
                assertEquals(List.of(true, false, step3Computes), computed(cache));
                assertTrue(torch.equal(s1.velocity, v.get(0)), "a computed first step is the uncached forward");
                assertEquals(d2, log.get(1).distance(), 1e-6 * d2);
                assertEquals(d3, log.get(2).distance(), 1e-6 * d3);
                assertEquals(0, Tensors.relativeError(v.get(1), v2), 1e-6);
                assertEquals(0, Tensors.relativeError(v.get(2), v3), 1e-6);
                assertTrue(cache.skipped(1) && !cache.skipped(0) && cache.skipped(2) != step3Computes);
                assertTrue(Double.isNaN(log.get(0).accumulated()));
            }
        }
    }

    /**
     * The decision is taken on the whole batch: two copies of the sample measure what one does. TeaCache at the
     * case's first threshold over the case's steps (it skips some there); First-Block Cache above every distance
     * over three steps, each measured against the first one.
     */
    @Test
    void aBatchOfTwoCopiesDecidesLikeOneSample() {
        double teaCacheThreshold = tiny.inputs.config().get("thresholds").get(0).asDouble();
        for (StepCache setting : List.of(StepCache.teaCache(teaCacheThreshold),
                StepCache.firstBlock(Double.MAX_VALUE))) {
            boolean teaCache = setting.kind() == StepCache.Kind.TEA_CACHE;
            int n = teaCache ? tiny.steps() : 3;
            // TeaCache measures nothing at the last step
            int measured = teaCache ? n - 1 : n;
            try (PointerScope scope = new PointerScope(); StepCacheState one = setting.start(n);
                 StepCacheState two = setting.start(n)) {
                tiny.velocities(n, 1, null, one);
                tiny.velocities(n, 2, null, two);
                assertEquals(computed(one), computed(two), setting.toString());
                assertTrue(computed(one).contains(false), setting + " skips a step of the case");
                for (int i = 1; i < measured; i++) {
                    double d = one.decisions().get(i).distance();
                    assertEquals(d, two.decisions().get(i).distance(), 1e-5 * d, setting + " step " + i);
                }
            }
        }
    }

    /** The uncached forward of step {@code i} at {@code x} with the intermediates the hand check needs (copies). */
    private static Uncached uncached(int i, Tensor x) {
        Map<String, Tensor> seen = new HashMap<>();
        String lastSingle = "single_blocks." + (tiny.cfg.singleBlocks() - 1);
        DitProbe probe = (name, value) -> {
            if (List.of("img_in", "double_blocks.0.img", lastSingle, "vec").contains(name)) {
                seen.put(name, Scopes.retained(value.clone()));
            }
        };
        Tensor v = tiny.model.forward(tiny.inputs(i, x), probe);
        seen.values().forEach(Scopes::handOut);
        Tensor imgIn = seen.get("img_in");
        return new Uncached(v, imgIn, seen.get("double_blocks.0.img"),
                seen.get(lastSingle).narrow(1, 0, imgIn.size(1)), seen.get("vec"));
    }

    /**
     * @param afterFirst image tokens after double block 0
     * @param afterAll   image tokens after the last single block
     */
    private record Uncached(Tensor velocity, Tensor imgIn, Tensor afterFirst, Tensor afterAll, Tensor vec) {
        Tensor firstResidual() {
            return afterFirst.sub(imgIn);
        }

        Tensor remainingResidual() {
            return afterAll.sub(afterFirst);
        }
    }

    /** What a skipped step returns: the final layer of block 0's image tokens plus the stored residual. */
    private static Tensor skippedVelocity(FinalLayer finalLayer, Uncached step, Tensor residual) {
        long[] grid = new long[3];
        long[] patch = new long[3];
        long[] shape = Tensors.shape(tiny.inputs.tensor("in.latents"));
        for (int i = 0; i < 3; i++) {
            patch[i] = tiny.cfg.patchSize().get(i);
            grid[i] = shape[2 + i] / patch[i];
        }
        Tensor tokens = finalLayer.forward(step.afterFirst.add(residual), torch.silu(step.vec));
        return Unpatchify.apply(tokens, grid, patch);
    }

    private static double relativeL1(Tensor a, Tensor b) {
        return a.sub(b).abs().mean().item_double() / b.abs().mean().item_double();
    }

    private static List<Boolean> computed(StepCacheState cache) {
        return cache.decisions().stream().map(StepCacheState.Step::computed).toList();
    }
}
