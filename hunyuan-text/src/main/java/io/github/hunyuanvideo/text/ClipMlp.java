package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import io.github.hunyuanvideo.nn.Scopes;

/** CLIP's feed-forward: {@code fc2(act(fc1(x)))} with quick-GELU ({@code x·σ(1.702x)}) or exact GELU. */
final class ClipMlp implements AutoCloseable {
    private final Linear fc1;
    private final Linear fc2;
    private final boolean quickGelu;

    private ClipMlp(Linear fc1, Linear fc2, boolean quickGelu) {
        this.fc1 = fc1;
        this.fc2 = fc2;
        this.quickGelu = quickGelu;
    }

    /** Binds {@code prefix.fc1} and {@code prefix.fc2}. */
    static ClipMlp load(Parameters p, String prefix, ClipTextConfig c) {
        return new ClipMlp(p.linear(prefix + ".fc1", c.intermediateSize(), c.hiddenSize(), true),
                p.linear(prefix + ".fc2", c.hiddenSize(), c.intermediateSize(), true), c.quickGelu());
    }

    Tensor forward(Tensor x) {
        Tensor h = fc1.forward(x);
        Tensor a = quickGelu ? h.mul(h.mul(new Scalar(1.702)).sigmoid()) : torch.gelu(h);
        return fc2.forward(a);
    }

    @Override
    public void close() {
        Scopes.closeAll(fc1, fc2);
    }
}
