package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.DitInputs;
import io.github.hunyuanvideo.dit.StepCache;
import io.github.hunyuanvideo.dit.StepCacheState;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.sampler.scheduler.FlowMatchDiscreteScheduler;
import io.github.hunyuanvideo.vae.TilingConfig;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Every invalid option or argument fails early with a message that starts with its name. */
class ArgumentValidationTest {

    static Stream<Arguments> badRequests() {
        return Stream.of(
                bad("prompt", b -> b.prompt(null)),
                bad("height", b -> b.height(0)),
                bad("height", b -> b.height(-16)),
                bad("width", b -> b.width(0)),
                bad("videoLength", b -> b.videoLength(0)),
                bad("videoLength", b -> b.videoLength(128)),
                bad("videoLength", b -> b.videoLength(130)),
                bad("inferSteps", b -> b.inferSteps(0)),
                bad("guidanceScale", b -> b.guidanceScale(Double.NaN)),
                bad("numVideosPerPrompt", b -> b.numVideosPerPrompt(0)),
                bad("flowShift", b -> b.flowShift(0)),
                bad("flowShift", b -> b.flowShift(Double.POSITIVE_INFINITY)),
                bad("batchSize", b -> b.batchSize(2)),
                bad("embeddedGuidanceScale", b -> b.embeddedGuidanceScale(Double.NaN)),
                bad("seeds", b -> b.seed(1L).seeds(List.of(1L))),
                bad("seeds", b -> b.numVideosPerPrompt(3).seeds(List.of(1L, 2L))));
    }

    /** Sizes and scales beyond their documented limits: the error names the argument and the limit. */
    static Stream<Arguments> outOfRangeRequests() {
        String side = String.valueOf(GenerationRequest.MAX_SIDE);
        String steps = String.valueOf(GenerationRequest.MAX_INFER_STEPS);
        String cfg = String.valueOf(GenerationRequest.MAX_GUIDANCE_SCALE);
        String embedded = String.valueOf(GenerationRequest.MAX_EMBEDDED_GUIDANCE_SCALE);
        String minShift = String.valueOf(GenerationRequest.MIN_FLOW_SHIFT);
        String maxShift = String.valueOf(GenerationRequest.MAX_FLOW_SHIFT);
        return Stream.of(
                limit("height", side, b -> b.height(GenerationRequest.MAX_SIDE + 1)),
                limit("height", side, b -> b.height(Integer.MAX_VALUE)),
                limit("width", side, b -> b.width(1 << 20)),
                limit("videoLength", String.valueOf(GenerationRequest.MAX_VIDEO_LENGTH),
                        b -> b.videoLength(GenerationRequest.MAX_VIDEO_LENGTH + 4)),
                limit("videoLength", String.valueOf(GenerationRequest.MAX_VIDEO_LENGTH),
                        b -> b.videoLength(Integer.MAX_VALUE)),
                limit("height/width/videoLength", String.valueOf(GenerationRequest.MAX_VIDEO_PIXELS),
                        b -> b.size(4096, 4096).videoLength(129)),
                limit("height/width/videoLength", String.valueOf(GenerationRequest.MAX_VIDEO_PIXELS),
                        b -> b.size(2048, 4096).videoLength(GenerationRequest.MAX_VIDEO_LENGTH)),
                limit("inferSteps", steps, b -> b.inferSteps(GenerationRequest.MAX_INFER_STEPS + 1)),
                limit("inferSteps", steps, b -> b.inferSteps(Integer.MAX_VALUE)),
                limit("guidanceScale", cfg, b -> b.guidanceScale(1e308)),
                limit("guidanceScale", cfg, b -> b.guidanceScale(-1e308)),
                limit("guidanceScale", cfg, b -> b.guidanceScale(Math.nextUp(GenerationRequest.MAX_GUIDANCE_SCALE))),
                limit("guidanceScale", cfg, b -> b.guidanceScale(Double.NEGATIVE_INFINITY)),
                limit("embeddedGuidanceScale", embedded, b -> b.embeddedGuidanceScale(1e308)),
                limit("embeddedGuidanceScale", embedded, b -> b.embeddedGuidanceScale(-61)),
                // 65.6·1000 would round past fp16's 65504
                limit("embeddedGuidanceScale", embedded, b -> b.embeddedGuidanceScale(65.6)),
                limit("embeddedGuidanceScale", embedded, b -> b.embeddedGuidanceScale(Double.POSITIVE_INFINITY)),
                limit("flowShift", minShift, b -> b.flowShift(1e-300)),
                limit("flowShift", minShift, b -> b.flowShift(Math.nextDown(GenerationRequest.MIN_FLOW_SHIFT))),
                limit("flowShift", maxShift, b -> b.flowShift(1e308)),
                limit("flowShift", maxShift, b -> b.flowShift(Math.nextUp(GenerationRequest.MAX_FLOW_SHIFT))),
                limit("flowShift", minShift, b -> b.flowShift(-7)),
                limit("flowShift", minShift, b -> b.flowShift(Double.NaN)),
                limit("numVideosPerPrompt", String.valueOf(GenerationRequest.MAX_VIDEOS_PER_PROMPT),
                        b -> b.numVideosPerPrompt(GenerationRequest.MAX_VIDEOS_PER_PROMPT + 1)),
                limit("numVideosPerPrompt", String.valueOf(GenerationRequest.MAX_VIDEOS_PER_PROMPT),
                        b -> b.numVideosPerPrompt(Integer.MAX_VALUE)));
    }

