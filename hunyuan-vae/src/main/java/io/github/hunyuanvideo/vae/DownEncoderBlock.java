package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Tensor;

import java.util.List;

/** {@code DownEncoderBlockCausal3D}: resnets, then an optional strided causal convolution. */
final class DownEncoderBlock {
    private final List<ResnetBlockCausal3d> resnets;
    private final DownsampleCausal3d downsampler;

    private DownEncoderBlock(List<ResnetBlockCausal3d> resnets, DownsampleCausal3d downsampler) {
        this.resnets = resnets;
        this.downsampler = downsampler;
    }

    /** Block {@code i} of the encoder described by {@code c}, reading {@code inChannels} channels. */
    static DownEncoderBlock load(Parameters p, String prefix, VaeConfig c, int i, int inChannels) {
        int out = c.blockOutChannels().get(i);
        List<ResnetBlockCausal3d> resnets = ResnetBlockCausal3d.loadAll(p, prefix, c.layersPerBlock(), inChannels, out,
                c.normNumGroups());
        boolean time = c.scalesTime(i);
        boolean space = c.scalesSpace(i);
        DownsampleCausal3d down = time || space
                ? DownsampleCausal3d.load(p, prefix + ".downsamplers.0", out, time ? 2 : 1, space ? 2 : 1) : null;
        return new DownEncoderBlock(resnets, down);
    }

    Tensor forward(Tensor x) {
        return ResnetBlockCausal3d.forwardAll(resnets, downsampler == null ? null : downsampler::forward, x);
    }
}
