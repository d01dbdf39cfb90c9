package io.github.hunyuanvideo.vae;

import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;
import io.github.hunyuanvideo.io.nn.Scopes;

/** {@code DownEncoderBlockCausal3D}: resnets, then an optional strided causal convolution. */
final class DownEncoderBlock {
    private final List<ResnetBlockCausal3d> resnets;
    private final DownsampleCausal3d downsampler;

    private DownEncoderBlock(List<ResnetBlockCausal3d> resnets, DownsampleCausal3d downsampler) {
        this.resnets = resnets;
        this.downsampler = downsampler;
    }

    /** Block {@code i} of the encoder described by {@code c}, reading {@code inChannels} channels. */
    static DownEncoderBlock load(Params p, String prefix, VaeConfig c, int i, int inChannels) {
        int out = c.blockOutChannels().get(i);
        List<ResnetBlockCausal3d> resnets = new ArrayList<>();
        for (int r = 0; r < c.layersPerBlock(); r++) {
            resnets.add(ResnetBlockCausal3d.load(p, prefix + ".resnets." + r, r == 0 ? inChannels : out, out,
                    c.normNumGroups()));
        }
        boolean time = c.scalesTime(i);
        boolean space = c.scalesSpace(i);
        DownsampleCausal3d down = time || space
                ? DownsampleCausal3d.load(p, prefix + ".downsamplers.0", out, time ? 2 : 1, space ? 2 : 1) : null;
        return new DownEncoderBlock(List.copyOf(resnets), down);
    }

    Tensor forward(Tensor x) {
        return Scopes.scoped(() -> {
            Tensor h = null;
            for (ResnetBlockCausal3d r : resnets) {
                Tensor next = r.forward(h == null ? x : h);
                Scopes.release(h);
                h = next;
            }
            if (downsampler != null) {
                Tensor next = downsampler.forward(h);
                h.close();
                h = next;
            }
            return h;
        });
    }
}
