package io.github.hunyuanvideo.io;

import io.github.hunyuanvideo.nn.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damaged and changing checkpoint files: CRC-32 checks of torch.save entries, and files that change on disk while
 * they are open (which would otherwise load wrong weights or crash the JVM with SIGBUS).
 */
class CheckpointIntegrityTest {
    private static final float[] A = {1.5f, -2.25f, 3.125f, 4.0625f};
    private static final float[] B = {10.5f, 20.25f};

    @TempDir
    Path tmp;

    /** {"alpha": storage 0 as 4 floats, "beta": storage 1 as 2 floats}. */
    private static byte[] twoTensorPickle() {
        return new PickleWriter().proto(2).orderedDict().mark()
                .str("alpha").tensorV2("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1})
                .str("beta").tensorV2("FloatStorage", "1", 2, 0, new long[] {2}, new long[] {1})
                .op('u').op('.').bytes();
    }

    private Path twoTensorArchive(String name, boolean crc32) throws IOException {
        Path p = tmp.resolve(name);
        try (TorchZipWriter w = new TorchZipWriter(p, false, crc32)) {
            w.add("ck/data.pkl", twoTensorPickle());
            w.add("ck/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            w.add("ck/data/0", TorchCheckpointTest.floats(A));
            w.add("ck/data/1", TorchCheckpointTest.floats(B));
            w.add("ck/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return p;
    }

    private static long crc32(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return c.getValue();
    }

    /** The only position of {@code needle} in {@code hay}. */
    private static int onlyIndexOf(byte[] hay, byte[] needle) {
        int found = -1;
        for (int i = 0; i + needle.length <= hay.length; i++) {
            int j = 0;
            while (j < needle.length && hay[i + j] == needle[j]) {
                j++;
            }
            if (j == needle.length) {
                assertEquals(-1, found, "the bytes occur twice in the file");
                found = i;
            }
        }
        assertTrue(found >= 0, "the bytes do not occur in the file");
        return found;
    }

    /** XORs the byte at {@code at} with {@code mask} in place (same size). */
    private static void flip(Path p, long at, int mask) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ mask));
            ch.write(b.rewind(), at);
        }
    }

    private static CheckpointFormatException causeOf(UncheckedIOException e) {
        return assertInstanceOf(CheckpointFormatException.class, e.getCause());
    }

