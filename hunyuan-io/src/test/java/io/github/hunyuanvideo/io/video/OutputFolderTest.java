package io.github.hunyuanvideo.io.video;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** Output files never replace a file, never stay half-written, and name the final file when they fail. */
class OutputFolderTest {
    static final Instant NOW = Instant.parse("2026-12-02T13:40:43Z");

    @TempDir
    Path dir;

    static VideoFrames video(int frames) {
        return VideoFrames.fromUnitFloats(Mp4WriterTest.gradient(frames, 16, 16), frames, 16, 16);
    }

    static List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static List<String> temporaryFiles(Path folder) throws IOException {
        return names(folder).stream().filter(OutputFolder::isTemporaryFileName).toList();
    }

    @Test
    void temporaryFilesHaveThePatternTheCleanupLooksFor() throws IOException {
        try (Mp4Writer w = Mp4Writer.open(dir.resolve("v.mp4"), 16, 16, Mp4Options.defaults())) {
            w.writeFrame(video(1).frameRgb(0));
            List<String> temps = temporaryFiles(dir);
            assertEquals(1, temps.size(), names(dir).toString());
            assertTrue(temps.get(0).matches("\\.hunyuan-video-[0-9a-f]{16}\\.part"), temps.get(0));
        }
        assertEquals(List.of(), names(dir));
        for (String notOurs : List.of(".hunyuan-video-0123456789ABCDEF.part", ".hunyuan-video-0123.part",
                "hunyuan-video-0123456789abcdef.part", ".hunyuan-video-0123456789abcdef.part.mp4",
                ".hunyuan-demo-0123456789abcdef.part", ".v.mp4.part", ".safetensors-123.part")) {
            assertFalse(OutputFolder.isTemporaryFileName(notOurs), notOurs);
        }
    }

    @Test
    void prepareCreatesTheFolderAndLeavesNothingInIt() throws IOException {
        Path out = dir.resolve("a").resolve("b");
        OutputFolder.prepare(out);
        assertTrue(Files.isDirectory(out));
        assertEquals(List.of(), names(out));
        OutputFolder.prepare(out);
        assertEquals(List.of(), names(out));
    }

    @Test
    void prepareNamesAFileInTheWay() throws IOException {
        Path file = dir.resolve("results");
        Files.writeString(file, "mine");
        IOException e = assertThrows(IOException.class, () -> OutputFolder.prepare(file));
        assertEquals(file + " is a file, not a folder", e.getMessage());
        IOException below = assertThrows(IOException.class, () -> OutputFolder.prepare(file.resolve("sub")));
        assertTrue(below.getMessage().startsWith("cannot create folder " + file.resolve("sub") + ": "),
                below.getMessage());
        assertEquals("mine", Files.readString(file));
    }

