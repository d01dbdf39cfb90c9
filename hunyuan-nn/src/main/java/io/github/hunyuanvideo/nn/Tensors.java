package io.github.hunyuanvideo.nn;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.Arrays;

/** Small helpers for moving tensor data and shapes between libtorch and Java. */
public final class Tensors {
    private Tensors() {
    }

    /** The tensor's shape as a Java array. */
    public static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.size(i);
        }
        return s;
    }

    /** The elements of {@code t} as float32, row-major (copied to the CPU). */
    public static float[] toFloatArray(Tensor t) {
        Tensor c = t.to(torch.ScalarType.Float).cpu().contiguous();
        float[] out = new float[(int) c.numel()];
        new FloatPointer(c.data_ptr()).capacity(out.length).get(out);
        return out;
    }

    /** The elements of {@code t} as int64, row-major (copied to the CPU). */
    public static long[] toLongArray(Tensor t) {
        Tensor c = t.to(torch.ScalarType.Long).cpu().contiguous();
        long[] out = new long[(int) c.numel()];
        new LongPointer(c.data_ptr()).capacity(out.length).get(out);
        return out;
    }

    /** A new float32 CPU tensor of {@code shape} holding {@code data} (copied). */
    public static Tensor fromFloats(float[] data, long... shape) {
        Tensor t = torch.empty(shape, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Float), new org.bytedeco.pytorch.MemoryFormatOptional());
        new FloatPointer(t.data_ptr()).capacity(data.length).put(data);
        return t;
    }

    /** A new int64 CPU tensor of {@code shape} holding {@code data} (copied). */
    public static Tensor fromLongs(long[] data, long... shape) {
        Tensor t = torch.empty(shape, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Long), new org.bytedeco.pytorch.MemoryFormatOptional());
        new LongPointer(t.data_ptr()).capacity(data.length).put(data);
        return t;
    }

    /** ‖a − b‖ / ‖b‖ computed in float64; 0 when both are zero. */
    public static double relativeError(Tensor actual, Tensor reference) {
        Tensor a = actual.to(torch.ScalarType.Double).cpu();
        Tensor b = reference.to(torch.ScalarType.Double).cpu();
        if (!Arrays.equals(shape(a), shape(b))) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape(a)) + " vs reference "
                    + Arrays.toString(shape(b)));
        }
        double diff = a.sub(b).norm().item_double();
        double ref = b.norm().item_double();
        return ref == 0 ? diff : diff / ref;
    }
}
