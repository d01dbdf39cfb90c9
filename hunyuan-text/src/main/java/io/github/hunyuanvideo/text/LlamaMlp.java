package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import io.github.hunyuanvideo.nn.Scopes;

/** Llama's SwiGLU feed-forward: {@code down(silu(gate(x)) · up(x))}. */
final class LlamaMlp implements AutoCloseable {
    private final Linear gate;
    private final Linear up;
    private final Linear down;

    private LlamaMlp(Linear gate, Linear up, Linear down) {
        this.gate = gate;
        this.up = up;
        this.down = down;
    }

    /** Binds {@code prefix.gate_proj}, {@code .up_proj} and {@code .down_proj}. */
    static LlamaMlp load(Parameters p, String prefix, LlamaConfig c) {
        long h = c.hiddenSize();
        long m = c.intermediateSize();
        boolean b = c.mlpBias();
        return new LlamaMlp(p.linear(prefix + ".gate_proj", m, h, b), p.linear(prefix + ".up_proj", m, h, b),
                p.linear(prefix + ".down_proj", h, m, b));
    }

    Tensor forward(Tensor x) {
        return down.forward(torch.silu(gate.forward(x)).mul(up.forward(x)));
    }

    @Override
    public void close() {
        Scopes.closeAll(gate, up, down);
    }
}
