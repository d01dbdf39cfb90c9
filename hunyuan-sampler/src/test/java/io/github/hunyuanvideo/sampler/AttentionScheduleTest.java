package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.Attention;
import io.github.hunyuanvideo.dit.DitInputs;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Precision;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which denoising steps run which attention backend: {@link SamplerConfig#attentionAt} ({@code S} = SDPA, {@code I} =
 * INT8 per step), and the loop handing each step's backend to the DiT.
 */
class AttentionScheduleTest {
    /** The backends of every step of {@code steps}, one letter each. */
    private static String schedule(SamplerConfig c, int steps) {
        return IntStream.range(0, steps).mapToObj(i -> c.attentionAt(i, steps) == Attention.SDPA ? "S" : "I")
                .collect(Collectors.joining());
    }

    @ParameterizedTest(name = "{0} with {1} bf16 steps of {2}: {3}")
    @CsvSource({
            "INT8, 0, 6, IIIIII",
            "INT8, 1, 6, SIIIIS",
            "INT8, 2, 6, SSIISS",
            "INT8, 3, 6, SSSSSS",
            "INT8, 4, 6, SSSSSS",
            "INT8, 2, 5, SSISS",
            "INT8, 0, 1, I",
            "INT8, 1, 1, S",
            "SDPA, 0, 6, SSSSSS",
            "SDPA, 2, 6, SSSSSS"})
    void firstAndLastStepsRunSdpa(Attention attention, int bf16Steps, int steps, String expected) {
        SamplerConfig c = SamplerConfig.builder().attention(attention).bf16AttentionSteps(bf16Steps).build();
        assertEquals(expected, schedule(c, steps));
    }

    @Test
    void sdpaIsTheDefaultAndInt8IsShown() {
        SamplerConfig c = SamplerConfig.defaults();
        assertEquals(Attention.SDPA, c.attention());
        assertEquals(0, c.bf16AttentionSteps());
        assertFalse(c.toString().contains("attention"), c.toString());
        SamplerConfig int8 = c.toBuilder().attention(Attention.INT8).bf16AttentionSteps(3).build();
        assertEquals(int8, int8.toBuilder().build());
        assertTrue(int8.toString().contains(", attention=INT8, bf16AttentionSteps=3"), int8.toString());
        assertThrows(IllegalArgumentException.class, () -> int8.attentionAt(6, 6));
        assertThrows(IllegalArgumentException.class, () -> int8.attentionAt(-1, 6));
    }

    /** The loop asks the configuration per step and hands the backend to the DiT with that step's inputs. */
    @Test
    void theLoopHandsEachStepItsBackend() throws IOException {
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); PointerScope scope = new PointerScope()) {
            PipelineCase pipeline = PipelineCase.load(ReferenceCase.dir());
            List<String> seen = new ArrayList<>();
            Function<DitInputs, Tensor> recording = in -> {
                seen.add(in.attention() == Attention.SDPA ? "S" : "I");
                return in.latents().mul(new Scalar(0.0));
            };
            BiFunction<Tensor, BooleanSupplier, Tensor> decode = (latents, cancelled) -> c.tensor("out.vae_decoded");
            SamplerConfig config = pipeline.config("cpu", Precision.FP32, Precision.FP32).toBuilder()
                    .attention(Attention.INT8).bf16AttentionSteps(2).build();
            HunyuanVideoSampler sampler = DenoisingLoopTest.standIns(config, pipeline.dit(), pipeline.vae(),
                    recording, decode);
            GenerationRequest req = GenerationRequest.builder("x").size(pipeline.request().height(),
                    pipeline.request().width()).videoLength(pipeline.request().videoLength()).inferSteps(7)
                    .seed(1L).build();
            try (SamplerResult r = sampler.predict(req, PipelineCase.embeddings(c.tensors()), null,
                    ProgressListener.NONE, CancellationToken.NONE)) {
                assertEquals("SSIIISS", String.join("", seen));
                assertEquals(schedule(config, 7), String.join("", seen));
            }
        }
    }
}
