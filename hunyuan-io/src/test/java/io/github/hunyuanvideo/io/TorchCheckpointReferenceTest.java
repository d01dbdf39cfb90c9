package io.github.hunyuanvideo.io;

import io.github.hunyuanvideo.nn.Tensors;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The torch.save fixtures of {@code reference/pt} load equal, bit for bit, to their safetensors twins. */
class TorchCheckpointReferenceTest {
    private static Path pt(String name) {
        return ReferenceCase.dir().resolve("pt").resolve(name);
    }

    /** Asserts both sources hold {@code names} with equal dtype, shape and element bytes. */
    private static void assertSameTensors(Set<String> names, TensorSource actual, TensorSource expected) {
        for (String n : names) {
            TensorInfo a = actual.info(n);
            TensorInfo e = expected.info(n);
            assertEquals(e.dtype(), a.dtype(), n);
            assertArrayEquals(e.shape(), a.shape(), n);
            Tensor t = actual.tensor(n);
            assertEquals(a.dtype().scalarType(), t.scalar_type().intern(), n);
            assertArrayEquals(a.shape(), Tensors.shape(t), n);
            assertArrayEquals(TensorBytes.of(expected.tensor(n)), TensorBytes.of(t), n);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bare.pt", "wrapped_module.pt", "wrapped_state_dict.pt"})
    void genericStateDictEqualsTwin(String file) throws IOException {
        try (TorchCheckpoint ck = TorchCheckpoint.open(pt(file));
             SafetensorsFile twin = SafetensorsFile.open(pt("generic.twin.safetensors"))) {
            assertEquals(new TreeSet<>(twin.names()), new TreeSet<>(ck.names()));
            assertSameTensors(twin.names(), ck, twin);
            assertEquals(DType.BF16, ck.info("bf16").dtype());
            assertEquals(DType.F8_E4M3, ck.info("f8_e4m3").dtype());
            assertEquals(DType.F8_E5M2, ck.info("f8_e5m2").dtype());
        }
    }

    @Test
    void nonContiguousViewsKeepTheirStrides() throws IOException {
        try (TorchCheckpoint ck = TorchCheckpoint.open(pt("bare.pt"))) {
            // Strides as pickled by torch.save (see pickletools on bare/data.pkl): x[:, ::2] and x.t().
            Tensor cols = ck.tensor("noncontig_cols");
            assertFalse(cols.is_contiguous());
            assertEquals(6, cols.stride(0));
            assertEquals(2, cols.stride(1));
            Tensor tr = ck.tensor("transposed");
            assertFalse(tr.is_contiguous());
            assertEquals(1, tr.stride(0));
            assertEquals(5, tr.stride(1));
        }
    }

    @Test
    void viewsOfOneStorageShareItsMemory() throws IOException {
        try (TorchCheckpoint ck = TorchCheckpoint.open(pt("bare.pt"))) {
            Tensor a = ck.tensor("shared_a");
            Tensor b = ck.tensor("shared_b");
            // shared_a starts two float32 elements into the storage that shared_b starts at.
            assertEquals(2, a.storage_offset() - b.storage_offset());
            assertEquals(2L * 4, a.data_ptr().address() - b.data_ptr().address());
            assertTrue(torch.equal(a, b.reshape(-1).narrow(0, 2, 4)));
        }
    }

    @Test
    void parametersEqualTwin() throws IOException {
        try (TorchCheckpoint ck = TorchCheckpoint.open(pt("parameters.pt"));
             SafetensorsFile twin = SafetensorsFile.open(pt("parameters.twin.safetensors"))) {
            assertEquals(twin.names(), ck.names());
            assertSameTensors(twin.names(), ck, twin);
        }
    }

    @Test
    void loadKeySelectsTheDict() throws IOException {
        try (TorchCheckpoint root = TorchCheckpoint.open(pt("wrapped_module.pt"), null);
             TorchCheckpoint module = TorchCheckpoint.open(pt("wrapped_module.pt"), "module");
             TorchCheckpoint bare = TorchCheckpoint.open(pt("bare.pt"), null)) {
            assertTrue(root.names().isEmpty(), "the wrapper itself holds no tensors");
            assertEquals(bare.names(), module.names());
        }
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> TorchCheckpoint.open(pt("wrapped_module.pt"), "ema"));
        assertTrue(e.getMessage().contains("'ema'"), e.getMessage());
    }

    /** The weights (not the in/mid/out tensors) of a golden case. */
    private static Set<String> weightNames(TensorSource golden) {
        return golden.names().stream().filter(n -> !n.startsWith("in.") && !n.startsWith("mid.")
                && !n.startsWith("out.")).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void officialDitFileEqualsGoldenWeights() throws IOException {
        try (TorchCheckpoint ck = TorchCheckpoint.open(pt("dit_tiny_module.pt"));
             SafetensorsFile golden = SafetensorsFile.open(ReferenceCase.dir().resolve("dit_tiny.safetensors"))) {
            assertEquals(weightNames(golden), new TreeSet<>(ck.names()));
            assertSameTensors(ck.names(), ck, golden);
        }
    }

    @Test
    void officialVaeFileEqualsGoldenWeights() throws IOException {
        try (Weights w = Weights.open(pt("vae_tiny").resolve("pytorch_model.pt"));
             TorchCheckpoint ck = TorchCheckpoint.open(pt("vae_tiny").resolve("pytorch_model.pt"));
             SafetensorsFile golden = SafetensorsFile.open(ReferenceCase.dir().resolve("vae_tiny.safetensors"))) {
            assertEquals(weightNames(golden), new TreeSet<>(ck.names()));
            assertEquals(ck.names(), w.names());
            assertSameTensors(ck.names(), ck, golden);
        }
    }

    @Test
    void fp8CheckpointHoldsScaledFloat8BlockLinears() throws IOException {
        try (TorchCheckpoint fp8 = TorchCheckpoint.open(pt("dit_tiny_fp8.pt"));
             TorchCheckpoint map = TorchCheckpoint.open(pt("dit_tiny_fp8_map.pt"));
             SafetensorsFile golden = SafetensorsFile.open(ReferenceCase.dir().resolve("dit_tiny.safetensors"))) {
            assertEquals(weightNames(golden), new TreeSet<>(fp8.names()));
            Set<String> float8 = fp8.names().stream().filter(n -> fp8.info(n).dtype() == DType.F8_E4M3)
                    .collect(Collectors.toCollection(TreeSet::new));
            int layers = ReferenceCase.load("pt/dit_tiny_fp8").json().get("fp8_layers").asInt();
            assertEquals(layers, float8.size());
            assertEquals(float8, map.names().stream().map(n -> n + ".weight")
                    .collect(Collectors.toCollection(TreeSet::new)));
            for (String n : float8) {
                assertTrue(n.startsWith("double_blocks.") || n.startsWith("single_blocks."), n);
                assertArrayEquals(golden.info(n).shape(), fp8.info(n).shape(), n);
                String layer = n.substring(0, n.length() - ".weight".length());
                assertEquals(0, map.info(layer).shape().length, layer);
                // Dequantised as the official forward does: weight.to(dtype) * scale (e4m3 keeps 3 mantissa bits).
                Tensor deq = fp8.tensor(n).to(torch.ScalarType.Float).mul(map.tensor(layer));
                double err = Tensors.relativeError(deq, golden.tensor(n));
                assertTrue(err < 0.07, n + " dequantised relative error " + err);
            }
            Set<String> rest = new TreeSet<>(fp8.names());
            rest.removeAll(float8);
            assertSameTensors(rest, fp8, golden);
        }
    }

    @Test
    void weightsOpenDispatchesTorchFiles() throws IOException {
        try (Weights w = Weights.open(pt("wrapped_state_dict.pt"));
             SafetensorsFile twin = SafetensorsFile.open(pt("generic.twin.safetensors"))) {
            assertEquals(new TreeSet<>(twin.names()), new TreeSet<>(w.names()));
            assertArrayEquals(TensorBytes.of(twin.tensor("transposed")), TensorBytes.of(w.get("transposed")));
        }
        try (Weights dir = Weights.open(pt("vae_tiny"))) {
            assertTrue(dir.contains("decoder.conv_in.conv.weight"));
        }
    }

    @Test
    void maliciousPickleIsRefusedByNameWithoutSideEffect() {
        Path marker = Paths.get("/tmp/hunyuan_pwned_by_pickle");
        assertFalse(Files.exists(marker), "marker exists before the test: " + marker);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> TorchCheckpoint.open(pt("malicious.pt")));
        assertTrue(e.getMessage().contains("'posix.system'"), e.getMessage());
        assertThrows(CheckpointFormatException.class, () -> Weights.open(pt("malicious.pt")));
        assertFalse(Files.exists(marker), "the pickle's payload ran");
    }
}