    @Test
    void flippedStorageByteIsRefusedNamingTheEntry() throws IOException {
        Path p = twoTensorArchive("flipped.pt", true);
        byte[] original = TorchCheckpointTest.floats(A);
        int at = onlyIndexOf(Files.readAllBytes(p), original);
        flip(p, at + 5, 0x10);
        byte[] damaged = original.clone();
        damaged[5] ^= 0x10;
        String expected = String.format(Locale.ROOT, "ck/data/0: CRC-32 mismatch (stored 0x%08x, computed 0x%08x)",
                crc32(original), crc32(damaged));
        // The pickle is intact, so the file opens; the damaged storage is refused when its tensor is asked for.
        try (TorchCheckpoint ck = TorchCheckpoint.open(p)) {
            assertArrayEquals(B, Tensors.toFloatArray(ck.tensor("beta")));
            for (int call = 0; call < 2; call++) {
                UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> ck.tensor("alpha"));
                assertTrue(e.getMessage().startsWith(p + ": ") && e.getMessage().contains(expected), e.getMessage());
                assertEquals(e.getMessage(), causeOf(e).getMessage());
            }
        }
        try (Weights w = Weights.open(p)) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> w.get("alpha"));
            assertTrue(e.getMessage().contains(expected), e.getMessage());
        }
    }

    @Test
    void flippedPickleByteIsRefusedAtOpen() throws IOException {
        byte[] name = "alpha".getBytes(StandardCharsets.US_ASCII);
        // "alpha" becomes "blpha": the pickle stays valid and would load under that name unchecked (see below).
        Path checked = twoTensorArchive("pickle.pt", true);
        flip(checked, onlyIndexOf(Files.readAllBytes(checked), name), 'a' ^ 'b');
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> TorchCheckpoint.open(checked));
        assertTrue(e.getMessage().startsWith(checked + ": ck/data.pkl: CRC-32 mismatch (stored 0x"),
                e.getMessage());
        assertThrows(CheckpointFormatException.class, () -> Weights.open(checked));
    }

    /** checkCrc32 = false reads what the file holds, damaged or not, as torch.load would. */
    @Test
    void theCheckCanBeSkipped() throws IOException {
        Path p = twoTensorArchive("skipped.pt", true);
        int at = onlyIndexOf(Files.readAllBytes(p), TorchCheckpointTest.floats(A));
        flip(p, at + 3, 0x80);
        flip(p, onlyIndexOf(Files.readAllBytes(p), "alpha".getBytes(StandardCharsets.US_ASCII)), 'a' ^ 'b');
        float[] damaged = {-A[0], A[1], A[2], A[3]};
        try (TorchCheckpoint ck = TorchCheckpoint.open(p, false);
             TorchCheckpoint root = TorchCheckpoint.open(p, null, false);
             Weights w = Weights.open(p, false)) {
            assertArrayEquals(damaged, Tensors.toFloatArray(ck.tensor("blpha")));
            assertArrayEquals(damaged, Tensors.toFloatArray(root.tensor("blpha")));
            assertArrayEquals(damaged, Tensors.toFloatArray(w.get("blpha")));
        }
        assertThrows(CheckpointFormatException.class, () -> TorchCheckpoint.open(p, null, true));
        assertThrows(CheckpointFormatException.class, () -> Weights.open(p, true));
    }

    /** torch.save under set_crc32_options(False) writes 0 for every CRC-32: such files load, unverified. */
    @Test
    void archiveWithoutChecksumsLoadsUnverified() throws IOException {
        Path p = twoTensorArchive("no-crc.pt", false);
        flip(p, onlyIndexOf(Files.readAllBytes(p), "alpha".getBytes(StandardCharsets.US_ASCII)), 'a' ^ 'b');
        try (TorchCheckpoint ck = TorchCheckpoint.open(p)) {
            assertEquals(List.of("blpha", "beta"), List.copyOf(ck.names()));
            assertArrayEquals(A, Tensors.toFloatArray(ck.tensor("blpha")));
        }
    }

    @Test
    void intactArchiveLoadsBitEqual() throws IOException {
        SplittableRandom r = new SplittableRandom(15);
        Map<String, byte[]> storages = new LinkedHashMap<>();
        PickleWriter w = new PickleWriter().proto(2).orderedDict().mark();
        for (int i = 0; i < 6; i++) {
            int n = 1 + r.nextInt(5000);
            byte[] data = new byte[2 * n];
            r.nextBytes(data);
            storages.put(Integer.toString(i), data);
            w.str("t" + i).tensorV2("BFloat16Storage", Integer.toString(i), n, 0, new long[] {n}, new long[] {1});
        }
        // A second view of storage 0, so one storage serves two tensors.
        w.str("t0_first").tensorV2("BFloat16Storage", "0", storages.get("0").length / 2, 0, new long[] {1},
                new long[] {1});
        Path p = tmp.resolve("intact.pt");
        TorchZipWriter.write(p, "intact", w.op('u').op('.').bytes(), storages, false);
        try (TorchCheckpoint ck = TorchCheckpoint.open(p)) {
            // Twice: the first call checks the storage, the second one serves it checked.
            for (int i = 0; i < 6; i++) {
                assertArrayEquals(storages.get(Integer.toString(i)), TensorBytes.of(ck.tensor("t" + i)), "t" + i);
                assertArrayEquals(storages.get(Integer.toString(i)), TensorBytes.of(ck.tensor("t" + i)), "t" + i);
            }
            byte[] first = {storages.get("0")[0], storages.get("0")[1]};
            assertArrayEquals(first, TensorBytes.of(ck.tensor("t0_first")));
        }
    }

    /**
     * A storage is checked the first time one of its tensors is handed out, not again: bytes changed behind the
     * open file afterwards (with its modification time put back, so the on-disk check cannot tell) are served as
     * they are now, while a new open refuses them.
     */
    @Test
    void eachStorageIsVerifiedOncePerOpen() throws IOException {
        Path p = twoTensorArchive("once.pt", true);
        int at = onlyIndexOf(Files.readAllBytes(p), TorchCheckpointTest.floats(A));
        try (TorchCheckpoint ck = TorchCheckpoint.open(p)) {
            assertArrayEquals(A, Tensors.toFloatArray(ck.tensor("alpha")));
            FileTime modified = Files.getLastModifiedTime(p);
            flip(p, at + 3, 0x80);
            Files.setLastModifiedTime(p, modified);
            assertArrayEquals(new float[] {-A[0], A[1], A[2], A[3]}, Tensors.toFloatArray(ck.tensor("alpha")));
        }
        try (TorchCheckpoint ck = TorchCheckpoint.open(p)) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> ck.tensor("alpha"));
            assertTrue(e.getMessage().contains("ck/data/0: CRC-32 mismatch"), e.getMessage());
        }
    }

    private Path safetensors() throws IOException {
        Path p = tmp.resolve("w.safetensors");
        Map<String, org.bytedeco.pytorch.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a", Tensors.fromFloats(A, 4));
        tensors.put("b", Tensors.fromFloats(B, 2));
        SafetensorsWriter.write(p, tensors, Map.of());
        // An old modification time, so that any later write shows as a change even within one clock tick.
        Files.setLastModifiedTime(p, FileTime.fromMillis(1_000_000_000_000L));
        return p;
    }

    @Test
    void truncatedSafetensorsIsRefusedInsteadOfCrashing() throws IOException {
        Path p = safetensors();
        long size = Files.size(p);
        long cut = size - 4;
        try (SafetensorsFile st = SafetensorsFile.open(p)) {
            assertArrayEquals(A, Tensors.toFloatArray(st.tensor("a")));
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.truncate(cut);
            }
            // "b" lay in the bytes cut off; past the last page of a shrunk file a read of the view raises SIGBUS.
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> st.tensor("b"));
            assertTrue(e.getMessage().startsWith(p + ": changed on disk since it was opened: size " + size + " → "
                    + cut + " bytes"), e.getMessage());
            causeOf(e);
            assertThrows(UncheckedIOException.class, () -> st.tensor("a"));
            // What needs no data still answers.
            assertEquals(List.of("a", "b"), List.copyOf(st.names()));
            assertArrayEquals(new long[] {2}, st.info("b").shape());
        }
    }

    @Test
    void truncatedTorchCheckpointIsRefused() throws IOException {
        Path p = twoTensorArchive("truncated.pt", true);
        long size = Files.size(p);
        try (Weights w = Weights.open(p)) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.truncate(size / 2);
            }
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> w.get("alpha"));
            assertTrue(e.getMessage().contains("changed on disk since it was opened: size " + size + " → "
                    + size / 2 + " bytes"), e.getMessage());
        }
    }

    /** Same size, yet the contents may differ: every change is refused, not only a shrink. */
    @ParameterizedTest
    @ValueSource(strings = {"touched", "rewritten", "replaced", "deleted"})
    void anyChangeOnDiskIsRefused(String change) throws IOException {
        Path p = safetensors();
        byte[] bytes = Files.readAllBytes(p);
        try (Weights w = Weights.open(p)) {
            assertArrayEquals(B, Tensors.toFloatArray(w.get("b")));
            String expected = switch (change) {
                case "touched" -> {
                    FileTime before = Files.getLastModifiedTime(p);
                    FileTime after = FileTime.fromMillis(before.toMillis() + 5000);
                    Files.setLastModifiedTime(p, after);
                    yield "last modified " + before + " → " + after;
                }
                case "rewritten" -> {
                    flip(p, bytes.length - 1, 0x01);
                    yield "last modified ";
                }
                case "replaced" -> {
                    Path twin = tmp.resolve("twin.safetensors");
                    Files.write(twin, bytes);
                    Files.setLastModifiedTime(twin, Files.getLastModifiedTime(p));
                    Files.move(twin, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    yield "replaced by another file";
                }
                default -> {
                    Files.delete(p);
                    yield "deleted";
                }
            };
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> w.get("a"));
            assertTrue(e.getMessage().startsWith(p + ": changed on disk since it was opened: " + expected),
                    e.getMessage());
            causeOf(e);
        }
    }
}