    @Test
    void prepareNamesAReadOnlyFolderAndTheReason() throws IOException {
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeFalse(Files.isWritable(ro), "running as root: permissions are not enforced");
            IOException e = assertThrows(IOException.class, () -> OutputFolder.prepare(ro));
            assertEquals("cannot write in folder " + ro + ": permission denied", e.getMessage());
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void staleCleanupRemovesOnlyOurOldTemporaryFiles() throws IOException {
        FileTime old = FileTime.from(NOW.minus(OutputFolder.STALE_AFTER).minus(Duration.ofMinutes(1)));
        FileTime young = FileTime.from(NOW.minus(OutputFolder.STALE_AFTER).plus(Duration.ofMinutes(1)));
        Path oursOld = dir.resolve(".hunyuan-video-00000000deadbeef.part");
        Path oursYoung = dir.resolve(".hunyuan-video-00000000cafebabe.part");
        Path usersPart = dir.resolve(".my-download.part");
        Path usersLookalike = dir.resolve(".hunyuan-video-DEADBEEF.part");
        Path usersVideo = dir.resolve("video.mp4");
        Path folderLikeOurs = dir.resolve(".hunyuan-video-0000000000000001.part");
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Path oursInSub = sub.resolve(".hunyuan-video-0000000000000002.part");
        for (Path p : List.of(oursOld, oursYoung, usersPart, usersLookalike, usersVideo, oursInSub)) {
            Files.writeString(p, p.getFileName().toString());
        }
        Files.createDirectory(folderLikeOurs);
        Path linkLikeOurs = dir.resolve(".hunyuan-video-0000000000000003.part");
        Files.createSymbolicLink(linkLikeOurs, usersVideo);
        for (Path p : List.of(oursOld, usersPart, usersLookalike, usersVideo, folderLikeOurs, oursInSub)) {
            Files.setLastModifiedTime(p, old);
        }
        Files.setLastModifiedTime(oursYoung, young);

        assertEquals(List.of(oursOld), OutputFolder.removeStale(dir, NOW));

        assertFalse(Files.exists(oursOld));
        for (Path p : List.of(oursYoung, usersPart, usersLookalike, usersVideo, oursInSub)) {
            assertEquals(p.getFileName().toString(), Files.readString(p), p + " survives unchanged");
        }
        assertTrue(Files.isDirectory(folderLikeOurs));
        assertTrue(Files.isSymbolicLink(linkLikeOurs));
        // a day later the younger one has become stale too
        assertEquals(List.of(oursYoung), OutputFolder.removeStale(dir, NOW.plus(OutputFolder.STALE_AFTER)));
    }

    @Test
    void staleCleanupOfAMissingFolderDoesNothing() {
        assertEquals(List.of(), OutputFolder.removeStale(dir.resolve("none"), NOW));
    }

    @Test
    void deleteUnfinishedRemovesTheTemporaryFileOfAWriteInProgress() throws IOException {
        Path other = Files.createDirectory(dir.resolve("other"));
        Path target = dir.resolve("sub").resolve("v.mp4");
        try (Mp4Writer w = Mp4Writer.open(target, 16, 16, Mp4Options.defaults());
             Mp4Writer elsewhere = Mp4Writer.open(other.resolve("w.mp4"), 16, 16, Mp4Options.defaults())) {
            w.writeFrame(video(1).frameRgb(0));
            List<String> temps = temporaryFiles(target.getParent());
            assertEquals(1, temps.size());

            List<Path> deleted = OutputFolder.deleteUnfinished(dir.resolve("sub"));

            assertEquals(List.of(target.getParent().resolve(temps.get(0))), deleted);
            assertEquals(List.of(), names(target.getParent()));
            assertEquals(1, temporaryFiles(other).size(), "a write in another folder goes on");
            IOException e = assertThrows(IOException.class, w::finish);
            assertTrue(e.getMessage().contains(target.toString()), e.getMessage());
            assertFalse(Files.exists(target));
        }
        assertEquals(List.of(), names(target.getParent()));
        assertEquals(List.of(), names(other));
    }

    @Test
    void writeNewNumbersInsteadOfReplacing() throws IOException {
        Path target = dir.resolve("v.mp4");
        Files.writeString(target, "old");
        Files.writeString(dir.resolve("v_1_sheet.png"), "someone's sheet");
        Path written = Mp4Writer.writeNew(video(2), target, Mp4Options.defaults(), List.of(OutputNames.SHEET));
        // v_1.mp4 is free but its sheet name is taken, so the video and its sheet get number 2
        assertEquals(dir.resolve("v_2.mp4"), written);
        assertEquals("old", Files.readString(target));
        assertEquals(2, DecodedVideo.read(written).frames().size());
        Path sheet = ContactSheet.writeNew(video(2), OutputNames.companion(written, OutputNames.SHEET));
        assertEquals(dir.resolve("v_2_sheet.png"), sheet);
        assertEquals("someone's sheet", Files.readString(dir.resolve("v_1_sheet.png")));
        // a taken sheet name alone is numbered too
        assertEquals(dir.resolve("v_2_sheet_1.png"), ContactSheet.writeNew(video(2), sheet));
        assertEquals(List.of("v.mp4", "v_1_sheet.png", "v_2.mp4", "v_2_sheet.png", "v_2_sheet_1.png"), names(dir));
    }

    @Test
    void writeFramesNewNeverWritesIntoAnExistingFolder() throws IOException {
        Path frames = Files.createDirectory(dir.resolve("v_frames"));
        Files.writeString(frames.resolve("frame_00000.png"), "mine");
        List<Path> written = PngWriter.writeFramesNew(video(3), frames);
        assertEquals(3, written.size());
        assertEquals(dir.resolve("v_frames_1"), written.get(0).getParent());
        assertEquals(List.of("frame_00000.png", "frame_00001.png", "frame_00002.png"), names(dir.resolve(
                "v_frames_1")));
        assertEquals(List.of("frame_00000.png"), names(frames));
        assertEquals("mine", Files.readString(frames.resolve("frame_00000.png")));
    }

    @Test
    void concurrentWritersOfOneNameEachGetTheirOwnFile() throws Exception {
        int writers = 8;
        Path target = dir.resolve("same.png");
        Files.writeString(target, "first");
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Path>> futures = new ArrayList<>();
            for (int i = 0; i < writers; i++) {
                VideoFrames v = VideoFrames.fromRgb(new byte[]{(byte) i, 0, 0}, 1, 1, 1);
                futures.add(pool.submit(() -> {
                    start.await();
                    return ContactSheet.writeNew(v, target);
                }));
            }
            start.countDown();
            Set<Path> paths = new HashSet<>();
            for (int i = 0; i < writers; i++) {
                Path p = futures.get(i).get();
                assertTrue(paths.add(p), "two writers got " + p);
                // each file holds what its own writer wrote
                assertEquals(i, (javax.imageio.ImageIO.read(p.toFile()).getRGB(0, 0) >> 16) & 0xff, p.toString());
            }
            assertEquals("first", Files.readString(target));
            assertEquals(writers + 1, names(dir).size(), names(dir).toString());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void reservationForFileSystemsWithoutHardLinksNeverReplaces() throws IOException {
        Path taken = dir.resolve("taken.mp4");
        Files.writeString(taken, "user's");
        Path temp = AtomicOutput.createTemp(dir);
        Files.writeString(temp, "new");
        assertThrows(FileAlreadyExistsException.class, () -> AtomicOutput.reserveAndMove(temp, taken));
        assertEquals("user's", Files.readString(taken));
        Path free = dir.resolve("free.mp4");
        AtomicOutput.reserveAndMove(temp, free);
        assertEquals("new", Files.readString(free));
        assertFalse(Files.exists(temp));
        // a failed rename leaves no empty reservation behind
        Path gone = dir.resolve(".hunyuan-video-00000000000000ff.part");
        assertThrows(NoSuchFileException.class, () -> AtomicOutput.reserveAndMove(gone, dir.resolve("x.mp4")));
        assertFalse(Files.exists(dir.resolve("x.mp4")));
    }

    @Test
    void aFailureAtTheEndNamesTheFinalFileNotTheTemporaryOne() throws IOException {
        Path target = dir.resolve("v.mp4");
        try (Mp4Writer w = Mp4Writer.open(target, 16, 16, Mp4Options.defaults())) {
            w.writeFrame(video(1).frameRgb(0));
            // the target name becomes a folder with a file in it while the video is written
            Files.createDirectory(target);
            Files.writeString(target.resolve("keep.txt"), "keep");
            IOException e = assertThrows(IOException.class, w::finish);
            assertTrue(e.getMessage().startsWith("cannot write " + target + ": "), e.getMessage());
            assertFalse(e.getMessage().contains(".part"), e.getMessage());
        }
        assertEquals("keep", Files.readString(target.resolve("keep.txt")));
        assertEquals(List.of("v.mp4"), names(dir));
    }

    @Test
    void aFileInPlaceOfTheFolderIsNamedWithTheTarget() throws IOException {
        Path file = dir.resolve("notes");
        Files.writeString(file, "mine");
        Path target = file.resolve("v.png");
        IOException e = assertThrows(IOException.class, () -> ContactSheet.write(video(1), target));
        assertTrue(e.getMessage().startsWith("cannot write " + target + ": cannot create its folder " + file),
                e.getMessage());
        assertEquals("mine", Files.readString(file));
    }

    @Test
    void reasonsAreWords() {
        assertEquals("permission denied", OutputFolder.reason(new AccessDeniedException("/x")));
        assertEquals("no such file or folder", OutputFolder.reason(new NoSuchFileException("/x")));
        assertEquals("a file of that name exists", OutputFolder.reason(new FileAlreadyExistsException("/x")));
        assertEquals("No space left on device", OutputFolder.reason(new FileSystemException("/x", null,
                "No space left on device")));
        assertEquals("boom", OutputFolder.reason(new IOException("boom")));
        assertEquals("IOException", OutputFolder.reason(new IOException()));
    }
}
