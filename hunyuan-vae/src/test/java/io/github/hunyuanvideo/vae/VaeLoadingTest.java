package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading from the official file layout, key handling, and the early errors on bad checkpoints and inputs. */
class VaeLoadingTest {
    private static final Device CPU = new Device("cpu");

    private static ReferenceCase ref;

    @BeforeAll
    static void open() {
        ref = ReferenceCase.load("vae_tiny");
    }

    @AfterAll
    static void close() {
        ref.close();
    }

    /** pt/vae_tiny holds vae_tiny's weights as the official vae/pytorch_model.pt plus vae/config.json. */
    @Test
    void officialPtFolderDecodesLikeTheReference() throws IOException {
        Path dir = ReferenceCase.dir().resolve("pt").resolve("vae_tiny");
        try (CausalVideoVae vae = CausalVideoVae.fromPretrained(dir, CPU, ScalarType.Float);
             PointerScope scope = new PointerScope()) {
            assertEquals(VaeConfig.fromJson(ref.config()), vae.config());
            assertEquals(TilingConfig.of(vae.config()), vae.tiling());
            vae.setTiling(TilingConfig.disabled());
            ref.assertClose("out.decode_mean", vae.decode(ref.tensor("out.posterior_mean")), 1e-4);
        }
    }

    @Test
    void vaePrefixIsRemovedLikeTheOfficialLoader() {
        Weights plain = ref.modelWeights();
        Weights prefixed = plain.addPrefix("vae.");
        assertEquals(plain.names(), CausalVideoVae.canonicalNames(prefixed).names());
        assertEquals(plain.names(), CausalVideoVae.canonicalNames(plain).names());
        try (CausalVideoVae vae = CausalVideoVae.load(prefixed, VaeConfig.fromJson(ref.config()), CPU,
                ScalarType.Float)) {
            assertEquals(ScalarType.Float, vae.dtype());
        }
    }

    @Test
    void checkpointProblemsAreListedBeforeLoading() {
        VaeConfig config = VaeConfig.fromJson(ref.config());
        IllegalArgumentException extra = assertThrows(IllegalArgumentException.class,
                () -> CausalVideoVae.load(ref.tensors(), config, CPU, ScalarType.Float));
        assertTrue(extra.getMessage().contains("unexpected") && extra.getMessage().contains("in.x"),
                extra.getMessage());

        Weights withoutOne = ref.modelWeights()
                .rename(n -> n.equals("decoder.conv_out.conv.bias") ? null : n);
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> CausalVideoVae.load(withoutOne, config, CPU, ScalarType.Float));
        assertTrue(missing.getMessage().contains("lacks tensor 'decoder.conv_out.conv.bias'"), missing.getMessage());

        VaeConfig wider = new VaeConfig(config.inChannels(), config.outChannels(), config.latentChannels() * 2,
                config.blockOutChannels(), config.layersPerBlock(), config.normNumGroups(), config.sampleSize(),
                config.sampleTsize(), config.scalingFactor(), config.timeCompressionRatio(),
                config.spatialCompressionRatio(), config.midBlockAddAttention());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> CausalVideoVae.load(ref.modelWeights(), wider, CPU, ScalarType.Float));
        // the first tensor of the latent width, in module order
        assertTrue(shape.getMessage().contains("tensor 'encoder.conv_out.conv.weight' has shape"), shape.getMessage());
    }

    @Test
    void cpuBfloat16IsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CausalVideoVae.load(
                ref.modelWeights(), VaeConfig.fromJson(ref.config()), CPU, ScalarType.BFloat16));
        assertTrue(e.getMessage().contains("bf16"), e.getMessage());
    }

    @Test
    void missingFilesAreNamed(@TempDir Path dir) throws IOException {
        NoSuchFileException noDir = assertThrows(NoSuchFileException.class,
                () -> CausalVideoVae.fromPretrained(dir.resolve("vae"), CPU, ScalarType.Float));
        assertTrue(noDir.getMessage().contains(dir.resolve("vae").toString()));
        NoSuchFileException noConfig = assertThrows(NoSuchFileException.class,
                () -> CausalVideoVae.fromPretrained(dir, CPU, ScalarType.Float));
        assertTrue(noConfig.getMessage().contains("config.json"));
        Files.copy(ReferenceCase.dir().resolve("pt/vae_tiny/config.json"), dir.resolve("config.json"));
        NoSuchFileException noWeights = assertThrows(NoSuchFileException.class,
                () -> CausalVideoVae.fromPretrained(dir, CPU, ScalarType.Float));
        assertTrue(noWeights.getMessage().contains("pytorch_model.pt"), noWeights.getMessage());
        assertTrue(noWeights.getMessage().contains("diffusion_pytorch_model.safetensors"), noWeights.getMessage());
    }

    @Test
    void badInputsAreRejectedWithTheirShape() {
        VaeConfig config = VaeConfig.fromJson(ref.config());
        try (CausalVideoVae vae = CausalVideoVae.load(ref.modelWeights(), config, CPU, ScalarType.Float);
             PointerScope scope = new PointerScope()) {
            Tensor video = ref.tensor("in.x");
            int latent = config.latentChannels();
            Tensor wrongChannels = torch.zeros(1, latent + 1, 1, 1, 1);
            IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                    () -> vae.decode(wrongChannels));
            assertTrue(channels.getMessage().contains("latents must be [B, " + latent + ", T, H, W], got [1, "
                    + (latent + 1) + ", 1, 1, 1]"), channels.getMessage());
            Tensor ints = torch.zeros(new long[]{1, config.inChannels(), 1, 8, 8},
                    new org.bytedeco.pytorch.TensorOptions(ScalarType.Long));
            assertThrows(IllegalArgumentException.class, () -> vae.encode(ints));
            assertThrows(IllegalArgumentException.class, () -> vae.encode(video.select(0, 0)));
        }
    }
}
