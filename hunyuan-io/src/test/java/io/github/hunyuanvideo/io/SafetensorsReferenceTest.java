package io.github.hunyuanvideo.io;

import io.github.hunyuanvideo.nn.Tensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every golden .safetensors loads, and its shapes and dtypes agree with the JSON beside it. */
class SafetensorsReferenceTest {
    static Stream<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(ReferenceCase.dir())) {
            return s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("files")
    void loadsAndMatchesJson(Path file) throws IOException {
        String base = file.getFileName().toString().replace(".safetensors", "");
        JsonNode json = new ObjectMapper().readTree(file.resolveSibling(base + ".json").toFile());
        JsonNode declared = json.get("tensors");
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(declared.size(), st.names().size(), "tensor count of " + file);
            Iterator<Map.Entry<String, JsonNode>> it = declared.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                TensorInfo info = st.info(e.getKey());
                assertTrue(info != null, e.getKey() + " missing from " + file);
                long[] shape = new ObjectMapper().convertValue(e.getValue().get("shape"), long[].class);
                assertArrayEquals(shape, info.shape(), e.getKey());
                assertEquals(DType.fromTorchName(e.getValue().get("dtype").asText()), info.dtype(), e.getKey());
                Tensor t = st.tensor(e.getKey());
                assertArrayEquals(shape, Tensors.shape(t), e.getKey());
                assertEquals(info.dtype().scalarType(), t.scalar_type().intern(), e.getKey());
            }
        }
    }
}
