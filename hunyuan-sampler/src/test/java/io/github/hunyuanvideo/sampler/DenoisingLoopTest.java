package io.github.hunyuanvideo.sampler;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.bench.PipelineGpuCheck;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sampler's loop against the official pipeline's recorded tensors, with the DiT and VAE replaced by replays of
 * their recorded outputs: checks what the loop feeds the networks (latents, timesteps, guidance, RoPE tables) and what
 * it makes of their outputs (Euler steps, scaling, [0, 1] mapping), independent of the networks' own numerics.
 */
class DenoisingLoopTest {
    private static final double TOL = 1e-6;

    /** A stand-in for the VAE (8× spatial, 4× temporal compression) whose decoding is {@code decode}. */
    private static ModelComponents.Decoder decoder(double scalingFactor, int latentChannels,
                                                   UnaryOperator<Tensor> decode) {
        return new ModelComponents.Decoder() {
            @Override
            public Tensor decode(Tensor latents) {
                return decode.apply(latents);
            }

            @Override
            public double scalingFactor() {
                return scalingFactor;
            }

            @Override
            public int spatialRatio() {
                return 8;
            }

            @Override
            public int temporalRatio() {
                return 4;
            }

            @Override
            public int latentChannels() {
                return latentChannels;
            }

            @Override
            public void close() {
            }
        };
    }

