package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.DitCheckpoint;
import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.DitInputs;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code useFp8}: the official FP8 checkpoint and scale map, found by the layout and dequantized on load. */
class Fp8CheckpointTest {
    @Test
    void fp8CheckpointGivesTheOfficialFp8Forward(@TempDir Path root) throws IOException {
        Path pt = ReferenceCase.dir().resolve("pt");
        Path transformers = root.resolve("hunyuan-video-t2v-720p/transformers");
        Files.createDirectories(transformers);
        Files.createDirectories(root.resolve("hunyuan-video-t2v-720p/vae"));
        Files.copy(pt.resolve("dit_tiny_fp8.pt"), transformers.resolve("mp_rank_00_model_states_fp8.pt"));
        Files.copy(pt.resolve("dit_tiny_fp8_map.pt"), transformers.resolve("mp_rank_00_model_states_fp8_map.pt"));
        Files.copy(pt.resolve("vae_tiny/config.json"), root.resolve("hunyuan-video-t2v-720p/vae/config.json"));
        Files.copy(pt.resolve("vae_tiny/pytorch_model.pt"),
                root.resolve("hunyuan-video-t2v-720p/vae/pytorch_model.pt"));
        try (ReferenceCase c = ReferenceCase.load("dit_tiny");
             Weights expected = Weights.open(pt.resolve("dit_tiny_fp8.safetensors"));
             PointerScope scope = new PointerScope()) {
            DitConfig dit = DitConfig.fromJson(c.config());
            SamplerConfig config = SamplerConfig.builder().useFp8(true).precision(Precision.FP32).ditConfig(dit)
                    .device("cpu").loadTextEncoders(false).build();
            CheckpointLayout layout = CheckpointLayout.resolve(root, config);
            try (HunyuanVideoTransformer model = DitCheckpoint.loadFp8(layout.ditWeights(), layout.ditFp8Map(), dit,
                    new Device("cpu"), ScalarType.Float, config.loadKey())) {
                Tensor out = model.forward(new DitInputs(c.tensor("in.x"), c.tensor("in.t"),
                        c.tensor("in.text_states"), c.tensor("in.text_mask"), c.tensor("in.text_states_2"),
                        c.tensor("in.guidance")));
                double err = Tensors.relativeError(out, expected.get("out.x"));
                assertTrue(err <= 1e-4, "FP8 forward relative error " + err);
                // And it is the FP8 model, not the float32 one (they differ by ~4e-2).
                assertTrue(c.assertClose("out.x", out, 1.0) > 1e-3);
            }
        }
    }
}
