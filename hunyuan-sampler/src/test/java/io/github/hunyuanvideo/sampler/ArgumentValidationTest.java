package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.nn.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
                cfg("promptTemplate", b -> b.promptTemplate("dit-llm-encode-image")),
                cfg("promptTemplateVideo", b -> b.promptTemplateVideo(null)),
                cfg("hiddenStateSkipLayer", b -> b.hiddenStateSkipLayer(-1)),
                cfg("textEncoderPrecision2", b -> b.textEncoderPrecision2(null)),
                cfg("textLen2", b -> b.textLen2(0)),
                cfg("loadKey", b -> b.loadKey("state_dict")),
                cfg("device", b -> b.device("tpu")),
                cfg("device", b -> b.device(null)),
                cfg("noiseDevice", b -> b.noiseDevice("gpu")));
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