    /** A case of {@link #outOfRangeRequests}: argument name, the limit the message must state, the change. */
    private static Arguments limit(String name, String limit, UnaryOperator<GenerationRequest.Builder> change) {
        return Arguments.of(name, limit, change);
    }

    @ParameterizedTest(name = "{0} beyond {1}")
    @MethodSource("outOfRangeRequests")
    void outOfRangeErrorsNameTheArgumentAndTheLimit(String name, String limit,
                                                    UnaryOperator<GenerationRequest.Builder> change) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> change.apply(GenerationRequest.builder("a cat")).build());
        assertTrue(e.getMessage().startsWith(name + ":"), e.getMessage());
        assertTrue(e.getMessage().contains(limit), "limit " + limit + " not in: " + e.getMessage());
    }

    @Test
    void everyLimitItselfIsAccepted() {
        int side = GenerationRequest.MAX_SIDE;
        // the largest 4k+1 length whose frames still fit MAX_VIDEO_PIXELS at the largest side
        int longest = (int) ((GenerationRequest.MAX_VIDEO_PIXELS / ((long) side * side) - 1) / 4 * 4 + 1);
        List<GenerationRequest.Builder> edges = List.of(
                GenerationRequest.builder("x").size(side, side).videoLength(longest),
                GenerationRequest.builder("x").size(64, 64).videoLength(GenerationRequest.MAX_VIDEO_LENGTH),
                GenerationRequest.builder("x").inferSteps(GenerationRequest.MAX_INFER_STEPS),
                GenerationRequest.builder("x").guidanceScale(GenerationRequest.MAX_GUIDANCE_SCALE),
                GenerationRequest.builder("x").guidanceScale(-GenerationRequest.MAX_GUIDANCE_SCALE),
                GenerationRequest.builder("x").embeddedGuidanceScale(GenerationRequest.MAX_EMBEDDED_GUIDANCE_SCALE),
                GenerationRequest.builder("x").embeddedGuidanceScale(-GenerationRequest.MAX_EMBEDDED_GUIDANCE_SCALE),
                GenerationRequest.builder("x").flowShift(GenerationRequest.MIN_FLOW_SHIFT),
                GenerationRequest.builder("x").flowShift(GenerationRequest.MAX_FLOW_SHIFT),
                GenerationRequest.builder("x").numVideosPerPrompt(GenerationRequest.MAX_VIDEOS_PER_PROMPT));
        for (GenerationRequest.Builder b : edges) {
            GenerationRequest r = b.build();
            assertTrue((long) r.videoLength() * r.targetHeight() * r.targetWidth()
                    <= GenerationRequest.MAX_VIDEO_PIXELS, r.toString());
        }
        assertThrows(IllegalArgumentException.class,
                () -> GenerationRequest.builder("x").size(side, side).videoLength(longest + 4).build());
        assertEquals(SamplerConfig.MAX_TEXT_LEN, SamplerConfig.builder().textLen(SamplerConfig.MAX_TEXT_LEN)
                .textLen2(SamplerConfig.MAX_TEXT_LEN).build().textLen());
    }

    /**
     * Why the flowShift range is safe: at both ends, for every step count up to the maximum and in both directions,
     * the scheduler's float32 sigmas are finite and strictly monotone (so its timesteps are distinct); far outside
     * (the tester's 1e-300) they are NaN.
     */
    @Test
    void theFlowShiftRangeGivesADistinctFiniteScheduleForEveryStepCount() {
        try (PointerScope scope = new PointerScope()) {
            for (double shift : new double[]{GenerationRequest.MIN_FLOW_SHIFT, GenerationRequest.MAX_FLOW_SHIFT}) {
                for (boolean reverse : new boolean[]{true, false}) {
                    FlowMatchDiscreteScheduler s = new FlowMatchDiscreteScheduler(1000, shift, reverse,
                            FlowMatchDiscreteScheduler.EULER);
                    for (int steps = 1; steps <= GenerationRequest.MAX_INFER_STEPS; steps++) {
                        s.setTimesteps(steps);
                        float[] sigmas = s.sigmas();
                        for (int i = 0; i < steps; i++) {
                            String at = "shift " + shift + ", reverse " + reverse + ", " + steps + " steps, σ[" + i
                                    + "]";
                            assertTrue(Float.isFinite(sigmas[i]) && Float.isFinite(sigmas[i + 1]), at);
                            assertTrue(reverse ? sigmas[i] > sigmas[i + 1] : sigmas[i] < sigmas[i + 1], at);
                        }
                    }
                }
            }
            FlowMatchDiscreteScheduler tiny = FlowMatchDiscreteScheduler.of(1e-300);
            tiny.setTimesteps(GenerationRequest.MAX_INFER_STEPS);
            assertTrue(Float.isNaN(tiny.sigmas()[0]), "1e-300 underflows to 0/0 at σ = 1");
        }
    }

    @Test
    void latentGridsTooLargeForTheModelAreRejectedBeforeAnyTensorOp() {
        // the official DiT and VAE (16 latent channels) and stand-ins that must never run
        SamplerConfig config = SamplerConfig.builder().device("cpu").build();
        BiFunction<DitInputs, StepCacheState, Tensor> noDit = (in, cache) -> fail("the DiT ran");
        BiFunction<Tensor, BooleanSupplier, Tensor> noVae = (t, cancelled) -> fail("the VAE ran");
        try (PointerScope scope = new PointerScope();
             HunyuanVideoSampler sampler = new HunyuanVideoSampler(config, new Device("cpu"), DitConfig.cfgDistill(),
                     ScalarType.Float, VaeConfig.official(), noDit, noVae, null, List.of())) {
            TensorOptions f = new TensorOptions(ScalarType.Float);
            PromptEmbeddings text = new PromptEmbeddings(torch.zeros(new long[]{1, 4, 4096}, f),
                    torch.ones(new long[]{1, 4}, new TensorOptions(ScalarType.Long)),
                    torch.zeros(new long[]{1, 768}, f));
            // each video fits MAX_VIDEO_PIXELS, but 64 of them need 64·16·11·512·512 > 2^31 latent values
            GenerationRequest many = GenerationRequest.builder("x").size(4096, 4096).videoLength(41)
                    .numVideosPerPrompt(GenerationRequest.MAX_VIDEOS_PER_PROMPT).build();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> sampler.predict(many, text, null, ProgressListener.NONE, CancellationToken.NONE));
            assertTrue(e.getMessage().startsWith("height/width/videoLength/numVideosPerPrompt:")
                    && e.getMessage().contains("too large for the latent grid")
                    && e.getMessage().contains(String.valueOf(Integer.MAX_VALUE)), e.getMessage());
        }
    }

    @Test
    void underABudgetRequestsLargerThanThePlannedOneAndStepCachesThatDoNotFitAreRefused() {
        SamplerConfig config = SamplerConfig.builder().device("cpu").build();
        BiFunction<DitInputs, StepCacheState, Tensor> noDit = (in, cache) -> fail("the DiT ran");
        BiFunction<Tensor, BooleanSupplier, Tensor> noVae = (t, cancelled) -> fail("the VAE ran");
        long gib = 1L << 30;
        // planned for one 544p video; 100 MiB left next to the denoising peak
        MemoryPlan plan = new MemoryPlan(12 * gib, 11 * gib, new RequestSize(544, 960, 129, 1), 0, 60, 1,
                MemoryPlan.TextPlacement.NONE, 0, TilingConfig.official(), false, 0, 11 * gib - (100L << 20), 0, 0);
        try (PointerScope scope = new PointerScope();
             HunyuanVideoSampler sampler = new HunyuanVideoSampler(config, new Device("cpu"), DitConfig.cfgDistill(),
                     ScalarType.Float, VaeConfig.official(), noDit, noVae, null, List.of(), plan)) {
            TensorOptions f = new TensorOptions(ScalarType.Float);
            PromptEmbeddings text = new PromptEmbeddings(torch.zeros(new long[]{1, 4, 4096}, f),
                    torch.ones(new long[]{1, 4}, new TensorOptions(ScalarType.Long)),
                    torch.zeros(new long[]{1, 768}, f));
            for (GenerationRequest larger : List.of(
                    GenerationRequest.builder("x").size(720, 1280).videoLength(129).build(),
                    // true CFG doubles the DiT's batch
                    GenerationRequest.builder("x").size(544, 960).videoLength(129).guidanceScale(2.0).build())) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> sampler.predict(larger, text, text, ProgressListener.NONE, CancellationToken.NONE));
                assertTrue(e.getMessage().startsWith("height/width/videoLength/numVideosPerPrompt: ")
                        && e.getMessage().contains("is larger than the 544x960x129 the memory plan of "
                        + "deviceMemoryBudget 12.00 GiB was made for"), e.getMessage());
            }
            // two 544p image-token tensors in float32 are 1.5 GiB, more than the 100 MiB left
            GenerationRequest cached = GenerationRequest.builder("x").size(544, 960).videoLength(129)
                    .stepCache(StepCache.teaCache(0.15)).build();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> sampler.predict(cached, text, null, ProgressListener.NONE, CancellationToken.NONE));
            assertTrue(e.getMessage().startsWith("stepCache: teaCache(0.15) keeps ") && e.getMessage().contains(
                    "more than the 100.00 MiB the memory plan of deviceMemoryBudget 12.00 GiB leaves"), e.getMessage());
        }
    }

    /** A case: the argument the error must name and the change to a valid builder that makes it invalid. */
    private static Arguments bad(String name, UnaryOperator<GenerationRequest.Builder> change) {
        return Arguments.of(name, change);
    }

    private static Arguments cfg(String name, UnaryOperator<SamplerConfig.Builder> change) {
        return Arguments.of(name, change);
    }

    private static void assertRejectedNaming(String name, Executable build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        assertTrue(e.getMessage().startsWith(name + ":"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void requestErrorsNameTheArgument(String name, UnaryOperator<GenerationRequest.Builder> change) {
        assertRejectedNaming(name, () -> change.apply(GenerationRequest.builder("a cat")).build());
    }

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                cfg("model", b -> b.model("HYVideo-T/4")),
                cfg("precision", b -> b.precision(null)),
                cfg("vaePrecision", b -> b.vaePrecision(null)),
                cfg("textEncoderPrecision", b -> b.textEncoderPrecision(null)),
                cfg("textLen", b -> b.textLen(0)),
                cfg("textLen", b -> b.textLen(SamplerConfig.MAX_TEXT_LEN + 1)),
                cfg("textLen", b -> b.textLen(100_000)),
                cfg("textLen2", b -> b.textLen2(SamplerConfig.MAX_TEXT_LEN + 1)),
                cfg("promptTemplate", b -> b.promptTemplate("dit-llm-encode-image")),
                cfg("promptTemplateVideo", b -> b.promptTemplateVideo(null)),
                cfg("hiddenStateSkipLayer", b -> b.hiddenStateSkipLayer(-1)),
                cfg("textEncoderPrecision2", b -> b.textEncoderPrecision2(null)),
                cfg("textLen2", b -> b.textLen2(0)),
                cfg("loadKey", b -> b.loadKey("state_dict")),
                cfg("device", b -> b.device("tpu")),
                cfg("device", b -> b.device(null)),
                cfg("noiseDevice", b -> b.noiseDevice("gpu")),
                cfg("deviceMemoryBudget", b -> b.deviceMemoryBudget(-1)),
                cfg("deviceMemoryBudget", b -> b.deviceMemoryBudget(Long.MIN_VALUE)),
                cfg("deviceMemoryBudget", b -> b.deviceMemoryBudget(SamplerConfig.MIN_DEVICE_MEMORY_BUDGET - 1)),
                cfg("deviceMemoryBudget", b -> b.deviceMemoryBudget(1)),
                cfg("deviceMemoryBudget/device", b -> b.deviceMemoryBudget(24L << 30).device("CPU")),
                cfg("prefetchDepth", b -> b.prefetchDepth(0)),
                cfg("prefetchDepth", b -> b.prefetchDepth(SamplerConfig.MAX_PREFETCH_DEPTH + 1)),
                cfg("attention", b -> b.attention(null)),
                cfg("bf16AttentionSteps", b -> b.bf16AttentionSteps(-1)),
                cfg("bf16AttentionSteps", b -> b.bf16AttentionSteps(Integer.MIN_VALUE)));
    }

    @Test
    void aDeviceMemoryBudgetIsOffByDefaultAndShownWhenSet() {
        SamplerConfig c = SamplerConfig.defaults();
        assertEquals(0, c.deviceMemoryBudget());
        assertEquals(1, c.prefetchDepth());
        assertFalse(c.toString().contains("deviceMemoryBudget"), c.toString());

        SamplerConfig budget = c.toBuilder().device("cuda").deviceMemoryBudget(24L << 30).prefetchDepth(2).build();
        assertTrue(budget.toString().contains(", deviceMemoryBudget=24.00 GiB, prefetchDepth=2, largestRequest="
                + "720x1280x129]"), budget.toString());
        SamplerConfig smaller = budget.toBuilder().largestRequest(new RequestSize(544, 960, 129, 2)).build();
        assertTrue(smaller.toString().endsWith(", largestRequest=544x960x129 (batch 2)]"), smaller.toString());
        assertThrows(IllegalArgumentException.class, () -> c.toBuilder().largestRequest(null).build());
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> new RequestSize(720, 1280, 128, 1));
        assertTrue(size.getMessage().startsWith("largestRequest: videoLength must be 4k + 1"), size.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new RequestSize(8, 1280, 129, 1));
        assertThrows(IllegalArgumentException.class, () -> new RequestSize(720, 1280, 129, 0));
        assertEquals(budget, budget.toBuilder().build());
        // the limits themselves are accepted; auto may resolve to CUDA, so it takes a budget
        SamplerConfig.builder().deviceMemoryBudget(SamplerConfig.MIN_DEVICE_MEMORY_BUDGET)
                .prefetchDepth(SamplerConfig.MAX_PREFETCH_DEPTH).build();
        SamplerConfig.builder().device("cpu").deviceMemoryBudget(0).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SamplerConfig.builder().deviceMemoryBudget(512L << 20).build());
        assertTrue(e.getMessage().contains("512.00 MiB is below 1.00 GiB"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badConfigs")
    void configErrorsNameTheOption(String name, UnaryOperator<SamplerConfig.Builder> change) {
        assertRejectedNaming(name, () -> change.apply(SamplerConfig.builder()).build());
    }

    @Test
    void defaultsAreTheOfficialOnesWithTheCorrectFlowDirection() {
        SamplerConfig c = SamplerConfig.defaults();
        assertEquals("HYVideo-T/2-cfgdistill", c.model());
        assertEquals(Precision.BF16, c.precision());
        assertEquals(Precision.FP16, c.vaePrecision());
        assertEquals(Precision.FP16, c.textEncoderPrecision());
        assertEquals(Precision.FP16, c.textEncoderPrecision2());
        assertTrue(c.vaeTiling());
        assertEquals(256, c.textLen());
        assertEquals(77, c.textLen2());
        assertEquals(2, c.hiddenStateSkipLayer());
        assertFalse(c.applyFinalNorm());
        assertTrue(c.flowReverse(), "σ must run 1 → 0 by default");
        assertEquals("module", c.loadKey());
        assertNull(c.ditWeight());
        assertEquals(c, c.toBuilder().build());

        GenerationRequest r = GenerationRequest.builder("  a cat  ").build();
        assertEquals(720, r.targetHeight());
        assertEquals(1280, r.targetWidth());
        assertEquals(129, r.videoLength());
        assertEquals(50, r.inferSteps());
        assertEquals(7.0, r.flowShift());
        assertEquals(6.0, r.embeddedGuidanceScale());
        assertEquals(1.0, r.guidanceScale());
        assertFalse(r.doClassifierFreeGuidance());
    }

    @Test
    void sizesRoundUpToMultiplesOf16AndSeedsFollowTheOriginal() {
        GenerationRequest r = GenerationRequest.builder("x").size(540, 961).numVideosPerPrompt(3).seed(42L).build();
        assertEquals(544, r.targetHeight());
        assertEquals(976, r.targetWidth());
        assertEquals(List.of(42L, 43L, 44L), HunyuanVideoSampler.seeds(r));
        GenerationRequest perPrompt = GenerationRequest.builder("x").numVideosPerPrompt(2).seeds(List.of(7L)).build();
        assertEquals(List.of(7L, 8L), HunyuanVideoSampler.seeds(perPrompt));
        GenerationRequest perVideo = GenerationRequest.builder("x").numVideosPerPrompt(2).seeds(List.of(9L, 3L))
                .build();
        assertEquals(List.of(9L, 3L), HunyuanVideoSampler.seeds(perVideo));
        List<Long> random = HunyuanVideoSampler.seeds(GenerationRequest.builder("x").numVideosPerPrompt(4).build());
        assertEquals(4, random.size());
        random.forEach(s -> assertTrue(s >= 0 && s <= 1_000_000, "seed " + s));
    }
}
