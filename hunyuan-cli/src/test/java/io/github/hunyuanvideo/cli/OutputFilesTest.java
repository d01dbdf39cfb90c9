package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.io.video.DecodedVideo;
import io.github.hunyuanvideo.io.video.OutputFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeout;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** What the command line writes: portable, never-replacing names; a save folder checked before loading; Ctrl-C. */
class OutputFilesTest {
    /** The same second for every run of a test. */
    static final Instant NOW = Instant.parse("2026-12-02T13:40:43Z");
    static final String STAMP = "2026-12-02T13-40-43";

    @TempDir
    static Path shared;
    static final Path demo = SharedDemo.path();

    /** Exit code, stdout, stderr, and what went to the JVM's stderr meanwhile (where the models log). */
    record Run(int code, String out, String err, String log) {
        List<Path> paths() {
            return out.lines().map(Path::of).toList();
        }
    }

    static HunyuanVideoCli fixedClock() {
        HunyuanVideoCli cli = new HunyuanVideoCli();
        cli.clock = Clock.fixed(NOW, ZoneOffset.UTC);
        return cli;
    }

    static Run run(HunyuanVideoCli cli, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream jvmErr = System.err;
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = HunyuanVideoCli.run(cli, args, new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
        } finally {
            System.setErr(jvmErr);
        }
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
                log.toString(StandardCharsets.UTF_8));
    }

    /** A small, fast demo run of "a cat" with {@code moreArgs}. */
    static String[] demoArgs(String... moreArgs) {
        return demoArgsOf("a cat", moreArgs);
    }

    static String[] demoArgsOf(String prompt, String... moreArgs) {
        List<String> a = new ArrayList<>(List.of("--demo", "--demo-dir", demo.toString(), "--prompt", prompt,
                "--seed", "7", "--video-size", "32", "48", "--video-length", "5", "--infer-steps", "1"));
        a.addAll(List.of(moreArgs));
        return a.toArray(String[]::new);
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void twoRunsInTheSameSecondWriteTwoSetsOfFilesAndReplaceNothing() throws IOException {
        Path out = shared.resolve("same-second");
        Files.createDirectories(out);
        // what an earlier killed run and the user left in the folder
        Path oursOld = out.resolve(".hunyuan-video-00000000deadbeef.part");
        Path oursYoung = out.resolve(".hunyuan-video-00000000cafebabe.part");
        Path usersPart = out.resolve(".download.part");
        for (Path p : List.of(oursOld, oursYoung, usersPart)) {
            Files.writeString(p, "x");
        }
        Files.setLastModifiedTime(oursOld, FileTime.from(NOW.minus(Duration.ofHours(25))));
        Files.setLastModifiedTime(oursYoung, FileTime.from(NOW.minus(Duration.ofHours(23))));
        Files.setLastModifiedTime(usersPart, FileTime.from(NOW.minus(Duration.ofDays(30))));
        String[] args = demoArgs("--save-path", out.toString(), "--num-videos", "2", "--grid", "--save-frames");

        Run first = run(fixedClock(), args);
        assertEquals(0, first.code(), first.err());
        assertFalse(Files.exists(oursOld), "a stale temporary file of ours is removed");
        assertTrue(Files.exists(oursYoung), "a younger one may belong to a run in progress");
        assertTrue(Files.exists(usersPart), "a file not of our naming is never removed");
        Map<String, byte[]> firstFiles = DemoFolderSafetyTest.snapshot(out);

        Run second = run(fixedClock(), args);
        assertEquals(0, second.code(), second.err());

        String v7 = STAMP + "_seed7_a_cat";
        String v8 = STAMP + "_seed8_a_cat";
        assertEquals(List.of(v7 + ".mp4", v7 + "_sheet.png", v7 + "_frames", v8 + ".mp4", v8 + "_sheet.png",
                v8 + "_frames", v7 + "_grid.mp4"), fileNames(first, out));
        // the same names, each numbered 1: the sheet, frames and grid take the number of their video
        assertEquals(List.of(v7 + "_1.mp4", v7 + "_1_sheet.png", v7 + "_1_frames", v8 + "_1.mp4",
                v8 + "_1_sheet.png", v8 + "_1_frames", v7 + "_1_grid.mp4"), fileNames(second, out));
        // the first run's files are all still there, byte for byte
        Map<String, byte[]> after = DemoFolderSafetyTest.snapshot(out);
        after.keySet().retainAll(firstFiles.keySet());
        DemoFolderSafetyTest.assertSnapshotEquals(firstFiles, after);
        assertEquals(5, DecodedVideo.read(out.resolve(v7 + "_1.mp4")).frames().size());
        assertEquals(5, names(out.resolve(v8 + "_1_frames")).size());
        assertEquals(List.of(oursYoung.getFileName().toString()), names(out).stream()
                .filter(OutputFolder::isTemporaryFileName).toList(), "no temporary file is left");
        // what the successful runs logged shows that the capture below sees the models' log lines
        assertTrue(first.log().contains("HunyuanVideoSampler"), first.log());
    }

    /** The file names a run printed, after checking each is in {@code dir}. */
    static List<String> fileNames(Run r, Path dir) {
        List<String> names = new ArrayList<>();
        for (Path p : r.paths()) {
            assertEquals(dir.toAbsolutePath(), p.toAbsolutePath().getParent(), p.toString());
            assertTrue(Files.exists(p), p.toString());
            names.add(p.getFileName().toString());
        }
        return names;
    }

    @Test
    void originalNamesOnRequest() throws IOException {
        Path out = shared.resolve("original");
        Run r = run(fixedClock(), demoArgsOf("a cat / on a mat", "--save-path", out.toString(),
                "--original-names"));
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of("2026-12-02-13:40:43_seed7_a cat  on a mat.mp4",
                "2026-12-02-13:40:43_seed7_a cat  on a mat_sheet.png"), fileNames(r, out));
    }

    @Test
    void aFileInPlaceOfTheSaveFolderIsRefusedBeforeAnyModelLoads() throws IOException {
        Path file = shared.resolve("results-file");
        Files.writeString(file, "the user's");
        Run r = assertTimeout(Duration.ofSeconds(10), () -> run(new HunyuanVideoCli(), demoArgs("--save-path",
                file.toString())));
        assertRefusedEarly(r, "--save-path", file + " is a file, not a folder");
        assertEquals("the user's", Files.readString(file));

        Path suffixed = shared.resolve("res_a");
        Files.writeString(suffixed, "the user's");
        Run s = assertTimeout(Duration.ofSeconds(10), () -> run(new HunyuanVideoCli(), demoArgs("--save-path",
                shared.resolve("res").toString(), "--save-path-suffix", "a")));
        assertRefusedEarly(s, "--save-path-suffix", suffixed + " is a file, not a folder");
        assertEquals("the user's", Files.readString(suffixed));
    }

    @Test
    void aReadOnlySaveFolderIsRefusedBeforeAnyModelLoads() throws IOException {
        Path ro = Files.createDirectories(shared.resolve("read-only"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeFalse(Files.isWritable(ro), "running as root: permissions are not enforced");
            Run r = assertTimeout(Duration.ofSeconds(10), () -> run(new HunyuanVideoCli(), demoArgs("--save-path",
                    ro.toString())));
            assertRefusedEarly(r, "--save-path", "cannot write in folder " + ro + ": permission denied");
            assertEquals(List.of(), names(ro));
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    static void assertRefusedEarly(Run r, String flag, String why) {
        assertEquals(2, r.code(), r.err());
        assertEquals(List.of("hunyuan-video: Invalid value for option '" + flag + "': " + why + " (see --help)"),
                r.err().lines().toList());
        assertEquals("", r.out());
        assertFalse(r.log().contains("HunyuanVideoSampler"), "a model was loaded: " + r.log());
    }

    @Test
    void aCancelledRunExitsWith130AndOneLine() throws IOException {
        Path out = shared.resolve("cancelled");
        HunyuanVideoCli cli = fixedClock();
        cli.cancel.cancel();
        Run r = run(cli, demoArgs("--save-path", out.toString()));
        assertEquals(HunyuanVideoCli.EXIT_INTERRUPTED, r.code(), r.err());
        assertEquals(130, HunyuanVideoCli.EXIT_INTERRUPTED);
        List<String> interrupted = r.err().lines().filter(l -> l.contains("interrupted")).toList();
        assertEquals(1, interrupted.size(), r.err());
        assertTrue(interrupted.get(0).startsWith("hunyuan-video: interrupted (generation cancelled "),
                interrupted.get(0));
        assertFalse(r.err().contains("\tat ") || r.log().contains("\tat "), "no stack trace");
        assertEquals("", r.out());
        assertEquals(List.of(), names(out));
    }
}
