package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Scopes;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code EncoderCausal3D}: conv_in, the down blocks, the mid block, then GroupNorm, SiLU and conv_out to
 * {@code 2 · latent_channels} (mean and log-variance). Its parts, in the order they run: conv_in, each down block's
 * resnets and downsampler, the mid block's resnets and attention, and the output norm with conv_out.
 */
final class Encoder implements AutoCloseable {
    private static final String PREFIX = "encoder";

    private final Part convIn;
    private final List<DownEncoderBlock> downBlocks;
    private final UNetMidBlock midBlock;
    private final Part outputHead;

    private Encoder(Part convIn, List<DownEncoderBlock> downBlocks, UNetMidBlock midBlock, Part outputHead) {
        this.convIn = convIn;
        this.downBlocks = downBlocks;
        this.midBlock = midBlock;
        this.outputHead = outputHead;
    }

    /** Binds the encoder of {@code c}, its parts through {@code parts}, in the order they run. */
    static Encoder load(Parameters p, PartBinder parts, VaeConfig c) {
        List<Integer> widths = c.blockOutChannels();
        Part convIn = parts.bind(p,
                q -> CausalConv3d.load(q, PREFIX + ".conv_in.conv", c.inChannels(), widths.get(0), 3)::forward);
        List<DownEncoderBlock> blocks = new ArrayList<>();
        int in = widths.get(0);
        for (int i = 0; i < c.blocks(); i++) {
            blocks.add(DownEncoderBlock.load(p, parts, PREFIX + ".down_blocks." + i, c, i, in));
            in = widths.get(i);
        }
        int top = widths.get(widths.size() - 1);
        UNetMidBlock mid = UNetMidBlock.load(p, parts, PREFIX + ".mid_block", top, c.normNumGroups(),
                c.midBlockAddAttention());
        Part outputHead = parts.bind(p, q -> Part.outputHead(q, PREFIX, top, 2 * c.latentChannels(),
                c.normNumGroups()));
        return new Encoder(convIn, List.copyOf(blocks), mid, outputHead);
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
            Tensor out = outputHead.forward(mid);
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
