package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Tensor;

/** {@code DownsampleCausal3D}: a k = 3 causal convolution with stride {@code (s_t, s_s, s_s)}. */
final class DownsampleCausal3d implements Part {
    private final CausalConv3d conv;

    private DownsampleCausal3d(CausalConv3d conv) {
        this.conv = conv;
    }

    /** Binds {@code prefix.conv.conv.*} ({@code prefix} = {@code ….downsamplers.0}). */
    static DownsampleCausal3d load(Parameters p, String prefix, int channels, long timeStride, long spaceStride) {
        return new DownsampleCausal3d(CausalConv3d.load(p, prefix + ".conv.conv", channels, channels, 3,
                timeStride, spaceStride, spaceStride));
    }

    @Override
    public Tensor forward(Tensor x) {
        return conv.forward(x);
    }
}
