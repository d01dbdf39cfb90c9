package io.github.hunyuanvideo.dit;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

import io.github.hunyuanvideo.nn.Scopes;

/**
 * The DiT blocks' attention with the official {@code flash_attn_varlen_func} semantics (segments from the original's
 * {@code get_cu_seqlens}): in sample b the first {@code valid[b]} tokens (image + valid text) attend only among
 * themselves, and the padded text tokens after them only among themselves. Each segment is one unmasked attention
 * call on a view (a {@link Kernel}: {@code scaled_dot_product_attention}, or the 8-bit kernel under
 * {@link Attention#INT8}), which is exact, needs no O(L²) mask (a block mask would take 28 GB at 720p with batch 2)
 * and lets flash/cuDNN kernels run. With no padding (always the case at batch 1, where the text is cut to its valid
 * length) it is a single call.
 */
final class JointAttention {
    private static final Logger LOG = LoggerFactory.getLogger(JointAttention.class);

    /**
     * Unmasked attention over one segment: {@code [B, L, H, D]} q/k/v views (unit last stride), scale 1/√D; returns
     * {@code [B, L, H, D]} (any strides) in q's dtype.
     */
    @FunctionalInterface
    interface Kernel {
        Tensor attend(Tensor q, Tensor k, Tensor v);
    }

    /** {@link Attention#SDPA}: SDPA in the inputs' dtype. */
    static final Kernel SDPA = (q, k, v) -> sdpa(q, k, v).transpose(1, 2);

    private JointAttention() {
    }

    /**
     * A kernel for {@link Attention#INT8} and {@link Attention#INT8_FP8}: {@link QuantizedAttention#attend} with
     * {@code valueProduct} where its CUDA kernel runs, else {@link #SDPA}, with one warning over the kernel's life
     * naming {@code backend} (each model makes its own).
     */
    static Kernel quantized(QuantizedAttention.ValueProduct valueProduct, String backend) {
        AtomicBoolean warned = new AtomicBoolean();
        return (q, k, v) -> {
            String unavailable = quantizedUnavailable(q, valueProduct);
            if (unavailable == null) {
                return QuantizedAttention.attend(q, k, v, valueProduct).to(q.scalar_type());
            }
            if (!warned.getAndSet(true)) {
                LOG.warn("attention {}: {}; the DiT runs SDPA instead", backend, unavailable);
            }
            return SDPA.attend(q, k, v);
        };
    }

    /** Why the 8-bit kernel cannot attend over {@code q}'s device and head dim, or {@code null} if it can. */
    private static String quantizedUnavailable(Tensor q, QuantizedAttention.ValueProduct valueProduct) {
        if (!q.is_cuda()) {
            return "no CUDA device";
        }
        if (q.size(3) > QuantizedAttention.HEAD_DIM) {
            return "head dim " + q.size(3) + ", the kernel takes up to " + QuantizedAttention.HEAD_DIM;
        }
        int device = q.device().index();
        // kernelAvailable logged the cause (not Hopper, compile failure) the first time
        return QuantizedAttention.kernelAvailable(device, valueProduct) ? null
                : "the 8-bit kernel is unavailable on cuda:" + device;
    }

    /**
     * @param q      {@code [B, L, H, D]} (any strides with a unit last stride)
     * @param k      {@code [B, L, H, D]}
     * @param v      {@code [B, L, H, D]}
     * @param valid  per sample, the length of the first segment (1 ≤ valid[b] ≤ L)
     * @param kernel what each segment runs (the forward's backend)
     * @return {@code [B, L, H·D]}
     */
    static Tensor attend(Tensor q, Tensor k, Tensor v, long[] valid, Kernel kernel) {
        long batch = q.size(0);
        long len = q.size(1);
        long width = q.size(2) * q.size(3);
        if (Arrays.stream(valid).allMatch(n -> n == len)) {
            return Scopes.scoped(() -> kernel.attend(q, k, v).reshape(batch, len, width));
        }
        TensorOptions like = new TensorOptions(v.device()).dtype(new ScalarTypeOptional(v.scalar_type()));
        Tensor out = torch.empty(new long[]{batch, len, q.size(2), q.size(3)}, like, new MemoryFormatOptional());
        boolean sameLength = Arrays.stream(valid).allMatch(n -> n == valid[0]);
        for (long b = 0; b < (sameLength ? 1 : batch); b++) {
            long from = sameLength ? 0 : b;
            long count = sameLength ? batch : 1;
            long n = valid[(int) b];
            segment(q, k, v, out, from, count, 0, n, kernel);
            segment(q, k, v, out, from, count, n, len - n, kernel);
        }
        return out.view(batch, len, width);
    }

    /** Attention among tokens [start, start+size) of samples [from, from+count), written into {@code out}. */
    private static void segment(Tensor q, Tensor k, Tensor v, Tensor out, long from, long count, long start,
                                long size, Kernel kernel) {
        if (size == 0) {
            return;
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor r = kernel.attend(q.narrow(0, from, count).narrow(1, start, size), k.narrow(0, from, count)
                    .narrow(1, start, size), v.narrow(0, from, count).narrow(1, start, size));
            out.narrow(0, from, count).narrow(1, start, size).copy_(r);
        }
    }

    /** SDPA over {@code [B, L, H, D]} views, scale 1/√D, no dropout; returns {@code [B, H, L, D]}. */
    static Tensor sdpa(Tensor q, Tensor k, Tensor v) {
        return torch.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                new TensorOptional(), 0.0, false, new DoubleOptional(), false);
    }
}
