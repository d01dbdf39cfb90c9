package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Tensor;
import io.github.hunyuanvideo.nn.Scopes;

/**
 * {@code final_layer}: {@code Linear(modulate(LN(img), shift, scale))} with (shift, scale) from
 * {@code adaLN_modulation}. The official Linear weight is float32 but runs under bf16 autocast; here it is simply
 * held in the compute dtype.
 */
final class FinalLayer implements AutoCloseable {
    private final Linear linear;
    private final Modulation adaLn;

    private FinalLayer(Linear linear, Modulation adaLn) {
        this.linear = linear;
        this.adaLn = adaLn;
    }

    /** Binds {@code final_layer.*}. */
    static FinalLayer load(Parameters p, DitConfig cfg) {
        long c = cfg.hiddenSize();
        Linear linear = p.linear("final_layer.linear", cfg.outFeatures(), c, true);
        return new FinalLayer(linear, Modulation.load(p, "final_layer.adaLN_modulation.1", c, 2));
    }

    /** {@code [B, Li, hidden]} → {@code [B, Li, pt·ph·pw·C_out]}. */
    Tensor forward(Tensor image, Tensor siluVec) {
        Tensor[] shiftScale = adaLn.forward(siluVec);
        return Scopes.scoped(() -> linear.forward(Modulation.normModulate(image, shiftScale[0], shiftScale[1])));
    }

    @Override
    public void close() {
        Scopes.closeAll(linear, adaLn);
    }
}
