package io.github.hunyuanvideo.sampler;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.dit.DitCheckpoint;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.dit.StepCache;
import io.github.hunyuanvideo.dit.StepCacheState;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TeaCache against the {@code teacache_tiny} golden case (its authors' HunyuanVideo forward in the official
 * pipeline): the sampler's loop with the tiny DiT of {@code dit_tiny}, the case's text embeddings and its initial
 * noise, for each recorded threshold the computed/skipped pattern, the raw distances, the accumulator after every
 * step and the latents after every step; with caching off the latents of the uncached pipeline, and threshold 0
 * equal to caching off. Every setting (steps, shift, guidance, seed, thresholds, polynomial) comes from the case.
 * The case has no video: a stand-in decoder ends the loop.
 */
class StepCacheGoldenTest {
    private static final double LATENTS_TOL = 1e-4;
    private static final double ACCUMULATOR_TOL = 1e-5;

    private static ReferenceCase ref;
    private static JsonNode settings;
    private static HunyuanVideoTransformer dit;
    private static VaeConfig vae;

    @BeforeAll
    static void load() {
        ref = ReferenceCase.load("teacache_tiny");
        settings = ref.config();
        try (ReferenceCase ditCase = ReferenceCase.load("dit_tiny"); ReferenceCase vaeCase = ReferenceCase.load(
                "vae_tiny")) {
            dit = DitCheckpoint.loadOfficial(ditCase.modelWeights(), DitConfig.fromJson(ditCase.config()),
                    new Device("cpu"), ScalarType.Float);
            vae = VaeConfig.fromJson(vaeCase.config());
        }
    }

    @AfterAll
    static void close() {
        dit.close();
        ref.close();
    }

    /** What one generation reported: the state's decisions, the listener's skipped steps and latents, the result. */
    private record Run(List<StepCacheState.Step> decisions, List<Integer> skipped, List<Tensor> latents,
                       List<Boolean> computedSteps) {
    }

    /** One generation of the case under {@code cache}; the latents belong to the caller's scope. */
    private static Run generate(StepCache cache) {
        SamplerConfig config = SamplerConfig.builder().ditConfig(dit.config()).textLen(settings.get("text_len").asInt())
                .precision(Precision.FP32).vaePrecision(Precision.FP32).textEncoderPrecision(Precision.FP32)
                .flowReverse(settings.get("flow_reverse").asBoolean()).device("cpu").noiseDevice("cpu")
                .exactGuidance(true).loadTextEncoders(false).build();
        GenerationRequest request = GenerationRequest.builder("a dummy prompt (the case stubs the text encoders)")
                .size(settings.get("height").asInt(), settings.get("width").asInt())
                .videoLength(settings.get("video_length").asInt())
                .inferSteps(settings.get("num_inference_steps").asInt())
                .flowShift(settings.get("flow_shift").asDouble())
                .embeddedGuidanceScale(settings.get("embedded_guidance_scale").asDouble())
                .seed(settings.get("latents_seed").asLong()).stepCache(cache).build();
        List<StepCacheState> states = new ArrayList<>();
        // the sampler owns no model here: the DiT serves every run of the class
        HunyuanVideoSampler sampler = new HunyuanVideoSampler(config, dit.device(), dit.config(), dit.dtype(), vae,
                (in, state) -> {
                    if (!states.contains(state)) {
                        states.add(state);
                    }
                    return dit.forward(in, state);
                }, (latents, cancelled) -> latents, null, List.of());
        List<Integer> skipped = new ArrayList<>();
        List<Tensor> latents = new ArrayList<>();
        ProgressListener listener = new ProgressListener() {
            @Override
            public void onStep(int step, int total, Duration elapsed, Duration eta) {
            }

            @Override
            public void onStepSkipped(int index) {
                skipped.add(index);
            }

            @Override
            public void onLatents(int index, Tensor step) {
                // outlives the step's scope; handed to the caller's below
                latents.add(Scopes.retained(step.clone()));
            }
        };
        try (sampler; SamplerResult r = sampler.predict(request, PipelineCase.embeddings(ref.tensors()), null,
                listener, CancellationToken.NONE)) {
            assertEquals(1, states.size(), "one state per generation");
            return new Run(states.get(0).decisions(), skipped, latents, r.computedSteps());
        } finally {
            latents.forEach(Scopes::handOut);
        }
    }

