package io.github.hunyuanvideo.io.video;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The writers fed chunk by chunk write what they write from the whole video, byte for byte. */
class ChunkedWritersTest {
    /** Chunk lengths of the 13-frame video: uneven, as the VAE's temporal tiles (the first is longer). */
    private static final int[] CHUNKS = {5, 4, 4};
    private static final int T = 13;
    private static final int H = 24;
    private static final int W = 40;

    @TempDir
    Path dir;

    static VideoFrames video() {
        return VideoFrames.fromUnitFloats(Mp4WriterTest.gradient(T, H, W), T, H, W);
    }

    /** {@code video} cut into {@link #CHUNKS}. */
    static List<VideoFrames> chunks(VideoFrames video) {
        byte[] rgb = video.toRgb();
        int frame = video.height() * video.width() * 3;
        List<VideoFrames> out = new ArrayList<>();
        int first = 0;
        for (int n : CHUNKS) {
            out.add(VideoFrames.fromRgb(Arrays.copyOfRange(rgb, first * frame, (first + n) * frame), n,
                    video.height(), video.width()));
            first += n;
        }
        return out;
    }

    @Test
    void mp4FromChunksEqualsTheOneShotFile() throws IOException {
        VideoFrames video = video();
        Path whole = Mp4Writer.write(video, dir.resolve("whole.mp4"), Mp4Options.defaults());
        Path chunked;
        try (Mp4Writer w = Mp4Writer.open(dir.resolve("chunked.mp4"), W, H, Mp4Options.defaults())) {
            for (VideoFrames chunk : chunks(video)) {
                w.append(chunk);
            }
            assertEquals(T, w.framesWritten());
            assertFalse(Files.exists(dir.resolve("chunked.mp4")), "named only when finished");
            chunked = w.finish();
        }
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(chunked));
    }

    @Test
    void mp4RefusesAChunkOfAnotherSize() throws IOException {
        try (Mp4Writer w = Mp4Writer.open(dir.resolve("v.mp4"), W, H, Mp4Options.defaults())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> w.append(GridAndSheetTest.labelled(0, 1, H, W + 2)));
            assertEquals("frames are 42x24, the mp4 is 40x24", e.getMessage());
        }
        assertEquals(List.of(), names(dir), "nothing left");
    }

    @Test
    void sheetFromChunksEqualsTheOneShotSheet() throws IOException {
        VideoFrames video = video();
        ContactSheet sheet = ContactSheet.collecting(T, H, W, 4, 3, 16);
        ContactSheet defaults = ContactSheet.collecting(T, H, W);
        int first = 0;
        for (VideoFrames chunk : chunks(video)) {
            sheet.append(chunk, first);
            defaults.append(chunk, first);
            first += chunk.frameCount();
        }
        assertArrayEquals(pixels(ContactSheet.render(video, 4, 3, 16)), pixels(sheet.render()));
        Path oneShot = ContactSheet.write(video, dir.resolve("whole.png"));
        assertArrayEquals(Files.readAllBytes(oneShot), Files.readAllBytes(defaults.write(dir.resolve("chunked.png"))));
    }

    @Test
    void sheetNamesAFrameItShowsThatNeverCame() {
        VideoFrames video = video();
        ContactSheet sheet = ContactSheet.collecting(T, H, W, 4, 2, 16);
        sheet.append(chunks(video).get(0), 0);
        // frames 0, 4, 8, 12 are shown; the first chunk holds 0..4
        IllegalStateException e = assertThrows(IllegalStateException.class, sheet::render);
        assertEquals("frame 8, shown on the sheet, was not appended", e.getMessage());
        IllegalArgumentException past = assertThrows(IllegalArgumentException.class,
                () -> sheet.append(chunks(video).get(1), T - 2));
        assertEquals("frames 11..14 are outside the video's 13 frames", past.getMessage());
    }

    @Test
    void framesFromChunksEqualTheOneShotFramesAndAppearOnlyWhenFinished() throws IOException {
        VideoFrames video = video();
        List<Path> oneShot = PngWriter.writeFramesNew(video, dir.resolve("whole").resolve("frames"));
        Path out = Files.createDirectories(dir.resolve("chunked"));
        List<Path> chunked;
        try (PngFrameWriter w = PngFrameWriter.open(out.resolve("frames"))) {
            for (VideoFrames chunk : chunks(video)) {
                w.append(chunk);
            }
            assertEquals(T, w.framesWritten());
            List<String> before = names(out);
            assertEquals(T, before.size(), before.toString());
            assertTrue(before.stream().allMatch(OutputFolder::isTemporaryFileName), "hidden until finished: " + before);
            chunked = w.finishNew();
        }
        assertEquals(List.of("frames"), names(out));
        assertEquals(oneShot.stream().map(p -> p.getFileName().toString()).toList(),
                chunked.stream().map(p -> p.getFileName().toString()).toList());
        for (int t = 0; t < T; t++) {
            assertArrayEquals(Files.readAllBytes(oneShot.get(t)), Files.readAllBytes(chunked.get(t)));
        }
    }

    @Test
    void framesTakeTheNextFreeFolderAndLeaveNothingWhenNotFinished() throws IOException {
        VideoFrames video = video();
        Path frames = Files.createDirectories(dir.resolve("frames"));
        try (PngFrameWriter w = PngFrameWriter.open(frames)) {
            w.append(chunks(video).get(0));
            assertEquals(dir.resolve("frames_1"), w.finishNew().get(0).getParent());
        }
        try (PngFrameWriter w = PngFrameWriter.open(dir.resolve("frames_2"))) {
            w.append(chunks(video).get(0));
            // a run stopped before the video was complete
        }
        assertEquals(List.of("frames", "frames_1"), names(dir));
        assertEquals(List.of(), names(frames), "the existing folder is never written into");
        assertEquals(CHUNKS[0], names(dir.resolve("frames_1")).size());
    }

    /** Names known only at the end (the grid beside a video that got a number) are taken, or numbered, then. */
    @Test
    void namesGivenAtTheEndAreTakenInTheFolderOpenedFor() throws IOException {
        VideoFrames chunk = chunks(video()).get(0);
        Files.writeString(dir.resolve("late.mp4"), "the user's");
        try (Mp4Writer w = Mp4Writer.open(dir.resolve("early.mp4"), W, H, Mp4Options.defaults())) {
            w.append(chunk);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> w.finishNew(dir.resolve("sub").resolve("late.mp4"), List.of()));
            assertTrue(e.getMessage().contains("is not in the folder of"), e.getMessage());
            assertEquals(dir.resolve("late_1.mp4"), w.finishNew(dir.resolve("late.mp4"), List.of()));
        }
        try (PngFrameWriter w = PngFrameWriter.open(dir.resolve("early_frames"))) {
            w.append(chunk);
            assertThrows(IllegalArgumentException.class, () -> w.finishNew(dir.resolve("sub").resolve("late")));
            assertEquals(dir.resolve("late_frames"), w.finishNew(dir.resolve("late_frames")).get(0).getParent());
        }
        assertEquals(List.of("late.mp4", "late_1.mp4", "late_frames"), names(dir));
        assertEquals("the user's", Files.readString(dir.resolve("late.mp4")));
    }

    @Test
    void gridOfChunksIsTheGridOfTheWholeVideos() {
        List<VideoFrames> videos = List.of(GridAndSheetTest.labelled(0, T, 5, 6), GridAndSheetTest.labelled(1, T, 5, 6),
                GridAndSheetTest.labelled(2, T, 5, 6));
        List<List<VideoFrames>> chunked = videos.stream().map(ChunkedWritersTest::chunks).toList();
        VideoFrames whole = VideoGrid.combine(videos, 2, VideoGrid.DEFAULT_PADDING);
        byte[] joined = new byte[0];
        for (int c = 0; c < CHUNKS.length; c++) {
            int k = c;
            byte[] part = VideoGrid.combine(chunked.stream().map(v -> v.get(k)).toList(), 2,
                    VideoGrid.DEFAULT_PADDING).toRgb();
            byte[] grown = Arrays.copyOf(joined, joined.length + part.length);
            System.arraycopy(part, 0, grown, joined.length, part.length);
            joined = grown;
        }
        assertArrayEquals(whole.toRgb(), joined);
    }

    private static byte[] pixels(BufferedImage img) {
        return ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
