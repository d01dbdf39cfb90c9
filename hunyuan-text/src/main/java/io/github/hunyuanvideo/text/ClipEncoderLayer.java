package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.LayerNorm;
import io.github.hunyuanvideo.nn.Parameters;

import org.bytedeco.pytorch.Tensor;
import io.github.hunyuanvideo.nn.Scopes;

/** One pre-norm CLIP block: {@code h += attn(ln1(h)); h += mlp(ln2(h))}. */
final class ClipEncoderLayer implements AutoCloseable {
    private final LayerNorm norm1;
    private final ClipAttention attention;
    private final LayerNorm norm2;
    private final ClipMlp mlp;

    private ClipEncoderLayer(LayerNorm norm1, ClipAttention attention, LayerNorm norm2, ClipMlp mlp) {
        this.norm1 = norm1;
        this.attention = attention;
        this.norm2 = norm2;
        this.mlp = mlp;
    }

    /** Binds {@code prefix.layer_norm1}, {@code .self_attn.*}, {@code .layer_norm2}, {@code .mlp.fc1/fc2}. */
    static ClipEncoderLayer load(Parameters p, String prefix, ClipTextConfig c) {
        return new ClipEncoderLayer(p.layerNorm(prefix + ".layer_norm1", c.hiddenSize(), c.layerNormEps()),
                ClipAttention.load(p, prefix + ".self_attn", c),
                p.layerNorm(prefix + ".layer_norm2", c.hiddenSize(), c.layerNormEps()),
                ClipMlp.load(p, prefix + ".mlp", c));
    }

    Tensor forward(Tensor h, Tensor mask) {
        Tensor x = h.add(attention.forward(norm1.forward(h), mask));
        return x.add(mlp.forward(norm2.forward(x)));
    }

    @Override
    public void close() {
        Scopes.closeAll(norm1, attention, norm2, mlp);
    }
}
