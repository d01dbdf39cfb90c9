package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.StepCache;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.parallel.Communicator;
import io.github.hunyuanvideo.nn.parallel.ThreadGroupCommunicator;
import io.github.hunyuanvideo.sampler.demo.DemoCheckpoint;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole generations shared by N ranks (threads with {@link ThreadGroupCommunicator}), each rank with a sampler of its
 * own: every rank's final latents equal the one-rank latents within 1e-5 relative, rank 0's video equals the one-rank
 * video and the other ranks get none. The golden {@code pipeline_tiny} case at N = 2, a random 6-head DiT under true
 * CFG (batch 2, padded text of two lengths, random seeds shared by rank 0) at N = 3 (odd: sequence parallelism
 * alone), a random 4-head DiT under true CFG at N = 2 and 4 (the ranks split in two halves, one per branch), and the
 * demo model with its text encoders on rank 0 only at N = 2.
 */
class SequenceParallelSamplerTest {
    private static final double TOL = 1e-5;

    /** Rank 0's video and every rank's latents of one generation. */
    private record Outcome(Tensor video, List<Tensor> latents) {
    }

    /**
     * Builds each rank's sampler with {@code load} (one after another, in rank order) and runs {@code generate} on
     * every rank at once; checks that only rank 0 gets the video.
     */
    private static Outcome shared(int n, Function<Communicator, HunyuanVideoSampler> load,
                                  Function<HunyuanVideoSampler, SamplerResult> generate) {
        List<Communicator> ranks = ThreadGroupCommunicator.group(n);
        List<HunyuanVideoSampler> samplers = new ArrayList<>();
        AtomicReference<Tensor> video = new AtomicReference<>();
        try {
            ranks.forEach(c -> samplers.add(load.apply(c)));
            List<Tensor> latents = ThreadGroupCommunicator.run(ranks, c -> {
                try (SamplerResult r = generate.apply(samplers.get(c.rank()))) {
                    assertEquals(c.rank() == 0, r.hasVideos(), "rank " + c.rank() + " has videos");
                    if (c.rank() == 0) {
                        video.set(Scopes.retained(r.videos().clone()));
                    }
                    return r.latents().clone();
                }
            });
            return new Outcome(Scopes.handOut(video.get()), latents);
        } finally {
            samplers.forEach(HunyuanVideoSampler::close);
        }
    }

    private static void assertMatches(SamplerResult expected, Outcome got) {
        for (int r = 0; r < got.latents.size(); r++) {
            double err = Tensors.relativeError(got.latents.get(r), expected.latents());
            assertTrue(err < TOL, "rank " + r + " latents: relative error " + err);
        }
        double err = Tensors.relativeError(got.video, expected.videos());
        assertTrue(err < TOL, "rank 0 video: relative error " + err);
    }

