package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The causal padding of {@code CausalConv3d}: {@code F.pad(x, (k//2, k//2, k//2, k//2, k−1, 0), mode="replicate")}.
 * Producers may write straight into the interior of a padded buffer, which saves one activation-sized copy.
 */
final class CausalPad {
    private CausalPad() {
    }

    /** An uninitialised buffer for an input of {@code shape} [B, C, T, H, W] and kernel {@code k}. */
    static Tensor allocate(long[] shape, int k, TensorOptions options) {
        int p = k / 2;
        long[] padded = {shape[0], shape[1], shape[2] + k - 1, shape[3] + 2L * p, shape[4] + 2L * p};
        return torch.empty(padded, options, new MemoryFormatOptional());
    }

    /** The view of {@code padded} where the unpadded input goes. */
    static Tensor interior(Tensor padded, int k) {
        int p = k / 2;
        return padded.narrow(2, k - 1, padded.size(2) - (k - 1))
                .narrow(3, p, padded.size(3) - 2L * p)
                .narrow(4, p, padded.size(4) - 2L * p);
    }

    /** Fills the border of {@code padded} by replicating the interior's edges (W, then H, then the front of T). */
    static void fillBorders(Tensor padded, int k) {
        int p = k / 2;
        int front = k - 1;
        long t = padded.size(2) - front;
        long h = padded.size(3) - 2L * p;
        long w = padded.size(4) - 2L * p;
        if (p > 0) {
            Tensor rows = padded.narrow(2, front, t).narrow(3, p, h);
            replicate(rows, 4, 0, p, p);
            replicate(rows, 4, p + w, p, p + w - 1);
            Tensor frames = padded.narrow(2, front, t);
            replicate(frames, 3, 0, p, p);
            replicate(frames, 3, p + h, p, p + h - 1);
        }
        if (front > 0) {
            replicate(padded, 2, 0, front, front);
        }
    }

    /** A padded copy of {@code x}. */
    static Tensor pad(Tensor x, int k) {
        Tensor padded = allocate(Tensors.shape(x), k, x.options());
        interior(padded, k).copy_(x);
        fillBorders(padded, k);
        return padded;
    }

    /** {@code t[dim][start : start+count] = t[dim][source]} (broadcast). */
    private static void replicate(Tensor t, int dim, long start, long count, long source) {
        Tensor dst = t.narrow(dim, start, count);
        dst.copy_(t.narrow(dim, source, 1).expand(Tensors.shape(dst)));
    }
}
