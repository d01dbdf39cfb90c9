package io.github.hunyuanvideo.io;

import io.github.hunyuanvideo.nn.Tensors;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsEveryDtypeShapeAndMetadata() throws IOException {
        float[] values = {0.5f, -1.25f, 3f, 1e-3f, -7f, 42f};
        Tensor f32 = Tensors.fromFloats(values, 2, 3);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("z.f32", f32);
        tensors.put("a.bf16", f32.to(torch.ScalarType.BFloat16));
        tensors.put("m.f16", f32.to(torch.ScalarType.Half));
        tensors.put("i64", Tensors.fromLongs(new long[]{1, -2, 3}, 3));
        tensors.put("transposed", f32.t());
        tensors.put("scalar", Tensors.fromFloats(new float[]{9f}));
        tensors.put("empty", torch.zeros(0, 4));
        Path file = dir.resolve("sub/w.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("a.bf16", "empty", "i64", "m.f16", "scalar", "transposed", "z.f32"),
                    List.copyOf(f.names()));
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(DType.BF16, f.info("a.bf16").dtype());
            assertEquals(DType.F16, f.info("m.f16").dtype());
            assertEquals(DType.I64, f.info("i64").dtype());
            assertArrayEquals(values, Tensors.toFloatArray(f.tensor("z.f32")));
            assertArrayEquals(Tensors.toFloatArray(f32.to(torch.ScalarType.BFloat16)),
                    Tensors.toFloatArray(f.tensor("a.bf16")));
            assertArrayEquals(Tensors.toFloatArray(f32.to(torch.ScalarType.Half)),
                    Tensors.toFloatArray(f.tensor("m.f16")));
            assertArrayEquals(new long[]{1, -2, 3}, Tensors.toLongArray(f.tensor("i64")));
            assertArrayEquals(new long[]{3, 2}, f.info("transposed").shape());
            assertArrayEquals(Tensors.toFloatArray(f32.t()), Tensors.toFloatArray(f.tensor("transposed")));
            assertArrayEquals(new long[0], f.info("scalar").shape());
            assertArrayEquals(new long[]{0, 4}, f.info("empty").shape());
        }
        // header length is a multiple of 8 and no temporary file is left
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, b.getLong(0) % 8);
        try (Stream<Path> s = Files.list(file.getParent())) {
            assertEquals(1, s.count());
        }
    }

    @Test
    void rejectsReservedNames() {
        Tensor t = Tensors.fromFloats(new float[]{1f}, 1);
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(dir.resolve("x.safetensors"), Map.of("__metadata__", t), null));
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(dir.resolve("x.safetensors"), Map.of("", t), null));
    }
}
