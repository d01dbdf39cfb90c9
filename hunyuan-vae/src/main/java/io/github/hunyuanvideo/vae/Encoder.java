package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Scopes;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code EncoderCausal3D}: conv_in, the down blocks, the mid block, then GroupNorm, SiLU and conv_out to
 * {@code 2 · latent_channels} (mean and log-variance).
 */
final class Encoder implements AutoCloseable {
    private static final String PREFIX = "encoder";

    private final CausalConv3d convIn;
    private final List<DownEncoderBlock> downBlocks;
    private final UNetMidBlock midBlock;
    private final GroupNorm normOut;
    private final CausalConv3d convOut;

    private Encoder(CausalConv3d convIn, List<DownEncoderBlock> downBlocks, UNetMidBlock midBlock, GroupNorm normOut,
                    CausalConv3d convOut) {
        this.convIn = convIn;
        this.downBlocks = downBlocks;
        this.midBlock = midBlock;
        this.normOut = normOut;
        this.convOut = convOut;
    }

    static Encoder load(Parameters p, VaeConfig c) {
        List<Integer> widths = c.blockOutChannels();
        CausalConv3d convIn = CausalConv3d.load(p, PREFIX + ".conv_in.conv", c.inChannels(), widths.get(0), 3);
        List<DownEncoderBlock> blocks = new ArrayList<>();
        int in = widths.get(0);
        for (int i = 0; i < c.blocks(); i++) {
            blocks.add(DownEncoderBlock.load(p, PREFIX + ".down_blocks." + i, c, i, in));
            in = widths.get(i);
        }
        int top = widths.get(widths.size() - 1);
        UNetMidBlock mid = UNetMidBlock.load(p, PREFIX + ".mid_block", top, c.normNumGroups(),
                c.midBlockAddAttention());
        GroupNorm normOut = GroupNorm.load(p, PREFIX + ".conv_norm_out", top, c.normNumGroups());
        CausalConv3d convOut = CausalConv3d.load(p, PREFIX + ".conv_out.conv", top, 2 * c.latentChannels(), 3);
        return new Encoder(convIn, List.copyOf(blocks), mid, normOut, convOut);
    }

    /** x [B, C_in, T, H, W] in the model dtype → [B, 2·latent, T', H', W']. */
    Tensor forward(Tensor x, Probe probe) {
        return Scopes.scoped(() -> {
            Tensor h = convIn.forward(x);
            probe.record(PREFIX + ".conv_in", h);
            for (int i = 0; i < downBlocks.size(); i++) {
                Tensor next = downBlocks.get(i).forward(h);
                h.close();
                h = next;
                probe.record(PREFIX + ".down_blocks." + i, h);
            }
            Tensor mid = midBlock.forward(h);
            h.close();
            probe.record(PREFIX + ".mid_block", mid);
            Tensor out = convOut.forwardPadded(normOut.siluPadded(mid, convOut.kernel()));
            mid.close();
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
