package io.github.hunyuanvideo.vae;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The full-size VAE's parameter names and shapes equal the official state dict (keys_full.json). */
class VaeKeysTest {
    @Test
    void fullModelParametersMatchTheOfficialStateDict() throws IOException {
        JsonNode vae = new ObjectMapper().readTree(ReferenceCase.dir().resolve("keys_full.json").toFile()).get("vae");
        Map<String, long[]> official = new LinkedHashMap<>();
        for (JsonNode k : vae.get("keys")) {
            long[] shape = new long[k.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = k.get("shape").get(i).asLong();
            }
            official.put(k.get("key").asText(), shape);
        }
        Map<String, long[]> ours = CausalVideoVae.expectedShapes(VaeConfig.fromJson(vae.get("config")));
        assertEquals(vae.get("num_tensors").asInt(), ours.size());
        assertEquals(official.keySet(), ours.keySet());
        official.forEach((name, shape) -> assertArrayEquals(shape, ours.get(name), name));
        long elements = ours.values().stream().mapToLong(s -> Arrays.stream(s).reduce(1, (a, b) -> a * b)).sum();
        assertEquals(vae.get("num_elements").asLong(), elements);
    }
}
