package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Scopes;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code DecoderCausal3D}: conv_in, the mid block, the up blocks (widths reversed), then GroupNorm, SiLU and conv_out
 * to the video channels.
 */
final class Decoder implements AutoCloseable {
    private static final String PREFIX = "decoder";

    private final CausalConv3d convIn;
    private final UNetMidBlock midBlock;
    private final List<UpDecoderBlock> upBlocks;
    private final GroupNorm normOut;
    private final CausalConv3d convOut;

    private Decoder(CausalConv3d convIn, UNetMidBlock midBlock, List<UpDecoderBlock> upBlocks, GroupNorm normOut,
                    CausalConv3d convOut) {
        this.convIn = convIn;
        this.midBlock = midBlock;
        this.upBlocks = upBlocks;
        this.normOut = normOut;
        this.convOut = convOut;
    }

    static Decoder load(Parameters p, VaeConfig c) {
        List<Integer> widths = c.blockOutChannels();
        int top = widths.get(widths.size() - 1);
        CausalConv3d convIn = CausalConv3d.load(p, PREFIX + ".conv_in.conv", c.latentChannels(), top, 3);
        UNetMidBlock mid = UNetMidBlock.load(p, PREFIX + ".mid_block", top, c.normNumGroups(),
                c.midBlockAddAttention());
        List<UpDecoderBlock> blocks = new ArrayList<>();
        int in = top;
        for (int i = 0; i < c.blocks(); i++) {
            blocks.add(UpDecoderBlock.load(p, PREFIX + ".up_blocks." + i, c, i, in));
            in = widths.get(c.blocks() - 1 - i);
        }
        GroupNorm normOut = GroupNorm.load(p, PREFIX + ".conv_norm_out", widths.get(0), c.normNumGroups());
        CausalConv3d convOut = CausalConv3d.load(p, PREFIX + ".conv_out.conv", widths.get(0), c.outChannels(), 3);
        return new Decoder(convIn, mid, List.copyOf(blocks), normOut, convOut);
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
            Tensor out = convOut.forwardPadded(normOut.siluPadded(h, convOut.kernel()));
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
