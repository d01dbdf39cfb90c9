package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.RmsNorm;
import org.bytedeco.pytorch.Tensor;
import io.github.hunyuanvideo.nn.Scopes;

/** One pre-norm Llama block: {@code h += attn(norm(h)); h += mlp(norm(h))}. */
final class LlamaDecoderLayer implements AutoCloseable {
    private final RmsNorm inputNorm;
    private final LlamaAttention attention;
    private final RmsNorm postAttentionNorm;
    private final LlamaMlp mlp;

    private LlamaDecoderLayer(RmsNorm inputNorm, LlamaAttention attention, RmsNorm postAttentionNorm, LlamaMlp mlp) {
        this.inputNorm = inputNorm;
        this.attention = attention;
        this.postAttentionNorm = postAttentionNorm;
        this.mlp = mlp;
    }

    /** Binds {@code prefix.input_layernorm}, {@code .self_attn.*}, {@code .post_attention_layernorm}, {@code .mlp.*}. */
    static LlamaDecoderLayer load(Parameters p, String prefix, LlamaConfig c) {
        return new LlamaDecoderLayer(p.rmsNorm(prefix + ".input_layernorm.weight", c.hiddenSize(), c.rmsNormEps()),
                LlamaAttention.load(p, prefix + ".self_attn", c),
                p.rmsNorm(prefix + ".post_attention_layernorm.weight", c.hiddenSize(), c.rmsNormEps()),
                LlamaMlp.load(p, prefix + ".mlp", c));
    }

    Tensor forward(Tensor h, Tensor cos, Tensor sin, Tensor mask) {
        Tensor x = h.add(attention.forward(inputNorm.forward(h), cos, sin, mask));
        return x.add(mlp.forward(postAttentionNorm.forward(x)));
    }

    @Override
    public void close() {
        Scopes.closeAll(inputNorm, attention, postAttentionNorm, mlp);
    }
}
