package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Scopes;
import org.bytedeco.pytorch.Tensor;

/** {@code UNetMidBlockCausal3D} with one layer: resnet, frame-causal attention (if enabled), resnet. */
final class UNetMidBlock implements AutoCloseable {
    private final ResnetBlockCausal3d first;
    private final MidBlockAttention attention;
    private final ResnetBlockCausal3d second;

    private UNetMidBlock(ResnetBlockCausal3d first, MidBlockAttention attention, ResnetBlockCausal3d second) {
        this.first = first;
        this.attention = attention;
        this.second = second;
    }

    static UNetMidBlock load(Parameters p, String prefix, int channels, int groups, boolean addAttention) {
        ResnetBlockCausal3d first = ResnetBlockCausal3d.load(p, prefix + ".resnets.0", channels, channels, groups);
        MidBlockAttention attn = addAttention
                ? MidBlockAttention.load(p, prefix + ".attentions.0", channels, groups) : null;
        ResnetBlockCausal3d second = ResnetBlockCausal3d.load(p, prefix + ".resnets.1", channels, channels, groups);
        return new UNetMidBlock(first, attn, second);
    }

    Tensor forward(Tensor x) {
        return Scopes.scoped(() -> {
            Tensor h = first.forward(x);
            if (attention != null) {
                Tensor a = attention.forward(h);
                h.close();
                h = a;
            }
            return second.forward(h);
        });
    }

    /** Closes the attention (the only part holding more than the model's parameters). */
    @Override
    public void close() {
        Scopes.closeAll(attention);
    }
}
