package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.vae.CausalVideoVae;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link HunyuanVideoSampler#predict(GenerationRequest, PromptEmbeddings, PromptEmbeddings, ProgressListener,
 * CancellationToken, DecodedFrameSink)} on the case {@code pipeline_tiny}'s models, tiled and long enough for three
 * temporal VAE tiles: the chunks are the classic call's videos bit for bit, cancellation stops between chunks, and a
 * sink's failure is the call's.
 */
class StreamedPredictTest {
    /** 29 frames: 8 latent frames, three temporal tiles of the case VAE's 16-frame tiles. */
    private static final int FRAMES = 29;
    /** One spatial tile of the case VAE: 32 pixels. */
    private static final int SIZE = 32;

    private static SamplerConfig config(Precision vaePrecision) throws IOException {
        return PipelineCase.load(ReferenceCase.dir()).config("cpu", Precision.FP32, vaePrecision).toBuilder()
                .vaeTiling(true).build();
    }

    private static GenerationRequest request() throws IOException {
        GenerationRequest r = PipelineCase.load(ReferenceCase.dir()).request();
        return GenerationRequest.builder(r.prompt()).size(SIZE, SIZE).videoLength(FRAMES).inferSteps(1).seed(r.seed())
                .build();
    }

    /** A sink that keeps a copy of each chunk (until {@link #close}) and what {@code begin} said. */
    private static final class Keeping implements DecodedFrameSink, AutoCloseable {
        final List<Tensor> chunks = new ArrayList<>();
        final List<Integer> firsts = new ArrayList<>();
        Videos videos;

        @Override
        public void begin(Videos v) {
            videos = v;
        }

        @Override
        public void accept(Tensor frames, int firstFrame) {
            // the sampler frees the chunk after this call
            chunks.add(Scopes.retained(frames.clone()));
            firsts.add(firstFrame);
        }

        @Override
        public void close() {
            chunks.forEach(Scopes::release);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"FP32", "FP16"})
    void chunksAreTheVideosOfTheClassicCallBitForBit(Precision vaePrecision) throws IOException {
        PipelineCase pipeline = PipelineCase.load(ReferenceCase.dir());
        SamplerConfig config = config(vaePrecision);
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); PointerScope scope = new PointerScope();
             HunyuanVideoSampler sampler = pipeline.sampler(config);
             SamplerResult classic = sampler.predict(request(), PipelineCase.embeddings(c.tensors()), null,
                     ProgressListener.NONE, CancellationToken.NONE)) {
            List<String> stages = new ArrayList<>();
            ProgressListener listener = new ProgressListener() {
                @Override
                public void onStep(int step, int total, Duration elapsed, Duration eta) {
                }

                @Override
                public void onStage(String stage) {
                    stages.add(stage);
                }
            };
            try (Keeping sink = new Keeping(); SamplerResult streamed = sampler.predict(request(), PipelineCase.embeddings(c.tensors()), null,
                    listener, CancellationToken.NONE, sink)) {
                assertEquals(3, sink.chunks.size(), "one chunk per temporal tile");
                int next = 0;
                for (int i = 0; i < sink.chunks.size(); i++) {
                    assertEquals(next, sink.firsts.get(i), "in order, without gaps");
                    next += (int) sink.chunks.get(i).size(2);
                }
                assertEquals(FRAMES, next);
                Tensor joined = torch.cat(new TensorArrayRef(new TensorVector(sink.chunks.toArray(Tensor[]::new))), 2);
                assertTrue(torch.equal(classic.videos(), joined), "chunks differ from the videos");
                assertEquals(torch.ScalarType.Float, joined.scalar_type().intern());

                assertEquals(new DecodedFrameSink.Videos(1, FRAMES, SIZE, SIZE, classic.seeds(), classic.prompts()),
                        sink.videos);
                assertFalse(streamed.hasVideos());
                assertTrue(classic.hasVideos());
                IllegalStateException e = assertThrows(IllegalStateException.class, streamed::videos);
                assertTrue(e.getMessage().contains("DecodedFrameSink"), e.getMessage());
                assertEquals(1, streamed.count());
                assertTrue(torch.equal(classic.latents(), streamed.latents()));
                assertEquals(classic.seeds(), streamed.seeds());
                assertEquals(List.of(GenerationCancelledException.Stage.DENOISING.id(),
                        GenerationCancelledException.Stage.VAE_DECODING.id()), stages);
            }
            // and both are what the sampler computed before it streamed: the whole decode, mapped in place on it
            try (CausalVideoVae vae = pipeline.vae(config); InferenceMode guard = new InferenceMode()) {
                Tensor whole = vae.decode(classic.latents().div(new Scalar(pipeline.vae().scalingFactor())));
                Tensor mapped = whole.div_(new Scalar(2.0)).add_(new Scalar(0.5))
                        .clamp_(new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar(1.0)))
                        .cpu().to(torch.ScalarType.Float);
                assertTrue(torch.equal(mapped, classic.videos()), "the videos differ from the whole decode");
            }
        }
    }

    @Test
    void cancelStopsBetweenChunks() throws IOException {
        PipelineCase pipeline = PipelineCase.load(ReferenceCase.dir());
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); PointerScope scope = new PointerScope();
             HunyuanVideoSampler sampler = pipeline.sampler(config(Precision.FP32))) {
            CancellationToken cancel = new CancellationToken();
            List<Integer> firsts = new ArrayList<>();
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                    () -> sampler.predict(request(), PipelineCase.embeddings(c.tensors()), null,
                            ProgressListener.NONE, cancel, (frames, first) -> {
                                firsts.add(first);
                                cancel.cancel();
                            }));
            assertEquals(GenerationCancelledException.Stage.VAE_DECODING, e.stage());
            assertEquals(List.of(0), firsts, "no chunk after the cancel");

            IOException full = new IOException("disk full");
            IOException thrown = assertThrows(IOException.class, () -> sampler.predict(request(),
                    PipelineCase.embeddings(c.tensors()), null, ProgressListener.NONE, CancellationToken.NONE,
                    (frames, first) -> {
                        throw full;
                    }));
            assertSame(full, thrown);
        }
    }
}
