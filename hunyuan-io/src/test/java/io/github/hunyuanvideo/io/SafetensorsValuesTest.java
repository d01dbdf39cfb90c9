package io.github.hunyuanvideo.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The zero-copy views hand out exactly the bytes the header points at: each tensor is compared with the file's bytes
 * read independently (header parsed here by offsets only).
 */
class SafetensorsValuesTest {
    static Stream<Path> files() throws IOException {
        Path pt = ReferenceCase.dir().resolve("pt");
        try (Stream<Path> a = Files.list(ReferenceCase.dir()); Stream<Path> b = Files.list(pt)) {
            return Stream.concat(a, b).filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted()
                    .toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("files")
    void viewsMatchFileBytes(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long headerLen = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int dataStart = (int) (8 + headerLen);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            JsonNode header = new ObjectMapper().readTree(Arrays.copyOfRange(all, 8, dataStart));
            for (String name : st.names()) {
                int begin = header.get(name).get("data_offsets").get(0).asInt();
                int end = header.get(name).get("data_offsets").get(1).asInt();
                assertArrayEquals(Arrays.copyOfRange(all, dataStart + begin, dataStart + end),
                        TensorBytes.of(st.tensor(name)), file.getFileName() + ": " + name);
            }
        }
    }
}
