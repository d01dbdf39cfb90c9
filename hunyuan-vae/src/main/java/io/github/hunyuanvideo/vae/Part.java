package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Tensor;

/**
 * A box of the encoder or the decoder that maps one activation to the next (a resnet, the attention, a resampler,
 * conv_in, the output norm + conv_out, a 1×1×1 quant convolution): the unit a {@link PartBinder} binds, and streams
 * when the VAE is streamed.
 */
@FunctionalInterface
interface Part extends AutoCloseable {
    /** The part's output for {@code x}; {@code x} stays the caller's. */
    Tensor forward(Tensor x);

    /** Releases what the part holds besides the model's parameters (nothing, but for the attention's projections). */
    @Override
    default void close() {
    }

    /**
     * {@code prefix.conv_out(silu(prefix.conv_norm_out(x)))}, the last part of the encoder and of the decoder
     * ({@code prefix}): the norm writes straight into the convolution's padded input.
     */
    static Part outputHead(Parameters p, String prefix, int in, int out, int groups) {
        GroupNorm norm = GroupNorm.load(p, prefix + ".conv_norm_out", in, groups);
        CausalConv3d conv = CausalConv3d.load(p, prefix + ".conv_out.conv", in, out, 3);
        return x -> conv.forwardPadded(norm.siluPadded(x, conv.kernel()));
    }
}
