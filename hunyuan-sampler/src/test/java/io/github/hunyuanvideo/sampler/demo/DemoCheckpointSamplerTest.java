package io.github.hunyuanvideo.sampler.demo;

import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.sampler.HunyuanVideoSampler;
import io.github.hunyuanvideo.sampler.SamplerConfig;
import io.github.hunyuanvideo.sampler.SamplerResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The public demo checkpoint is a model like any other: the default configuration loads it and generates. */
class DemoCheckpointSamplerTest {
    @Test
    void defaultConfigurationGeneratesFromTheDemoModel(@TempDir Path tmp) throws IOException {
        Path model = DemoCheckpoint.ensure(tmp.resolve("demo"));
        // every default but the device: the model's widths come from its own config files
        SamplerConfig config = SamplerConfig.defaults().toBuilder().device("cpu").build();
        try (HunyuanVideoSampler sampler = HunyuanVideoSampler.fromPretrained(model, config);
             SamplerResult r = sampler.predict(sampler.request("a cat").size(64, 96).videoLength(5).inferSteps(2)
                     .seed(3L).build())) {
            assertArrayEquals(new long[]{1, 3, 5, 64, 96}, Tensors.shape(r.videos()));
            float[] v = Tensors.toFloatArray(r.videos());
            double min = Double.MAX_VALUE;
            double max = -Double.MAX_VALUE;
            for (float x : v) {
                min = Math.min(min, x);
                max = Math.max(max, x);
            }
            assertTrue(min >= 0 && max <= 1 && max > min, "video in [0, 1] and not constant: " + min + ".." + max);
        }
    }
}
