package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Tensor;

import java.util.List;

/** {@code UpDecoderBlockCausal3D}: {@code layers_per_block + 1} resnets, then an optional causal upsampler. */
final class UpDecoderBlock {
    private final List<ResnetBlockCausal3d> resnets;
    private final UpsampleCausal3d upsampler;

    private UpDecoderBlock(List<ResnetBlockCausal3d> resnets, UpsampleCausal3d upsampler) {
        this.resnets = resnets;
        this.upsampler = upsampler;
    }

    /** Up block {@code i} of the decoder described by {@code c}, reading {@code inChannels} channels. */
    static UpDecoderBlock load(Parameters p, String prefix, VaeConfig c, int i, int inChannels) {
        int out = c.blockOutChannels().get(c.blocks() - 1 - i);
        List<ResnetBlockCausal3d> resnets = ResnetBlockCausal3d.loadAll(p, prefix, c.layersPerBlock() + 1,
                inChannels, out, c.normNumGroups());
        boolean time = c.scalesTime(i);
        boolean space = c.scalesSpace(i);
        UpsampleCausal3d up = time || space
                ? UpsampleCausal3d.load(p, prefix + ".upsamplers.0", out, time ? 2 : 1, space ? 2 : 1) : null;
        return new UpDecoderBlock(resnets, up);
    }

    Tensor forward(Tensor x) {
        return ResnetBlockCausal3d.forwardAll(resnets, upsampler == null ? null : upsampler::forward, x);
    }
}
