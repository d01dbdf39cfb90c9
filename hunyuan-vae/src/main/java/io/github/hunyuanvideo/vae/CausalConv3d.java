package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Scopes;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code CausalConv3d}: replicate padding {@code (k//2, k//2, k//2, k//2, k−1, 0)} (two frames of causal front padding
 * for k = 3, none for k = 1), then an unpadded {@code Conv3d}. Also serves the plain 1×1×1 {@code quant_conv} and
 * {@code post_quant_conv}, which a k = 1 causal convolution equals.
 */
final class CausalConv3d {
    private static final long[] NO_PADDING = {0, 0, 0};
    private static final long[] NO_DILATION = {1, 1, 1};

    private final Tensor weight;
    private final Tensor bias;
    private final int kernel;
    private final long[] stride;

    private CausalConv3d(Tensor weight, Tensor bias, int kernel, long[] stride) {
        this.weight = weight;
        this.bias = bias;
        this.kernel = kernel;
        this.stride = stride;
    }

    /**
     * Binds {@code conv.weight [out, in, k, k, k]} and {@code conv.bias [out]}, where {@code conv} names the
     * {@code nn.Conv3d} (e.g. {@code encoder.conv_in.conv}).
     */
    static CausalConv3d load(Parameters p, String conv, int in, int out, int kernel, long... stride) {
        Tensor w = p.tensor(conv + ".weight", out, in, kernel, kernel, kernel);
        Tensor b = p.tensor(conv + ".bias", out);
        return new CausalConv3d(w, b, kernel, stride.length == 0 ? new long[]{1, 1, 1} : stride);
    }

    int kernel() {
        return kernel;
    }

    /** Pads {@code x} [B, C, T, H, W] and convolves it. */
    Tensor forward(Tensor x) {
        if (kernel == 1) {
            return conv(x);
        }
        return Scopes.scoped(() -> forwardPadded(CausalPad.pad(x, kernel)));
    }

    /** Convolves an input already padded by {@link CausalPad} for this kernel, and frees the padded buffer. */
    Tensor forwardPadded(Tensor padded) {
        Tensor y = conv(padded);
        padded.close();
        return y;
    }

    private Tensor conv(Tensor x) {
        return torch.conv3d(x, weight, new TensorOptional(bias), stride, NO_PADDING, NO_DILATION, 1);
    }
}
