package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Tensor;

import java.util.List;

/** {@code UpDecoderBlockCausal3D}: {@code layers_per_block + 1} resnets, then an optional causal upsampler. */
final class UpDecoderBlock {
    private final List<Part> resnets;
    private final Part upsampler;

    private UpDecoderBlock(List<Part> resnets, Part upsampler) {
        this.resnets = resnets;
        this.upsampler = upsampler;
    }

    /**
     * Up block {@code i} of the decoder described by {@code c}, reading {@code inChannels} channels; each resnet and
     * the upsampler is a part of {@code parts}.
     */
    static UpDecoderBlock load(Parameters p, PartBinder parts, String prefix, VaeConfig c, int i, int inChannels) {
        int out = c.blockOutChannels().get(c.blocks() - 1 - i);
        List<Part> resnets = ResnetBlockCausal3d.loadAll(p, parts, prefix, c.layersPerBlock() + 1, inChannels, out,
                c.normNumGroups());
        int time = c.scalesTime(i) ? 2 : 1;
        int space = c.scalesSpace(i) ? 2 : 1;
        Part up = time * space > 1
                ? parts.bind(p, q -> UpsampleCausal3d.load(q, prefix + ".upsamplers.0", out, time, space)) : null;
        return new UpDecoderBlock(resnets, up);
    }

    Tensor forward(Tensor x) {
        return ResnetBlockCausal3d.forwardAll(resnets, upsampler, x);
    }
}
