package io.github.hunyuanvideo.sampler;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.DitInputs;
import io.github.hunyuanvideo.dit.StepCacheState;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sampler's loop against the official pipeline's recorded tensors, with the DiT and VAE replaced by replays of
 * their recorded outputs: checks what the loop feeds the networks (latents, timesteps, guidance, text) and what
 * it makes of their outputs (Euler steps, scaling, [0, 1] mapping), independent of the networks' own numerics.
 */
class DenoisingLoopTest {
    private static final double TOL = 1e-6;

    /**
     * A sampler over stand-ins for the DiT and the VAE (which gets the latents and the cancellation check), with the
     * case's dimensions.
     */
    static HunyuanVideoSampler standIns(SamplerConfig config, DitConfig dit, VaeConfig vae,
                                        Function<DitInputs, Tensor> velocity,
                                        BiFunction<Tensor, BooleanSupplier, Tensor> decode) {
        return new HunyuanVideoSampler(config, new Device("cpu"), dit, ScalarType.Float, vae,
                (DitInputs in, StepCacheState cache) -> velocity.apply(in), decode, null, List.of());
    }

    @Test
    void loopFeedsTheDitAndStepsLikeTheOfficialPipeline() throws IOException {
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); PointerScope scope = new PointerScope()) {
            JsonNode cfg = c.config();
            PipelineCase pipeline = PipelineCase.load(ReferenceCase.dir());
            int steps = cfg.get("num_inference_steps").asInt();
            double scaling = pipeline.vae().scalingFactor();
            List<Integer> calls = new ArrayList<>();
            Function<DitInputs, Tensor> replay = in -> {
                int i = calls.size();
                calls.add(i);
                c.assertClose(i == 0 ? "in.latents" : "mid.step" + (i - 1) + ".latents", in.latents(), TOL);
                c.assertClose("mid.step" + i + ".timestep", in.timesteps(), 0.0);
                assertEquals(cfg.get("embedded_guidance_scale").asDouble() * 1000, in.guidance().item_double(),
                        "guidance at fp32 precision");
                c.assertClose("in.prompt_embeds", in.textStates(), 0.0);
                c.assertClose("in.prompt_mask", in.textMask(), 0.0);
                c.assertClose("in.prompt_embeds_2", in.pooledText(), 0.0);
                return c.tensor("mid.step" + i + ".noise_pred");
            };
            BiFunction<Tensor, BooleanSupplier, Tensor> decoder = (latents, cancelled) -> {
                c.assertClose("out.latents", latents.mul(new Scalar(scaling)), TOL);
                return c.tensor("out.vae_decoded");
            };
            HunyuanVideoSampler sampler = standIns(pipeline.config("cpu", Precision.FP32, Precision.FP32),
                    pipeline.dit(), pipeline.vae(), replay, decoder);
            GenerationRequest req = pipeline.request();
            List<String> seen = new ArrayList<>();
            ProgressListener listener = new ProgressListener() {
                @Override
                public void onStep(int step, int total, Duration elapsed, Duration eta) {
                    seen.add(step + "/" + total);
                }

                @Override
                public void onLatents(int index, Tensor latents) {
                    c.assertClose("mid.step" + index + ".latents", latents, TOL);
                }
            };
            PromptEmbeddings emb = PipelineCase.embeddings(c.tensors());
            try (SamplerResult r = sampler.predict(req, emb, null, listener, CancellationToken.NONE)) {
                assertEquals(steps, calls.size());
                List<String> expected = new ArrayList<>();
                for (int i = 1; i <= steps; i++) {
                    expected.add(i + "/" + steps);
                }
                assertEquals(expected, seen);
                c.assertClose("out.latents", r.latents(), TOL);
                c.assertClose("out.video", r.videos(), TOL);
                assertEquals(List.of(cfg.get("latents_seed").asLong()), r.seeds());
                assertEquals(steps, r.timings().steps().size());
                assertEquals(ScalarType.Float, r.videos().scalar_type().intern());
                assertArrayEquals(Tensors.shape(c.tensor("out.video")), Tensors.shape(r.videos()));
            }
        }
    }

    @Test
    void cancellationStopsBetweenSteps() throws IOException {
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); PointerScope scope = new PointerScope()) {
            PipelineCase pipeline = PipelineCase.load(ReferenceCase.dir());
            CancellationToken token = new CancellationToken();
            int[] calls = {0};
            Function<DitInputs, Tensor> counting = in -> {
                calls[0]++;
                return in.latents().mul(new Scalar(0.0));
            };
            BiFunction<Tensor, BooleanSupplier, Tensor> never = (latents, cancelled) -> {
                throw new AssertionError("decode after cancellation");
            };
            HunyuanVideoSampler sampler = standIns(pipeline.config("cpu", Precision.FP32, Precision.FP32),
                    pipeline.dit(), pipeline.vae(), counting, never);
            GenerationRequest req = GenerationRequest.builder("x").size(pipeline.request().height(),
                    pipeline.request().width()).videoLength(pipeline.request().videoLength()).inferSteps(10)
                    .seed(1L).build();
            PromptEmbeddings emb = PipelineCase.embeddings(c.tensors());
            ProgressListener cancelAfterTwo = (step, total, elapsed, eta) -> {
                if (step == 2) {
                    token.cancel();
                }
            };
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                    () -> sampler.predict(req, emb, null, cancelAfterTwo, token));
            assertEquals(2, calls[0]);
            assertTrue(e.getMessage().contains("step 3"), e.getMessage());
            assertEquals(GenerationCancelledException.Stage.DENOISING, e.stage());
        }
    }

    @Test
    void embeddedGuidanceIsRoundedLikeTheOriginal() {
        try (PointerScope scope = new PointerScope()) {
            Device cpu = new Device("cpu");
            // the original's pipeline: bf16(bf16(g)·1000)
            double[][] bf16 = {{6.0, 6016}, {1.0, 1000}, {3.5, 3504}, {5.0, 4992}, {7.0, 7008}, {10.0, 9984}};
            for (double[] c : bf16) {
                Tensor g = HunyuanVideoSampler.guidance(c[0], 2, cpu, ScalarType.BFloat16, false);
                assertEquals(ScalarType.BFloat16, g.scalar_type().intern());
                assertEquals(2, g.size(0));
                assertEquals(c[1], g.select(0, 1).item_double(), "guidance " + c[0]);
            }
            assertEquals(6000.0, HunyuanVideoSampler.guidance(6.0, 1, cpu, ScalarType.Float, false).item_double());
            assertEquals(6000.0, HunyuanVideoSampler.guidance(6.0, 1, cpu, ScalarType.BFloat16, true).item_double());
        }
    }
}
