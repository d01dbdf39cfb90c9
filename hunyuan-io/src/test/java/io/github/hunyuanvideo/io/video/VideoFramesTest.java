package io.github.hunyuanvideo.io.video;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VideoFramesTest {
    @Test
    void floatsTruncateLikeTheOriginal() {
        // floor(clamp(x,0,1)·255) in float32; 0.999 → 254.745 → 254, never rounded up
        float[] x = {0f, 0.5f, 0.999f, 1f, 1.5f, -0.25f, Float.NaN, 1f / 255f, 0.00392f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, 0.2f};
        int[] expected = {0, 127, 254, 255, 255, 0, 0, 1, 0, 255, 0, 51};
        for (int i = 0; i < x.length; i++) {
            assertEquals(expected[i], VideoFrames.toByte(x[i]), "x = " + x[i]);
        }
    }

    @Test
    void layoutIsChannelsFirstInTimeHeightWidthOut() {
        int t = 2;
        int h = 3;
        int w = 4;
        float[] cthw = new float[3 * t * h * w];
        for (int i = 0; i < cthw.length; i++) {
            cthw[i] = (i % 256) / 255f;
        }
        VideoFrames v = VideoFrames.fromUnitFloats(cthw, t, h, w);
        for (int c = 0; c < 3; c++) {
            for (int f = 0; f < t; f++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        assertEquals(VideoFrames.toByte(cthw[((c * t + f) * h + y) * w + x]), v.sample(f, y, x, c));
                    }
                }
            }
        }
    }

    @Test
    void tensorPathEqualsArrayPath() {
        Random r = new Random(11);
        int n = 2;
        int t = 3;
        int h = 5;
        int w = 7;
        float[] data = new float[n * 3 * t * h * w];
        for (int i = 0; i < data.length; i++) {
            data[i] = r.nextFloat() * 1.4f - 0.2f;
        }
        data[17] = Float.NaN;
        Tensor batch = Tensors.fromFloats(data, n, 3, t, h, w);
        List<VideoFrames> fromTensor = VideoFrames.listFromTensor(batch);
        List<VideoFrames> fromArray = VideoFrames.listFromUnitFloats(data, n, t, h, w);
        assertEquals(2, fromTensor.size());
        for (int i = 0; i < n; i++) {
            assertArrayEquals(fromArray.get(i).toRgb(), fromTensor.get(i).toRgb());
        }
        assertArrayEquals(fromArray.get(1).toRgb(), VideoFrames.fromTensor(batch.narrow(0, 1, 1)).toRgb());
    }

    @Test
    void badShapesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> VideoFrames.fromUnitFloats(new float[10], 1, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> VideoFrames.fromRgb(new byte[11], 1, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> VideoFrames.fromRgb(new byte[0], 0, 2, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VideoFrames.fromTensor(Tensors.fromFloats(new float[24], 2, 3, 2, 2)));
        assertTrue(e.getMessage().contains("[2, 3, 2, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> VideoFrames.listFromTensor(Tensors.fromFloats(new float[24], 1, 2, 3, 2, 2)));
    }
}
