package io.github.hunyuanvideo.sampler;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InitialNoiseTest {
    @Test
    void pipelineTinyLatentsComeFromTheSeededCpuGenerator() {
        try (ReferenceCase c = ReferenceCase.load("pipeline_tiny"); PointerScope scope = new PointerScope()) {
            JsonNode cfg = c.config();
            long[] shape = new long[cfg.get("latent_shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = cfg.get("latent_shape").get(i).asLong();
            }
            Tensor noise = InitialNoise.draw(List.of(cfg.get("latents_seed").asLong()), shape, new Device("cpu"),
                    ScalarType.Float);
            assertEquals(0.0, c.assertClose("in.latents", noise, 0.0));
        }
    }

    @Test
    void videosGetTheirOwnGeneratorsConcatenatedInSeedOrder() {
        try (PointerScope scope = new PointerScope()) {
            long[] shape = {1, 2, 1, 3, 3};
            Device cpu = new Device("cpu");
            Tensor both = InitialNoise.draw(List.of(5L, 6L), shape, cpu, ScalarType.Float);
            Tensor a = InitialNoise.drawOne(5, shape, cpu, ScalarType.Float);
            Tensor b = InitialNoise.drawOne(6, shape, cpu, ScalarType.Float);
            assertTrue(both.select(0, 0).equal(a.select(0, 0)));
            assertTrue(both.select(0, 1).equal(b.select(0, 0)));
        }
    }
}
