package io.github.hunyuanvideo.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.hunyuanvideo.sampler.demo.DemoCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --demo-dir} never deletes, overwrites or half-writes anything it did not make itself. */
class DemoFolderSafetyTest {
    /** A complete demo model, copied where a test needs one to change. */
    static final Path demo = SharedDemo.path();

    @Test
    void writeProducesExactlyTheListedFiles() throws IOException {
        Map<String, byte[]> files = snapshot(demo);
        files.keySet().removeIf(k -> Files.isDirectory(demo.resolve(k)));
        assertEquals(new java.util.TreeSet<>(DemoCheckpoint.FILES), files.keySet());
    }

    @Test
    void aFolderWithAUserFileSurvivesTheCommandLine(@TempDir Path tmp) throws IOException {
        Path user = tmp.resolve("mine");
        Files.createDirectories(user.resolve("photos"));
        Files.writeString(user.resolve("thesis.txt"), "four years of work");
        Files.write(user.resolve("photos/cat.jpg"), new byte[]{1, 2, 3});
        assertRefusedAndUnchanged(tmp, user);
    }

    @Test
    void aFileGivenAsTheFolderSurvives(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("notes.txt");
        Files.writeString(file, "keep me");
        assertRefusedAndUnchanged(tmp, file);
    }

    @Test
    void anOldDemoFolderWithAUserFileAddedSurvives(@TempDir Path tmp) throws IOException {
        Path old = copyOf(demo, tmp.resolve("old"));
        setMarkerVersion(old, "1");
        Files.writeString(old.resolve("vae/my-notes.txt"), "mine");
        assertRefusedAndUnchanged(tmp, old);
    }

    @Test
    void anEmptyPathIsRefused(@TempDir Path tmp) throws IOException {
        Map<String, byte[]> before = snapshot(tmp);
        HunyuanVideoCliTest.Run r = HunyuanVideoCliTest.run("--demo", "--demo-dir", "", "--save-path",
                tmp.resolve("out").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--demo-dir"), r.err());
        assertSnapshotEquals(before, snapshot(tmp));
    }

    @Test
    void anEmptyFolderIsFilled(@TempDir Path tmp) throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        DemoCheckpoint.ensure(empty);
        assertSnapshotEquals(snapshot(demo), snapshot(empty));
        assertNoTemporaryFolders(tmp);
    }

    @Test
    void anOlderOrIncompleteDemoFolderIsRebuilt(@TempDir Path tmp) throws IOException {
        Path old = copyOf(demo, tmp.resolve("old"));
        setMarkerVersion(old, "1");
        assertEquals(DemoCheckpoint.State.STALE, DemoCheckpoint.inspect(old));
        DemoCheckpoint.ensure(old);
        assertSnapshotEquals(snapshot(demo), snapshot(old));

        Path cut = copyOf(demo, tmp.resolve("cut"));
        Path weights = cut.resolve("vae/diffusion_pytorch_model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertEquals(DemoCheckpoint.State.STALE, DemoCheckpoint.inspect(cut));
        DemoCheckpoint.ensure(cut);
        assertSnapshotEquals(snapshot(demo), snapshot(cut));
        assertNoTemporaryFolders(tmp);
    }

    @Test
    void concurrentFirstRunsBothGetACompleteModel(@TempDir Path tmp) throws Exception {
        Path fresh = tmp.resolve("fresh");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Path>> runs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                runs.add(pool.submit(() -> DemoCheckpoint.ensure(fresh)));
            }
            for (Future<Path> f : runs) {
                assertEquals(fresh, f.get());
                assertEquals(DemoCheckpoint.State.CURRENT, DemoCheckpoint.inspect(fresh));
            }
        } finally {
            pool.shutdownNow();
        }
        assertSnapshotEquals(snapshot(demo), snapshot(fresh));
        assertNoTemporaryFolders(tmp);
    }

    @Test
    void inspectRefusesWithTheReason(@TempDir Path tmp) throws IOException {
        Path user = Files.createDirectories(tmp.resolve("user"));
        Files.writeString(user.resolve("a.txt"), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DemoCheckpoint.inspect(user));
        assertTrue(e.getMessage().contains("1 entry that is not the demo's (a.txt)"), e.getMessage());
        assertTrue(e.getMessage().contains("nothing was changed"), e.getMessage());
        Files.writeString(user.resolve("b.txt"), "y");
        e = assertThrows(IllegalArgumentException.class, () -> DemoCheckpoint.inspect(user));
        assertTrue(e.getMessage().contains("2 entries that are not the demo's (a.txt, b.txt)"), e.getMessage());
    }

    /** The command line exits with 2 naming {@code --demo-dir}, prints no stack trace and changes nothing. */
    private static void assertRefusedAndUnchanged(Path root, Path demoDir) throws IOException {
        Map<String, byte[]> before = snapshot(root);
        HunyuanVideoCliTest.Run r = HunyuanVideoCliTest.run("--demo", "--demo-dir", demoDir.toString(),
                "--save-path", root.resolve("out").toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("--demo-dir"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        // the save folder may be created empty; nothing else appears, disappears or changes
        Map<String, byte[]> after = snapshot(root);
        after.keySet().removeIf(k -> k.equals("out"));
        assertSnapshotEquals(before, after);
    }

    private static void assertNoTemporaryFolders(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".hunyuan-demo-")));
        }
    }

    /** Every path under {@code root} (folders map to an empty array) with its bytes. */
    static Map<String, byte[]> snapshot(Path root) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(p -> !p.equals(root)).toList()) {
                m.put(root.relativize(p).toString(), Files.isRegularFile(p) ? Files.readAllBytes(p) : new byte[0]);
            }
        }
        return m;
    }

    static void assertSnapshotEquals(Map<String, byte[]> expected, Map<String, byte[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((k, v) -> assertArrayEquals(v, actual.get(k), k));
    }

    static Path copyOf(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
        return to;
    }

    private static void setMarkerVersion(Path dir, String version) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Path marker = dir.resolve(DemoCheckpoint.MARKER);
        ObjectNode m = (ObjectNode) json.readTree(marker.toFile());
        m.put("version", version);
        json.writeValue(marker.toFile(), m);
    }
}
