package io.github.hunyuanvideo.io.video;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GridAndSheetTest {
    @TempDir
    Path dir;

    /** A video whose every sample encodes (video id, frame, y, x, channel) so misplacements show. */
    static VideoFrames labelled(int id, int t, int h, int w) {
        byte[] rgb = new byte[t * h * w * 3];
        for (int f = 0; f < t; f++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int c = 0; c < 3; c++) {
                        rgb[((f * h + y) * w + x) * 3 + c] = (byte) (1 + id * 40 + f * 7 + y * 3 + x + c * 50);
                    }
                }
            }
        }
        return VideoFrames.fromRgb(rgb, t, h, w);
    }

    @Test
    void gridFollowsMakeGrid() {
        int t = 2;
        int h = 5;
        int w = 6;
        List<VideoFrames> videos = List.of(labelled(0, t, h, w), labelled(1, t, h, w), labelled(2, t, h, w));
        VideoFrames g = VideoGrid.combine(videos, 2, 2);
        // xmaps = min(2, 3) = 2, ymaps = 2; size = (h + 2)·2 + 2 by (w + 2)·2 + 2
        assertEquals(t, g.frameCount());
        assertEquals((h + 2) * 2 + 2, g.height());
        assertEquals((w + 2) * 2 + 2, g.width());
        int[][] origins = {{2, 2}, {2, 2 + w + 2}, {2 + h + 2, 2}};
        for (int k = 0; k < 3; k++) {
            for (int f = 0; f < t; f++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        for (int c = 0; c < 3; c++) {
                            assertEquals(videos.get(k).sample(f, y, x, c),
                                    g.sample(f, origins[k][0] + y, origins[k][1] + x, c));
                        }
                    }
                }
            }
        }
        // padding and the empty fourth cell are black
        assertEquals(0, g.sample(0, 0, 0, 0));
        assertEquals(0, g.sample(1, h + 3, 5, 1));
        assertEquals(0, g.sample(1, 2 + h + 2 + 1, 2 + w + 2 + 1, 2));
    }

    @Test
    void nrowOneStacksVerticallyAndOneVideoIsUnchanged() {
        List<VideoFrames> two = List.of(labelled(0, 1, 4, 4), labelled(1, 1, 4, 4));
        VideoFrames g = VideoGrid.combine(two, 1, 2);
        assertEquals(2 * (4 + 2) + 2, g.height());
        assertEquals(4 + 2 + 2, g.width());
        VideoFrames one = labelled(3, 2, 4, 4);
        assertSame(one, VideoGrid.combine(List.of(one), 1, 2));
    }

    @Test
    void gridRejectsMismatchedVideos() {
        assertThrows(IllegalArgumentException.class, () -> VideoGrid.combine(List.of(), 1, 2));
        assertThrows(IllegalArgumentException.class,
                () -> VideoGrid.combine(List.of(labelled(0, 1, 4, 4), labelled(1, 2, 4, 4)), 1, 2));
        assertThrows(IllegalArgumentException.class,
                () -> VideoGrid.combine(List.of(labelled(0, 1, 4, 4), labelled(1, 1, 4, 4)), 0, 2));
    }

    @Test
    void gridVideoWritesAndDecodesAtItsSize() throws IOException {
        List<VideoFrames> videos = List.of(labelled(0, 3, 16, 24), labelled(1, 3, 16, 24));
        VideoFrames g = VideoGrid.combine(videos, 2, VideoGrid.DEFAULT_PADDING);
        DecodedVideo d = DecodedVideo.read(Mp4Writer.write(g, dir.resolve("grid.mp4"), Mp4Options.defaults()));
        assertEquals(g.width(), d.width());
        assertEquals(g.height(), d.height());
        assertEquals(3, d.frames().size());
    }

    @Test
    void pngFramesAreLossless() throws IOException {
        VideoFrames v = labelled(2, 3, 7, 9);
        List<Path> files = PngWriter.writeFrames(v, dir.resolve("frames"));
        assertEquals(List.of("frame_00000.png", "frame_00001.png", "frame_00002.png"),
                files.stream().map(p -> p.getFileName().toString()).toList());
        for (int t = 0; t < 3; t++) {
            BufferedImage img = ImageIO.read(files.get(t).toFile());
            assertEquals(9, img.getWidth());
            assertEquals(7, img.getHeight());
            for (int y = 0; y < 7; y++) {
                for (int x = 0; x < 9; x++) {
                    int argb = img.getRGB(x, y);
                    assertEquals(v.sample(t, y, x, 0), (argb >> 16) & 0xff);
                    assertEquals(v.sample(t, y, x, 1), (argb >> 8) & 0xff);
                    assertEquals(v.sample(t, y, x, 2), argb & 0xff);
                }
            }
        }
        try (Stream<Path> s = Files.list(dir.resolve("frames"))) {
            assertEquals(3, s.count(), "temporary files left behind");
        }
    }

    @Test
    void contactSheetPicksFirstAndLastFramesAndShrinks() throws IOException {
        assertArrayEquals(new int[]{0, 43, 85, 128}, ContactSheet.frameIndices(129, 4));
        assertArrayEquals(new int[]{0, 1, 2}, ContactSheet.frameIndices(3, 16));
        assertArrayEquals(new int[]{0}, ContactSheet.frameIndices(1, 16));

        VideoFrames v = labelled(0, 9, 8, 12);
        BufferedImage sheet = ContactSheet.render(v, 4, 2, 6);
        // tiles 6 wide, 4 high (aspect kept); 2 per row, 2 rows, padding 2
        assertEquals(2 * (6 + 2) + 2, sheet.getWidth());
        assertEquals(2 * (4 + 2) + 2, sheet.getHeight());
        // the top-left pixel of the last tile (frame 8) is the mean of frame 8's top-left 2×2 block
        int mean = (v.sample(8, 0, 0, 0) + v.sample(8, 0, 1, 0) + v.sample(8, 1, 0, 0) + v.sample(8, 1, 1, 0) + 2) / 4;
        assertEquals(mean, (sheet.getRGB(2 + 6 + 2, 2 + 4 + 2) >> 16) & 0xff);

        Path png = ContactSheet.write(v, dir.resolve("sheet.png"));
        BufferedImage read = ImageIO.read(png.toFile());
        // 9 frames, 4 per row → 3 rows; frames narrower than the default tile width keep their size
        assertEquals(4 * (12 + 2) + 2, read.getWidth());
        assertEquals(3 * (8 + 2) + 2, read.getHeight());
    }
}
