package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Scopes;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code UpsampleCausal3D}: nearest upsampling by {@code (f_t, f_s, f_s)} where the first frame is upsampled in space
 * only (T → 1 + f_t·(T−1)), then a k = 3 causal convolution. Nearest upsampling by integer factors is a pure copy, so
 * it is written straight into the convolution's padded input.
 */
final class UpsampleCausal3d implements Part {
    private final CausalConv3d conv;
    private final int timeFactor;
    private final int spaceFactor;

    private UpsampleCausal3d(CausalConv3d conv, int timeFactor, int spaceFactor) {
        this.conv = conv;
        this.timeFactor = timeFactor;
        this.spaceFactor = spaceFactor;
    }

    /** Binds {@code prefix.conv.conv.*} ({@code prefix} = {@code ….upsamplers.0}). */
    static UpsampleCausal3d load(Parameters p, String prefix, int channels, int timeFactor, int spaceFactor) {
        return new UpsampleCausal3d(CausalConv3d.load(p, prefix + ".conv.conv", channels, channels, 3),
                timeFactor, spaceFactor);
    }

    @Override
    public Tensor forward(Tensor x) {
        return Scopes.scoped(() -> {
            long b = x.size(0);
            long c = x.size(1);
            long t = x.size(2);
            long h = x.size(3);
            long w = x.size(4);
            long fs = spaceFactor;
            long ft = timeFactor;
            long[] up = {b, c, 1 + ft * (t - 1), h * fs, w * fs};
            Tensor padded = CausalPad.allocate(up, conv.kernel(), x.options());
            Tensor dst = CausalPad.interior(padded, conv.kernel());
            dst.narrow(2, 0, 1).view(b, c, 1, h, fs, w, fs)
                    .copy_(x.narrow(2, 0, 1).unsqueeze(4).unsqueeze(6).expand(b, c, 1, h, fs, w, fs));
            if (t > 1) {
                dst.narrow(2, 1, ft * (t - 1)).view(b, c, t - 1, ft, h, fs, w, fs)
                        .copy_(x.narrow(2, 1, t - 1).unsqueeze(3).unsqueeze(5).unsqueeze(7)
                                .expand(b, c, t - 1, ft, h, fs, w, fs));
            }
            CausalPad.fillBorders(padded, conv.kernel());
            return conv.forwardPadded(padded);
        });
    }
}
