package io.github.hunyuanvideo.io.video;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Mp4WriterTest {
    @TempDir
    Path dir;

    /** A smooth moving gradient in [0, 1], laid out [3, T, H, W]. */
    static float[] gradient(int t, int h, int w) {
        float[] x = new float[3 * t * h * w];
        for (int c = 0; c < 3; c++) {
            for (int f = 0; f < t; f++) {
                for (int y = 0; y < h; y++) {
                    for (int i = 0; i < w; i++) {
                        double v = switch (c) {
                            case 0 -> (double) i / (w - 1);
                            case 1 -> (double) y / (h - 1);
                            default -> 0.5 + 0.4 * Math.sin(2 * Math.PI * (i + y + 3.0 * f) / (w + h));
                        };
                        x[((c * t + f) * h + y) * w + i] = (float) v;
                    }
                }
            }
        }
        return x;
    }

    static double meanAbsError(VideoFrames expected, DecodedVideo actual) {
        double sum = 0;
        long n = 0;
        for (int t = 0; t < expected.frameCount(); t++) {
            byte[] got = actual.frames().get(t);
            for (int y = 0; y < expected.height(); y++) {
                for (int x = 0; x < expected.width(); x++) {
                    for (int c = 0; c < 3; c++) {
                        int a = got[(y * actual.width() + x) * 3 + c] & 0xff;
                        sum += Math.abs(a - expected.sample(t, y, x, c));
                        n++;
                    }
                }
            }
        }
        return sum / n;
    }

    @ParameterizedTest
    @CsvSource({"libx264", "libopenh264"})
    void writesExactFramesSizeFpsAndDurationWithSmallError(String encoder) throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Mp4Writer.availableH264Encoders().contains(encoder),
                encoder + " not in this FFmpeg build");
        int t = 17;
        int h = 64;
        int w = 96;
        VideoFrames video = VideoFrames.fromUnitFloats(gradient(t, h, w), t, h, w);
        Path file = Mp4Writer.write(video, dir.resolve("gradient.mp4"), Mp4Options.defaults().withEncoder(encoder));
        DecodedVideo d = DecodedVideo.read(file);
        assertEquals("h264", d.codecName());
        assertEquals("yuv420p", d.pixelFormat());
        assertEquals(w, d.width());
        assertEquals(h, d.height());
        assertEquals(24.0, d.fps(), 1e-9);
        assertEquals(t, d.frames().size());
        assertEquals(t, d.declaredFrames());
        assertEquals(t / 24.0, d.streamSeconds(), 1e-6);
        assertEquals(t / 24.0, d.containerSeconds(), 1e-3);
        double err = meanAbsError(video, d);
        System.out.printf("%s: mean abs error %.3f/255, %d bytes%n", encoder, err, Files.size(file));
        assertTrue(err < 3.0, "mean pixel error " + err + "/255");
    }

    @Test
    void otherFrameRateKeepsCountAndDuration() throws IOException {
        int t = 10;
        VideoFrames video = VideoFrames.fromUnitFloats(gradient(t, 32, 32), t, 32, 32);
        Path file = Mp4Writer.write(video, dir.resolve("fps.mp4"), Mp4Options.defaults().withFps(8));
        DecodedVideo d = DecodedVideo.read(file);
        assertEquals(8.0, d.fps(), 1e-9);
        assertEquals(t, d.frames().size());
        assertEquals(t / 8.0, d.streamSeconds(), 1e-6);
    }

    @Test
    void oddSizeIsPaddedByRepeatingTheLastRowAndColumn() throws IOException {
        int t = 5;
        int h = 63;
        int w = 95;
        VideoFrames video = VideoFrames.fromUnitFloats(gradient(t, h, w), t, h, w);
        try (Mp4Writer writer = Mp4Writer.open(dir.resolve("odd.mp4"), w, h, Mp4Options.defaults())) {
            assertEquals(96, writer.codedWidth());
            assertEquals(64, writer.codedHeight());
            for (int i = 0; i < t; i++) {
                writer.writeFrame(video.frameRgb(i));
            }
            writer.finish();
        }
        DecodedVideo d = DecodedVideo.read(dir.resolve("odd.mp4"));
        assertEquals(96, d.width());
        assertEquals(64, d.height());
        assertEquals(t, d.frames().size());
        double err = meanAbsError(video, d);
        assertTrue(err < 3.0, "mean pixel error " + err + "/255");
        // the padded column repeats the last input column
        byte[] f0 = d.frames().get(0);
        int row = 10;
        int last = f0[(row * 96 + 94) * 3] & 0xff;
        int pad = f0[(row * 96 + 95) * 3] & 0xff;
        assertTrue(Math.abs(last - pad) <= 6, last + " vs " + pad);
    }

    @Test
    void singleFrameVideo() throws IOException {
        VideoFrames video = VideoFrames.fromUnitFloats(gradient(1, 16, 16), 1, 16, 16);
        DecodedVideo d = DecodedVideo.read(Mp4Writer.write(video, dir.resolve("one.mp4"), Mp4Options.defaults()));
        assertEquals(1, d.frames().size());
        assertEquals(1 / 24.0, d.streamSeconds(), 1e-6);
    }

    @Test
    void exceptionMidWriteLeavesNoFileUnderTheFinalName() throws IOException {
        Path target = dir.resolve("sub").resolve("broken.mp4");
        VideoFrames video = VideoFrames.fromUnitFloats(gradient(8, 32, 32), 8, 32, 32);
        RuntimeException boom = assertThrows(RuntimeException.class, () -> {
            try (Mp4Writer w = Mp4Writer.open(target, 32, 32, Mp4Options.defaults())) {
                for (int i = 0; i < 4; i++) {
                    w.writeFrame(video.frameRgb(i));
                }
                throw new RuntimeException("interrupted");
            }
        });
        assertEquals("interrupted", boom.getMessage());
        assertFalse(Files.exists(target));
        try (Stream<Path> left = Files.list(target.getParent())) {
            assertEquals(0, left.count(), "temporary file left behind");
        }
    }

    @Test
    void finishedFileReplacesAnOldOneOnlyWhenComplete() throws IOException {
        Path target = dir.resolve("v.mp4");
        Files.writeString(target, "old");
        assertThrows(IllegalArgumentException.class, () -> {
            try (Mp4Writer w = Mp4Writer.open(target, 16, 16, Mp4Options.defaults())) {
                w.writeFrame(new byte[5]);
            }
        });
        assertEquals("old", Files.readString(target));
        VideoFrames video = VideoFrames.fromUnitFloats(gradient(2, 16, 16), 2, 16, 16);
        Mp4Writer.write(video, target, Mp4Options.defaults());
        assertEquals(2, DecodedVideo.read(target).frames().size());
    }

    @Test
    void badArgumentsAreNamed() {
        assertThrows(IllegalStateException.class, () -> {
            try (Mp4Writer w = Mp4Writer.open(dir.resolve("empty.mp4"), 16, 16, Mp4Options.defaults())) {
                w.finish();
            }
        });
        assertFalse(Files.exists(dir.resolve("empty.mp4")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Mp4Writer.open(dir.resolve("x.mp4"), 16, 16, Mp4Options.defaults().withEncoder("nosuchcodec")));
        assertTrue(e.getMessage().contains("nosuchcodec"));
        assertThrows(IllegalArgumentException.class,
                () -> Mp4Writer.open(dir.resolve("x.mp4"), 16, 16, Mp4Options.defaults().withEncoder("mpeg4")));
        assertThrows(IllegalArgumentException.class, () -> Mp4Writer.open(dir.resolve("x.mp4"), 0, 16,
                Mp4Options.defaults()));
        assertThrows(IllegalArgumentException.class, () -> new Mp4Options(0, null));
    }
}
