package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Tensor;

import java.util.List;

/** {@code DownEncoderBlockCausal3D}: resnets, then an optional strided causal convolution. */
final class DownEncoderBlock {
    private final List<Part> resnets;
    private final Part downsampler;

    private DownEncoderBlock(List<Part> resnets, Part downsampler) {
        this.resnets = resnets;
        this.downsampler = downsampler;
    }

    /**
     * Block {@code i} of the encoder described by {@code c}, reading {@code inChannels} channels; each resnet and the
     * downsampler is a part of {@code parts}.
     */
    static DownEncoderBlock load(Parameters p, PartBinder parts, String prefix, VaeConfig c, int i, int inChannels) {
        int out = c.blockOutChannels().get(i);
        List<Part> resnets = ResnetBlockCausal3d.loadAll(p, parts, prefix, c.layersPerBlock(), inChannels, out,
                c.normNumGroups());
        int time = c.scalesTime(i) ? 2 : 1;
        int space = c.scalesSpace(i) ? 2 : 1;
        Part down = time * space > 1
                ? parts.bind(p, q -> DownsampleCausal3d.load(q, prefix + ".downsamplers.0", out, time, space)) : null;
        return new DownEncoderBlock(resnets, down);
    }

    Tensor forward(Tensor x) {
        return ResnetBlockCausal3d.forwardAll(resnets, downsampler, x);
    }
}
