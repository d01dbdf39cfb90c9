package io.github.hunyuanvideo.vae;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VaeConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The official config.json of the full model, as recorded in keys_full.json. */
    private static JsonNode officialJson() throws IOException {
        return JSON.readTree(ReferenceCase.dir().resolve("keys_full.json").toFile()).get("vae").get("config");
    }

    @Test
    void officialDefaultsMatchTheOfficialConfigFile() throws IOException {
        assertEquals(VaeConfig.official(), VaeConfig.fromJson(officialJson()));
        assertEquals(0.476986, VaeConfig.official().scalingFactor());
    }

    /** The diffusers AutoencoderKLHunyuanVideo config.json: other block names, temporal_compression_ratio. */
    @Test
    void readsTheDiffusersConfig(@TempDir Path dir) throws IOException {
        String diffusers = """
                {"_class_name": "AutoencoderKLHunyuanVideo", "act_fn": "silu",
                 "block_out_channels": [128, 256, 512, 512],
                 "down_block_types": ["HunyuanVideoDownBlock3D", "HunyuanVideoDownBlock3D",
                                      "HunyuanVideoDownBlock3D", "HunyuanVideoDownBlock3D"],
                 "up_block_types": ["HunyuanVideoUpBlock3D", "HunyuanVideoUpBlock3D",
                                    "HunyuanVideoUpBlock3D", "HunyuanVideoUpBlock3D"],
                 "in_channels": 3, "out_channels": 3, "latent_channels": 16, "layers_per_block": 2,
                 "mid_block_add_attention": true, "norm_num_groups": 32, "scaling_factor": 0.476986,
                 "spatial_compression_ratio": 8, "temporal_compression_ratio": 4}""";
        Path file = dir.resolve("config.json");
        Files.writeString(file, diffusers);
        assertEquals(VaeConfig.official(), VaeConfig.fromJson(file));
    }

    @Test
    void rejectsWhatTheOfficialCodeCannotRun() throws IOException {
        ObjectNode time = officialJson().deepCopy();
        time.put("time_compression_ratio", 8);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VaeConfig.fromJson(time)).getMessage()
                .contains("time_compression_ratio"));
        ObjectNode block = officialJson().deepCopy();
        ((com.fasterxml.jackson.databind.node.ArrayNode) block.get("up_block_types")).set(0, "UpBlock2D");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VaeConfig.fromJson(block)).getMessage()
                .contains("UpBlock2D"));
        ObjectNode shift = officialJson().deepCopy();
        shift.put("shift_factor", 0.5);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VaeConfig.fromJson(shift)).getMessage()
                .contains("shift_factor"));
        ObjectNode groups = officialJson().deepCopy();
        groups.put("norm_num_groups", 48);
        assertThrows(IllegalArgumentException.class, () -> VaeConfig.fromJson(groups));
    }

    @Test
    void missingFileIsNamed(@TempDir Path dir) {
        Path missing = dir.resolve("config.json");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> VaeConfig.fromJson(missing));
        assertTrue(e.getMessage().contains(missing.toString()));
    }

    /**
     * 129 × 720 × 1280 ↔ 33 × 90 × 160, and the time/space stride rules per block of {@code EncoderCausal3D} /
     * {@code DecoderCausal3D}.
     */
    @Test
    void compressionArithmetic() {
        VaeConfig c = VaeConfig.official();
        assertEquals(33, c.latentFrames(129));
        assertEquals(90, c.latentSize(720));
        assertEquals(160, c.latentSize(1280));
        assertEquals(129, c.decodedFrames(33));
        assertEquals(720, c.decodedSize(90));
        assertEquals(1, c.latentFrames(1));
        boolean[] space = {true, true, true, false};
        boolean[] time = {false, true, true, false};
        for (int i = 0; i < 4; i++) {
            assertEquals(space[i], c.scalesSpace(i), "block " + i);
            assertEquals(time[i], c.scalesTime(i), "block " + i);
        }
    }

    /**
     * {@code AutoencoderKLCausal3D.__init__} + {@code enable_tiling()}: 256 px → 32 latent, 64 frames → 16 latent,
     * overlap 0.25, both tilings on.
     */
    @Test
    void officialTiling() {
        VaeConfig c = VaeConfig.official();
        TilingConfig t = TilingConfig.of(c);
        assertEquals(TilingConfig.official(), t);
        assertEquals(32, t.latentTileSize(c));
        assertEquals(16, t.latentTileFrames(c));
        assertThrows(IllegalArgumentException.class, () -> new TilingConfig(256, 64, 1.0, true, true));
        assertThrows(IllegalArgumentException.class, () -> new TilingConfig(0, 64, 0.25, true, true));
    }
}