    @Test
    void loopFeedsTheDitAndStepsLikeTheOfficialPipeline() {
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); ReferenceCase dit = ReferenceCase.load("dit_tiny");
             PointerScope scope = new PointerScope()) {
            JsonNode cfg = c.config();
            int steps = cfg.get("num_inference_steps").asInt();
            List<Integer> calls = new ArrayList<>();
            ModelComponents.Transformer replay = new ModelComponents.Transformer() {
                @Override
                public Tensor forward(Tensor x, Tensor t, Tensor states, Tensor mask, Tensor pooled, Tensor cos,
                                      Tensor sin, Tensor guidance) {
                    int i = calls.size();
                    calls.add(i);
                    c.assertClose(i == 0 ? "in.latents" : "mid.step" + (i - 1) + ".latents", x, TOL);
                    c.assertClose("mid.step" + i + ".timestep", t, 0.0);
                    assertEquals(cfg.get("embedded_guidance_scale").asDouble() * 1000,
                            guidance.item_double(), "guidance at fp32 precision");
                    c.assertClose("in.freqs_cos", cos, TOL);
                    c.assertClose("in.freqs_sin", sin, TOL);
                    c.assertClose("in.prompt_embeds", states, 0.0);
                    c.assertClose("in.prompt_mask", mask, 0.0);
                    c.assertClose("in.prompt_embeds_2", pooled, 0.0);
                    return c.tensor("mid.step" + i + ".noise_pred");
                }

                @Override
                public void close() {
                }
            };
            ModelComponents.Decoder decoder = decoder(cfg.get("scaling_factor").asDouble(),
                    (int) cfg.get("latent_shape").get(1).asLong(), latents -> {
                        c.assertClose("out.latents", latents.mul(new org.bytedeco.pytorch.Scalar(
                                cfg.get("scaling_factor").asDouble())), TOL);
                        return c.tensor("out.vae_decoded");
                    });
            DitConfig ditConfig = DitConfig.fromJson(dit.config());
            SamplerConfig config = SamplerConfig.builder().precision(Precision.FP32).vaePrecision(Precision.FP32)
                    .textEncoderPrecision(Precision.FP32).latentChannels(ditConfig.inChannels())
                    .ditConfig(ditConfig).vaeTiling(false).device("cpu").loadTextEncoders(false).build();
            HunyuanVideoSampler sampler = new HunyuanVideoSampler(config, new Device("cpu"),
                    new ModelComponents(ditConfig, ScalarType.Float, replay, decoder, null));
            GenerationRequest req = GenerationRequest.builder("a tiny test").size(cfg.get("height").asInt(),
                            cfg.get("width").asInt()).videoLength(cfg.get("video_length").asInt())
                    .inferSteps(steps).flowShift(cfg.get("flow_shift").asDouble())
                    .embeddedGuidanceScale(cfg.get("embedded_guidance_scale").asDouble())
                    .guidanceScale(cfg.get("guidance_scale(cfg)").asDouble())
                    .seed(cfg.get("latents_seed").asLong()).build();
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
            PromptEmbeddings emb = PipelineGpuCheck.embeddings(c.tensors());
            try (SamplerResult r = sampler.predict(req, emb, null, listener, CancellationToken.NONE)) {
                assertEquals(steps, calls.size());
                assertEquals(List.of("1/4", "2/4", "3/4", "4/4").subList(0, steps), seen);
                c.assertClose("out.latents", r.latents(), TOL);
                c.assertClose("out.video", r.videos(), TOL);
                assertEquals(List.of(cfg.get("latents_seed").asLong()), r.seeds());
                assertEquals(steps, r.timings().steps().size());
                assertEquals(ScalarType.Float, r.videos().scalar_type().intern());
                assertEquals(List.of(1L, 3L, 9L, 64L, 64L), boxed(Tensors.shape(r.videos())));
            }
        }
    }

    @Test
    void cancellationStopsBetweenSteps() {
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); ReferenceCase dit = ReferenceCase.load("dit_tiny");
             PointerScope scope = new PointerScope()) {
            DitConfig ditConfig = DitConfig.fromJson(dit.config());
            CancellationToken token = new CancellationToken();
            int[] calls = {0};
            ModelComponents.Transformer counting = new ModelComponents.Transformer() {
                @Override
                public Tensor forward(Tensor x, Tensor t, Tensor s, Tensor m, Tensor p, Tensor cos, Tensor sin,
                                      Tensor g) {
                    calls[0]++;
                    return x.mul(new org.bytedeco.pytorch.Scalar(0.0));
                }

                @Override
                public void close() {
                }
            };
            ModelComponents.Decoder never = decoder(1, ditConfig.inChannels(), latents -> {
                throw new AssertionError("decode after cancellation");
            });
            SamplerConfig config = SamplerConfig.builder().latentChannels(ditConfig.inChannels()).ditConfig(ditConfig)
                    .device("cpu").loadTextEncoders(false).build();
            HunyuanVideoSampler sampler = new HunyuanVideoSampler(config, new Device("cpu"),
                    new ModelComponents(ditConfig, ScalarType.Float, counting, never, null));
            GenerationRequest req = GenerationRequest.builder("x").size(64, 64).videoLength(9).inferSteps(10)
                    .seed(1L).build();
            PromptEmbeddings emb = PipelineGpuCheck.embeddings(c.tensors());
            ProgressListener cancelAfterTwo = (step, total, elapsed, eta) -> {
                if (step == 2) {
                    token.cancel();
                }
            };
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                    () -> sampler.predict(req, emb, null, cancelAfterTwo, token));
            assertEquals(2, calls[0]);
            assertTrue(e.getMessage().contains("step 3"), e.getMessage());
        }
    }

    @Test
    void embeddedGuidanceIsRoundedLikeTheOriginal() {
        try (PointerScope scope = new PointerScope()) {
            Device cpu = new Device("cpu");
            // spec §9.5: bf16(bf16(g)·1000)
            double[][] bf16 = {{6.0, 6016}, {1.0, 1000}, {3.5, 3504}, {5.0, 4992}, {7.0, 7008}, {10.0, 9984}};
            for (double[] c : bf16) {
                Tensor g = ModelComponents.guidance(c[0], 2, cpu, ScalarType.BFloat16, false);
                assertEquals(ScalarType.BFloat16, g.scalar_type().intern());
                assertEquals(2, g.size(0));
                assertEquals(c[1], g.select(0, 1).item_double(), "guidance " + c[0]);
            }
            assertEquals(6000.0, ModelComponents.guidance(6.0, 1, cpu, ScalarType.Float, false).item_double());
            assertEquals(6000.0, ModelComponents.guidance(6.0, 1, cpu, ScalarType.BFloat16, true).item_double());
        }
    }

    private static List<Long> boxed(long[] a) {
        List<Long> l = new ArrayList<>();
        for (long v : a) {
            l.add(v);
        }
        return l;
    }
}
