package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Scopes;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code DecoderCausal3D}: conv_in, the mid block, the up blocks (widths reversed), then GroupNorm, SiLU and conv_out
 * to the video channels. Its parts, in the order they run: conv_in, the mid block's resnets and attention, each up
 * block's resnets and upsampler, and the output norm with conv_out.
 */
final class Decoder implements AutoCloseable {
    private static final String PREFIX = "decoder";

    private final Part convIn;
    private final UNetMidBlock midBlock;
    private final List<UpDecoderBlock> upBlocks;
    private final Part outputHead;

    private Decoder(Part convIn, UNetMidBlock midBlock, List<UpDecoderBlock> upBlocks, Part outputHead) {
        this.convIn = convIn;
        this.midBlock = midBlock;
        this.upBlocks = upBlocks;
        this.outputHead = outputHead;
    }

    /** Binds the decoder of {@code c}, its parts through {@code parts}, in the order they run. */
    static Decoder load(Parameters p, PartBinder parts, VaeConfig c) {
        List<Integer> widths = c.blockOutChannels();
        int top = widths.get(widths.size() - 1);
        Part convIn = parts.bind(p,
                q -> CausalConv3d.load(q, PREFIX + ".conv_in.conv", c.latentChannels(), top, 3)::forward);
        UNetMidBlock mid = UNetMidBlock.load(p, parts, PREFIX + ".mid_block", top, c.normNumGroups(),
                c.midBlockAddAttention());
        List<UpDecoderBlock> blocks = new ArrayList<>();
        int in = top;
        for (int i = 0; i < c.blocks(); i++) {
            blocks.add(UpDecoderBlock.load(p, parts, PREFIX + ".up_blocks." + i, c, i, in));
            in = widths.get(c.blocks() - 1 - i);
        }
        Part outputHead = parts.bind(p, q -> Part.outputHead(q, PREFIX, widths.get(0), c.outChannels(),
                c.normNumGroups()));
        return new Decoder(convIn, mid, List.copyOf(blocks), outputHead);
    }

    /** z [B, latent, T, H, W] (after post_quant_conv) in the model dtype → [B, C_out, T', H', W']. */
    Tensor forward(Tensor z, Probe probe) {
        return Scopes.scoped(() -> {
            Tensor h = convIn.forward(z);
            probe.record(PREFIX + ".conv_in", h);
            Tensor next = midBlock.forward(h);
            h.close();
            h = next;
            probe.record(PREFIX + ".mid_block", h);
            for (int i = 0; i < upBlocks.size(); i++) {
                next = upBlocks.get(i).forward(h);
                h.close();
                h = next;
                probe.record(PREFIX + ".up_blocks." + i, h);
            }
            Tensor out = outputHead.forward(h);
            h.close();
            probe.record(PREFIX, out);
            return out;
        });
    }

    /** Closes the mid block's attention. */
    @Override
    public void close() {
        midBlock.close();
    }
}
