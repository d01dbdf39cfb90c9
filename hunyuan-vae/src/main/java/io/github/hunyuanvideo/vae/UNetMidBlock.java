package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Scopes;
import org.bytedeco.pytorch.Tensor;

/** {@code UNetMidBlockCausal3D} with one layer: resnet, frame-causal attention (if enabled), resnet. */
final class UNetMidBlock implements AutoCloseable {
    private final Part first;
    private final Part attention;
    private final Part second;

    private UNetMidBlock(Part first, Part attention, Part second) {
        this.first = first;
        this.attention = attention;
        this.second = second;
    }

    /** Binds the resnets and the attention, each a part of {@code parts}. */
    static UNetMidBlock load(Parameters p, PartBinder parts, String prefix, int channels, int groups,
                             boolean addAttention) {
        Part first = parts.bind(p, q -> ResnetBlockCausal3d.load(q, prefix + ".resnets.0", channels, channels,
                groups));
        Part attn = addAttention
                ? parts.bind(p, q -> MidBlockAttention.load(q, prefix + ".attentions.0", channels, groups)) : null;
        Part second = parts.bind(p, q -> ResnetBlockCausal3d.load(q, prefix + ".resnets.1", channels, channels,
                groups));
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
