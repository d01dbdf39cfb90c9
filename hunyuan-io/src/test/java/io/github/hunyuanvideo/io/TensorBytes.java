package io.github.hunyuanvideo.io;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Test helper: the raw bytes of a tensor's elements in row-major order, independent of its strides. */
final class TensorBytes {
    private TensorBytes() {
    }

    static byte[] of(Tensor t) {
        Tensor c = t.contiguous().reshape(-1).view(torch.ScalarType.Byte);
        byte[] out = new byte[(int) c.numel()];
        if (out.length > 0) {
            new BytePointer(c.data_ptr()).capacity(out.length).get(out);
        }
        return out;
    }
}