    @Test
    void theInitialNoiseIsTheCasesLatents() {
        try (PointerScope scope = new PointerScope()) {
            JsonNode shape = settings.get("latent_shape");
            long[] dims = new long[shape.size()];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = shape.get(i).asLong();
            }
            Tensor noise = InitialNoise.draw(List.of(settings.get("latents_seed").asLong()), dims, new Device("cpu"),
                    ScalarType.Float);
            assertEquals(0.0, ref.assertClose("in.latents", noise, 0.0));
        }
    }

    @Test
    void cachingOffIsTheUncachedPipelineAndThresholdZeroChangesNothing() {
        int steps = settings.get("num_inference_steps").asInt();
        try (PointerScope scope = new PointerScope()) {
            Run off = generate(StepCache.none());
            assertEquals(Collections.nCopies(steps, true), off.computedSteps());
            assertEquals(List.of(), off.skipped());
            for (int i = 0; i < steps; i++) {
                ref.assertClose("off.step" + i + ".latents", off.latents().get(i), LATENTS_TOL);
            }
            Run zero = generate(StepCache.teaCache(0, coefficients()));
            assertEquals(Collections.nCopies(steps, true), zero.computedSteps());
            double maxDiff = settings.get("off_vs_threshold0_maxdiff").asDouble();
            for (int i = 0; i < steps; i++) {
                double diff = zero.latents().get(i).sub(off.latents().get(i)).abs().max().item_double();
                assertTrue(diff <= maxDiff, "step " + i + ": threshold 0 differs from caching off by " + diff);
            }
        }
    }

    @Test
    void everyRecordedThresholdSkipsTheSameStepsWithTheSameAccumulator() {
        JsonNode thresholds = settings.get("thresholds");
        for (int k = 0; k < thresholds.size(); k++) {
            double threshold = thresholds.get(k).asDouble();
            JsonNode expected = settings.get("runs").get(thresholds.get(k).asText());
            String run = "threshold " + threshold;
            try (PointerScope scope = new PointerScope()) {
                Run r = generate(StepCache.teaCache(threshold, coefficients()));
                List<Boolean> computed = new ArrayList<>();
                List<Integer> skipped = new ArrayList<>();
                for (int i = 0; i < expected.get("computed").size(); i++) {
                    computed.add(expected.get("computed").get(i).asBoolean());
                    if (!computed.get(i)) {
                        skipped.add(i);
                    }
                }
                assertEquals(computed, r.computedSteps(), run);
                assertEquals(computed, r.decisions().stream().map(StepCacheState.Step::computed).toList(), run);
                assertEquals(skipped, r.skipped(), run + ": the listener hears of every skipped step");
                // raw distances of steps 1 … N−2, in order
                JsonNode raw = expected.get("raw_rel_l1");
                for (int j = 0; j < raw.size(); j++) {
                    double d = raw.get(j).asDouble();
                    assertEquals(d, r.decisions().get(j + 1).distance(), ACCUMULATOR_TOL * d, run + " step " + (j + 1));
                }
                JsonNode accumulated = expected.get("accumulated_after_step");
                for (int i = 0; i < accumulated.size(); i++) {
                    double a = accumulated.get(i).asDouble();
                    assertEquals(a, r.decisions().get(i).accumulated(), ACCUMULATOR_TOL * Math.abs(a),
                            run + " accumulator after step " + i);
                }
                double worst = 0;
                for (int i = 0; i < computed.size(); i++) {
                    worst = Math.max(worst, ref.assertClose("run" + k + ".step" + i + ".latents", r.latents().get(i),
                            LATENTS_TOL));
                }
                System.out.println("teacache_tiny " + run + ": " + r.computedSteps() + ", latents within " + worst);
            }
        }
    }

    /** The case's rescale polynomial, highest power first. */
    private static List<Double> coefficients() {
        List<Double> c = new ArrayList<>();
        settings.get("rescale_coefficients").forEach(v -> c.add(v.asDouble()));
        return c;
    }
}