    @Test
    void goldenPipelineOnTwoRanks() throws IOException {
        PipelineCase pipeline = PipelineCase.load(ReferenceCase.dir());
        SamplerConfig config = pipeline.config("cpu", Precision.FP32, Precision.FP32);
        try (PointerScope scope = new PointerScope(); Weights ref = Weights.open(
                ReferenceCase.dir().resolve("pipeline_tiny.safetensors"));
             HunyuanVideoSampler one = pipeline.sampler(config);
             SamplerResult expected = one.predict(pipeline.request(), PipelineCase.embeddings(ref), null,
                     ProgressListener.NONE, CancellationToken.NONE)) {
            Outcome got = shared(2, c -> {
                try {
                    return pipeline.sampler(config.toBuilder().communicator(c).build());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, s -> s.predict(pipeline.request(), PipelineCase.embeddings(ref), null, ProgressListener.NONE,
                    CancellationToken.NONE));
            assertMatches(expected, got);
            assertTrue(Tensors.relativeError(got.latents().get(1), ref.get("out.latents")) < 1e-4);
        }
    }

    /** 6 heads of 16: splits over 2 and 3 ranks. */
    static final DitConfig SIX_HEADS = new DitConfig(List.of(1, 2, 2), 16, 16, 96, 6, 2.0, 1, 1,
            List.of(4, 6, 6), 256.0, true, true, true, 32, 16, 1);

    /** Random embeddings (seeded) of 8 tokens, the first {@code valid} of them valid. */
    private static PromptEmbeddings embeddings(long seed, int valid) {
        torch.manual_seed(seed);
        Tensor mask = torch.zeros(new long[]{1, 8}, new TensorOptions(ScalarType.Long));
        mask.narrow(1, 0, valid).fill_(new Scalar(1));
        return new PromptEmbeddings(torch.randn(new long[]{1, 8, 32}), mask, torch.randn(new long[]{1, 16}));
    }

    /** 4 heads of 16: N = 2 and 4 ranks split in halves of 1 and 2 ranks under true CFG. */
    static final DitConfig FOUR_HEADS = new DitConfig(List.of(1, 2, 2), 16, 16, 64, 4, 2.0, 1, 1,
            List.of(4, 6, 6), 256.0, true, true, true, 32, 16, 1);

    /** The true-CFG scenario's sampler on the ranks of {@code c}: the 6-head DiT and the demo VAE, random weights. */
    static HunyuanVideoSampler cfgSampler(Communicator c) {
        return cfgSampler(c, SIX_HEADS);
    }

    /** The true-CFG scenario's sampler with a DiT of {@code dit} (random weights). */
    static HunyuanVideoSampler cfgSampler(Communicator c, DitConfig dit) {
        SamplerConfig config = SamplerConfig.builder().device("cpu").precision(Precision.FP32)
                .vaePrecision(Precision.FP32).noiseDevice("cpu").loadTextEncoders(false).communicator(c).build();
        return HunyuanVideoSampler.withRandomWeights(config, dit, DemoCheckpoint.vaeConfig(), 7);
    }

    /** The true-CFG scenario's request: 32×80 pixels, 5 frames: 2 × 2 × 5 = 20 image tokens (21 on 3 ranks). */
    static GenerationRequest.Builder cfgRequest() {
        return GenerationRequest.builder("cfg").size(32, 80).videoLength(5).inferSteps(3).guidanceScale(4.0);
    }

    /** The true-CFG scenario's prompt and negative prompt: 5 and 3 valid tokens of 8 (draw them on one thread). */
    static PromptEmbeddings[] cfgPrompts() {
        return new PromptEmbeddings[]{embeddings(1, 5), embeddings(2, 3)};
    }

    /** The true-CFG scenario's generation. */
    static SamplerResult cfgGenerate(HunyuanVideoSampler s, GenerationRequest request, PromptEmbeddings[] prompts) {
        return s.predict(request, prompts[0], prompts[1], ProgressListener.NONE, CancellationToken.NONE);
    }

    @Test
    void trueCfgWithRandomSeedsOnThreeRanks() {
        try (PointerScope scope = new PointerScope()) {
            PromptEmbeddings[] prompts = cfgPrompts();
            List<Long> seeds = new ArrayList<>();
            Outcome got = shared(3, SequenceParallelSamplerTest::cfgSampler, s -> {
                SamplerResult r = cfgGenerate(s, cfgRequest().build(), prompts);
                synchronized (seeds) {
                    seeds.addAll(r.seeds());
                }
                return r;
            });
            assertEquals(3, seeds.size());
            assertTrue(seeds.stream().allMatch(s -> s.equals(seeds.get(0))), "rank 0's seed on every rank: " + seeds);
            try (HunyuanVideoSampler one = cfgSampler(Communicator.single());
                 SamplerResult expected = cfgGenerate(one, cfgRequest().seed(seeds.get(0)).build(), prompts)) {
                assertMatches(expected, got);
            }
        }
    }

    /** CFG parallelism: 2 ranks run a branch each, 4 ranks a branch per half with sequence parallelism inside. */
    @ParameterizedTest(name = "{0} ranks")
    @ValueSource(ints = {2, 4})
    void trueCfgSplitsTheRanksInTwoHalves(int n) {
        assertTrue(CfgRanks.applies(n, FOUR_HEADS.headsNum()));
        try (PointerScope scope = new PointerScope()) {
            PromptEmbeddings[] prompts = cfgPrompts();
            GenerationRequest request = cfgRequest().seed(9L).build();
            Outcome got = shared(n, c -> cfgSampler(c, FOUR_HEADS), s -> cfgGenerate(s, request, prompts));
            try (HunyuanVideoSampler one = cfgSampler(Communicator.single(), FOUR_HEADS);
                 SamplerResult expected = cfgGenerate(one, request, prompts)) {
                assertMatches(expected, got);
            }
        }
    }

    @Test
    void demoModelWithTextEncodersOnRankZeroOnly(@TempDir Path tmp) throws IOException {
        Path model = DemoCheckpoint.ensure(tmp.resolve("demo"));
        SamplerConfig config = SamplerConfig.defaults().toBuilder().device("cpu").build();
        Function<HunyuanVideoSampler, SamplerResult> generate = s -> s.predict(s.request("a cat").size(64, 96)
                .videoLength(5).inferSteps(2).seed(3L).build());
        try (PointerScope scope = new PointerScope();
             HunyuanVideoSampler one = HunyuanVideoSampler.fromPretrained(model, config);
             SamplerResult expected = generate.apply(one)) {
            assertMatches(expected, shared(2, c -> {
                try {
                    return HunyuanVideoSampler.fromPretrained(model, config.toBuilder().communicator(c).build());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, generate));
        }
    }

    @Test
    void ranksThatCannotSplitTheHeadsAndStepCachesAreRefused(@TempDir Path tmp) throws IOException {
        Path model = DemoCheckpoint.ensure(tmp.resolve("demo"));
        List<Communicator> three = ThreadGroupCommunicator.group(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                HunyuanVideoSampler.fromPretrained(model, SamplerConfig.defaults().toBuilder().device("cpu")
                        .communicator(three.get(0)).build()));
        assertTrue(e.getMessage().startsWith("communicator: sequence parallelism over 3 ranks"), e.getMessage());
        List<Communicator> two = ThreadGroupCommunicator.group(2);
        try (HunyuanVideoSampler s = HunyuanVideoSampler.fromPretrained(model, SamplerConfig.defaults().toBuilder()
                .device("cpu").communicator(two.get(1)).build())) {
            IllegalArgumentException cache = assertThrows(IllegalArgumentException.class, () -> s.predict(
                    s.request("a cat").size(64, 96).videoLength(5).stepCache(StepCache.teaCache(0.1)).build()));
            assertTrue(cache.getMessage().startsWith("stepCache:"), cache.getMessage());
        }
    }
}
