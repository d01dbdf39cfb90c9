package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.CancelledException;
import io.github.hunyuanvideo.nn.Precision;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Cancelling {@code pipeline_tiny} (its real DiT and VAE) once the VAE decode has begun. */
class SamplerCancellationTest {
    @Test
    void cancelDuringVaeDecodingStopsInTheVaeAndNamesTheStage() throws IOException {
        PipelineCase pipeline = PipelineCase.load(ReferenceCase.dir());
        SamplerConfig tiled = pipeline.config("cpu", Precision.FP32, Precision.FP32).toBuilder().vaeTiling(true)
                .build();
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); PointerScope scope = new PointerScope();
             HunyuanVideoSampler sampler = pipeline.sampler(tiled)) {
            GenerationRequest request = pipeline.request();
            PromptEmbeddings embeddings = PipelineCase.embeddings(c.tensors());
            CancellationToken token = new CancellationToken();
            List<String> stages = new ArrayList<>();
            int[] stepsDone = {0};
            ProgressListener cancelOnDecoding = new ProgressListener() {
                @Override
                public void onStep(int step, int total, Duration elapsed, Duration eta) {
                    stepsDone[0] = step;
                }

                @Override
                public void onStage(String stage) {
                    stages.add(stage);
                    if (stage.equals("vae-decoding")) {
                        token.cancel();
                    }
                }
            };
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                    () -> sampler.predict(request, embeddings, null, cancelOnDecoding, token));
            assertEquals(GenerationCancelledException.Stage.VAE_DECODING, e.stage());
            assertEquals(List.of("denoising", "vae-decoding"), stages);
            assertEquals(request.inferSteps(), stepsDone[0], "every step ran before the decode");
            // The VAE's own check stopped it, before the first of its tiles: the case's 8 × 8 latents in the default
            // tiles of this VAE (32 px = 4 latents, every 3) are 3 × 3 tiles, its 3 latent frames one temporal tile.
            assertInstanceOf(CancelledException.class, e.getCause());
            assertEquals("generation cancelled during VAE decoding, after 0 of 9 tiles", e.getMessage());

            // nothing of the cancelled call is left in the way: the sampler generates again
            try (SamplerResult r = sampler.predict(request, embeddings, null, ProgressListener.NONE,
                    CancellationToken.NONE)) {
                c.assertClose("out.latents", r.latents(), 1e-4);
            }
        }
    }
}
