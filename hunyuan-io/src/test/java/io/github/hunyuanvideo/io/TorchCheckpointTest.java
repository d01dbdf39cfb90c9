package io.github.hunyuanvideo.io;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Pickle features, archive layouts and failure modes of {@link TorchCheckpoint}, on archives built here. */
class TorchCheckpointTest {
    @TempDir
    Path tmp;

    private static Path fixture(String name) {
        return ReferenceCase.dir().resolve("pt").resolve(name);
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    /** The entries of a fixture archive, in order (read with java.util.zip, independently of the reader). */
    static Map<String, byte[]> entries(Path zip) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            for (ZipEntry e : Collections.list(z.entries())) {
                out.put(e.getName(), z.getInputStream(e).readAllBytes());
            }
        }
        return out;
    }

    private static void assertEqualsTwin(Path archive) throws IOException {
        try (TorchCheckpoint ck = TorchCheckpoint.open(archive);
             SafetensorsFile twin = SafetensorsFile.open(fixture("generic.twin.safetensors"))) {
            assertEquals(new TreeSet<>(twin.names()), new TreeSet<>(ck.names()));
            for (String n : twin.names()) {
                assertArrayEquals(TensorBytes.of(twin.tensor(n)), TensorBytes.of(ck.tensor(n)), n);
            }
        }
    }

    @Test
    void protocol4OpcodesMemoAndSharedStorage() throws IOException {
        PickleWriter body = new PickleWriter();
        body.op('}').op(0x94).mark().shortStr("w").op(0x94)
                .stackGlobal("torch._utils", "_rebuild_tensor_v2").op(0x94).mark()
                .mark().shortStr("storage").stackGlobal("torch", "FloatStorage").shortStr("0").shortStr("cpu")
                .integer(6).op('t').op('Q')
                .integer(0).tuple(2, 3).tuple(3, 1).op(0x89)
                .stackGlobal("collections", "OrderedDict").op(')').op('R').op('t').op('R')
                // "w_t": the same storage seen transposed, through the memoised rebuild function (memo 2).
                .shortStr("w_t").op('h').op(2).mark()
                .mark().shortStr("storage").stackGlobal("torch", "FloatStorage").shortStr("0").shortStr("cpu")
                .integer(6).op('t').op('Q')
                .integer(0).tuple(3, 2).tuple(1, 3).op(0x89).op('}').op('t').op('R')
                .op('u').op('.');
        byte[] b = body.bytes();
        byte[] pickle = new PickleWriter().proto(4).op(0x95).le64(b.length).raw(b).bytes();
        Path p = tmp.resolve("p4.pt");
        TorchZipWriter.write(p, "p4", pickle, Map.of("0", floats(0, 1, 2, 3, 4, 5)), false);
        try (TorchCheckpoint ck = TorchCheckpoint.open(p)) {
            assertEquals(List.of("w", "w_t"), List.copyOf(ck.names()));
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, Tensors.toFloatArray(ck.tensor("w")));
            assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, Tensors.toFloatArray(ck.tensor("w_t")));
            assertEquals(ck.tensor("w").data_ptr().address(), ck.tensor("w_t").data_ptr().address());
        }
    }

    /** A DeepSpeed-style wrapper with non-tensor entries, a state dict carrying _metadata, and parameter forms. */
    @Test
    void wrapperWithMetadataAndPlainValues() throws IOException {
        PickleWriter w = new PickleWriter().proto(2).op('}').mark();
        w.str("module").orderedDict().mark()
                .str("a").tensorV2("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1})
                .str("b").global("torch._utils", "_rebuild_parameter_with_state").mark()
                .tensorV2("FloatStorage", "0", 4, 1, new long[] {2}, new long[] {1})
                .op(0x88).orderedDict().op('}').op('t').op('R')
                .str("c").global("torch._tensor", "_rebuild_from_type_v2").mark()
                .global("torch._utils", "_rebuild_tensor_v2").global("torch", "Tensor").mark()
                .persistentStorage("HalfStorage", "1", 2).integer(0).tuple(2).tuple(1).op(0x89).orderedDict()
                .op('t').op('}').op('t').op('R')
                .op('u')
                // state_dict()._metadata arrives through BUILD with the OrderedDict's __dict__.
                .op('}').str("_metadata").orderedDict().str("").op('}').str("version").integer(1).op('s').op('s')
                .op('s').op('b');
        w.str("param_shapes").op(']').orderedDict().str("a").global("torch", "Size").tuple(4).op(0x85).op('R')
                .op('s').op('a');
        w.str("ds_version").str("0.9.5");
        w.str("lr").op('G').raw(ByteBuffer.allocate(8).putDouble(1e-4).array());
        w.str("big").op(0x8a).op(9).raw(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 1});
        w.str("none").op('N');
        w.str("tags").global("builtins", "set").op(']').mark().str("x").str("y").op('e').op(0x85).op('R');
        w.str("blob").global("_codecs", "encode").str("ab").str("latin1").op(0x86).op('R');
        w.op('u').op('.');
        Path p = tmp.resolve("ds.pt");
        ByteBuffer half = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3C00)
                .putShort((short) 0xC000);
        Map<String, byte[]> storages = new LinkedHashMap<>();
        storages.put("0", floats(1, 2, 3, 4));
        storages.put("1", half.array());
        TorchZipWriter.write(p, "ds", w.bytes(), storages, false);
        try (TorchCheckpoint ck = TorchCheckpoint.open(p); TorchCheckpoint root = TorchCheckpoint.open(p, null)) {
            assertEquals(List.of("a", "b", "c"), List.copyOf(ck.names()));
            assertArrayEquals(new float[] {2, 3}, Tensors.toFloatArray(ck.tensor("b")));
            assertEquals(DType.F16, ck.info("c").dtype());
            assertArrayEquals(new float[] {1, -2}, Tensors.toFloatArray(ck.tensor("c")));
            assertEquals(Set.of(), root.names());
        }
    }

    static List<Arguments> refusedGlobals() {
        return List.of(
                Arguments.of("os.system", new PickleWriter().proto(2).global("os", "system")),
                Arguments.of("builtins.eval", new PickleWriter().proto(2).global("builtins", "eval")),
                Arguments.of("subprocess.Popen", new PickleWriter().proto(4).stackGlobal("subprocess", "Popen")),
                Arguments.of("torch.load", new PickleWriter().proto(2).global("torch", "load")),
                Arguments.of("numpy.core.multiarray._reconstruct",
                        new PickleWriter().proto(2).global("numpy.core.multiarray", "_reconstruct")),
                Arguments.of("torch._utils._rebuild_device_tensor_from_numpy",
                        new PickleWriter().proto(2).global("torch._utils", "_rebuild_device_tensor_from_numpy")),
                Arguments.of("posix.system", new PickleWriter().proto(2).mark().str("touch /tmp/x")
                        .op('i').raw("posix\nsystem\n".getBytes(StandardCharsets.US_ASCII))));
    }

    @ParameterizedTest
    @MethodSource("refusedGlobals")
    void globalsOffTheListAreRefusedByName(String name, PickleWriter pickle) {
        byte[] bytes = pickle.op(')').op('R').op('.').bytes();
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> RestrictedUnpickler.load(tmp, bytes, pid -> {
                    throw new AssertionError("no storage expected");
                }));
        assertTrue(e.getMessage().contains("'" + name + "'"), e.getMessage());
    }

    @Test
    void extensionRegistryIsRefused() {
        byte[] bytes = new PickleWriter().proto(2).op(0x82).op(1).op(')').op('R').op('.').bytes();
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> RestrictedUnpickler.load(tmp, bytes, pid -> null));
        assertTrue(e.getMessage().contains("extension"), e.getMessage());
    }

    /** A length-honest pickle that only multiplies references still cannot claim unbounded heap. */
    @Test
    void valueBudgetStopsAmplification() {
        byte[] bytes = new byte[(int) RestrictedUnpickler.MAX_OBJECTS + 8];
        Arrays.fill(bytes, (byte) '2');
        bytes[0] = (byte) 0x80;
        bytes[1] = 2;
        bytes[2] = ']';
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> RestrictedUnpickler.load(tmp, bytes, pid -> null));
        assertTrue(e.getMessage().contains("builds more than"), e.getMessage());
    }

    @Test
    void compressedStoragesAreRefused() throws IOException {
        Path p = tmp.resolve("deflated.pt");
        try (OutputStream os = Files.newOutputStream(p); ZipOutputStream z = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries(fixture("bare.pt")).entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TorchCheckpoint.open(p));
        assertTrue(e.getMessage().contains("compressed"), e.getMessage());
    }

    /** java.util.zip's stored layout has no alignment padding: misaligned storages are copied, values agree. */
    @Test
    void unalignedStoredArchiveLoads() throws IOException {
        Path p = tmp.resolve("stored.pt");
        try (OutputStream os = Files.newOutputStream(p); ZipOutputStream z = new ZipOutputStream(os)) {
            z.setMethod(ZipOutputStream.STORED);
            for (Map.Entry<String, byte[]> e : entries(fixture("bare.pt")).entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                ze.setSize(e.getValue().length);
                ze.setCompressedSize(e.getValue().length);
                ze.setCrc(crc.getValue());
                ze.setComment("c");
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
            z.setComment("archive comment");
        }
        assertEqualsTwin(p);
    }

    @Test
    void zip64RecordsAreRead() throws IOException {
        Path p = tmp.resolve("zip64.pt");
        try (TorchZipWriter w = new TorchZipWriter(p, true)) {
            for (Map.Entry<String, byte[]> e : entries(fixture("wrapped_module.pt")).entrySet()) {
                w.add(e.getKey(), e.getValue());
            }
        }
        assertEqualsTwin(p);
    }

    /** An archive over 4 GB (sparse: the zeros are holes) whose second storage starts beyond 4 GiB. */
    @Test
    void archiveOver4GB() throws IOException {
        assumeTrue(Files.getFileStore(tmp).getUsableSpace() > (8L << 30), "needs room for a sparse 4.3 GB file");
        long bigElements = (4L << 30) / 4 + 1024;
        PickleWriter w = new PickleWriter().proto(2).orderedDict().mark()
                .str("big_tail").tensorV2("FloatStorage", "0", bigElements, bigElements - 2, new long[] {2},
                        new long[] {1})
                .str("after").tensorV2("FloatStorage", "1", 3, 0, new long[] {3}, new long[] {1})
                .op('u').op('.');
        Path p = tmp.resolve("huge.pt");
        try (TorchZipWriter z = new TorchZipWriter(p, false)) {
            z.add("huge/data.pkl", w.bytes());
            z.addSparse("huge/data/0", bigElements * 4, floats(7, 8));
            z.add("huge/data/1", floats(-1, -2, -3));
        }
        assertTrue(Files.size(p) > (4L << 30));
        try (TorchCheckpoint ck = TorchCheckpoint.open(p)) {
            assertArrayEquals(new float[] {7, 8}, Tensors.toFloatArray(ck.tensor("big_tail")));
            assertArrayEquals(new float[] {-1, -2, -3}, Tensors.toFloatArray(ck.tensor("after")));
        } finally {
            Files.delete(p);
        }
    }

    private void assertRefused(byte[] pickle, Map<String, byte[]> storages, String reason) throws IOException {
        Path p = tmp.resolve("bad.pt");
        TorchZipWriter.write(p, "bad", pickle, storages, false);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TorchCheckpoint.open(p));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    private static byte[] oneTensor(String storage, long numel, long offset, long[] shape, long[] stride) {
        return new PickleWriter().proto(2).op('}').str("t")
                .tensorV2("FloatStorage", storage, numel, offset, shape, stride).op('s').op('.').bytes();
    }

    @Test
    void lyingStoragesAndViewsAreRefused() throws IOException {
        Map<String, byte[]> four = Map.of("0", floats(1, 2, 3, 4));
        assertRefused(oneTensor("0", 5, 0, new long[] {5}, new long[] {1}), four, "entry holds 16 bytes");
        assertRefused(oneTensor("0", 4, 1, new long[] {4}, new long[] {1}), four, "reaches element 4");
        assertRefused(oneTensor("0", 4, 0, new long[] {2, 2}, new long[] {3, 1}), four, "reaches element 4");
        assertRefused(oneTensor("0", 4, 0, new long[] {1L << 62, 4}, new long[] {1L << 62, 1}), four, "overflow");
        assertRefused(oneTensor("0", 4, 0, new long[] {2}, new long[] {-1}), four, "negative");
        assertRefused(oneTensor("7", 4, 0, new long[] {4}, new long[] {1}), four, "has no entry");
        assertRefused(oneTensor("0", Long.MAX_VALUE / 2, 0, new long[] {4}, new long[] {1}), four,
                "entry holds 16 bytes");
        assertRefused(new PickleWriter().proto(2).op(']').op('.').bytes(), four, "not a dict of tensors");
    }

    @Test
    void bigEndianArchivesAreRefused() throws IOException {
        Path p = tmp.resolve("be.pt");
        try (TorchZipWriter w = new TorchZipWriter(p, false)) {
            for (Map.Entry<String, byte[]> e : entries(fixture("bare.pt")).entrySet()) {
                w.add(e.getKey(), e.getKey().endsWith("/byteorder") ? "big".getBytes(StandardCharsets.US_ASCII)
                        : e.getValue());
            }
        }
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TorchCheckpoint.open(p));
        assertTrue(e.getMessage().contains("byte order 'big'"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"legacy", "empty", "text"})
    void nonZipFilesAreRefused(String kind) throws IOException {
        Path p = tmp.resolve(kind + ".pt");
        byte[] content = switch (kind) {
            case "legacy" -> new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46};
            case "empty" -> new byte[0];
            default -> "not a checkpoint".getBytes(StandardCharsets.US_ASCII);
        };
        Files.write(p, content);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Weights.open(p));
        assertTrue(e.getMessage().contains("not a zip archive"), e.getMessage());
        if (kind.equals("legacy")) {
            assertTrue(e.getMessage().contains("legacy"), e.getMessage());
        }
    }
}
