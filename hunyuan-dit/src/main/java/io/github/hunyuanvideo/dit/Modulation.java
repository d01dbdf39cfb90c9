package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.StageTimer;
import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import io.github.hunyuanvideo.nn.Scopes;

/**
 * adaLN modulation ({@code ModulateDiT}: SiLU, then Linear, then {@code chunks} equal parts), plus the two
 * operations that consume its outputs: {@link #normModulate} ({@code modulate(LN(x), shift, scale)}) and
 * {@link #addGated} ({@code x + apply_gate(f(input), gate)}).
 */
final class Modulation implements AutoCloseable {
    /** eps of every LayerNorm of the DiT. */
    static final double LN_EPS = 1e-6;

    private final Linear linear;
    private final int chunks;

    private Modulation(Linear linear, int chunks) {
        this.linear = linear;
        this.chunks = chunks;
    }

    /** Binds the Linear {@code prefix} ({@code [chunks·hidden, hidden]}). */
    static Modulation load(Parameters p, String prefix, long hidden, int chunks) {
        return new Modulation(p.linear(prefix, chunks * hidden, hidden, true), chunks);
    }

    /**
     * The modulation vectors, each {@code [B, hidden]}, in the official chunk order.
     *
     * @param siluVec {@code SiLU(vec)} {@code [B, hidden]}, computed once per forward for all blocks
     */
    Tensor[] forward(Tensor siluVec) {
        TensorVector parts = linear.forward(siluVec).chunk(chunks, 1);
        Tensor[] out = new Tensor[chunks];
        for (int i = 0; i < chunks; i++) {
            out[i] = parts.get(i);
        }
        return out;
    }

    /**
     * {@code LN(x)·(1 + scale) + shift} with LN over the last dim, no affine parameters, eps 1e-6. The modulation is
     * done as LayerNorm's own affine step, so the whole expression runs in float32 inside one kernel and is rounded
     * once to x's dtype: what autocast's float32 LayerNorm followed by the cast at the next Linear gives.
     *
     * @param x     {@code [B, L, C]}
     * @param shift {@code [B, C]}
     * @param scale {@code [B, C]}
     */
    static Tensor normModulate(Tensor x, Tensor shift, Tensor scale) {
        long[] norm = {x.size(2)};
        return Scopes.scoped(() -> {
            // 1 + scale rounds to the compute dtype, as in the original.
            Tensor weight = scale.add(new Scalar(1.0));
            long batch = x.size(0);
            if (batch == 1) {
                return torch.layer_norm(x, norm, new TensorOptional(weight.select(0, 0)),
                        new TensorOptional(shift.select(0, 0)), LN_EPS, false);
            }
            TensorVector rows = new TensorVector();
            for (long b = 0; b < batch; b++) {
                rows.push_back(torch.layer_norm(x.select(0, b), norm, new TensorOptional(weight.select(0, b)),
                        new TensorOptional(shift.select(0, b)), LN_EPS, false));
            }
            return torch.stack(new TensorArrayRef(rows), 0);
        });
    }

    /**
     * {@code x += gate ⊙ (input·Wᵀ + b)} in place. The per-sample gate is folded into the (small) weight and bias,
     * so the residual add happens inside the GEMM (β = 1) instead of as separate passes over the activation.
     *
     * @param x     residual stream {@code [B, L, O]}, updated in place
     * @param input {@code [B, L, I]} (any strides with a unit last stride)
     * @param layer the Linear {@code [O, I]}
     * @param gate  {@code [B, O]}
     */
    static void addGated(Tensor x, Tensor input, Linear layer, Tensor gate) {
        try (PointerScope scope = new PointerScope()) {
            Tensor w = layer.dequantizedWeight();
            Tensor bias = layer.bias();
            if (x.size(0) == 1) {
                Tensor g = gate.select(0, 0);
                if (bias != null) {
                    x.add_(bias.mul(g));
                    StageTimer.lap("gated residual: bias pass");
                }
                x.select(0, 0).addmm_(input.select(0, 0), w.mul(g.unsqueeze(1)).t());
            } else {
                if (bias != null) {
                    x.add_(bias.unsqueeze(0).mul(gate).unsqueeze(1));
                    StageTimer.lap("gated residual: bias pass");
                }
                x.baddbmm_(input, w.unsqueeze(0).mul(gate.unsqueeze(2)).transpose(1, 2));
            }
        }
    }

    /** The modulation Linear. */
    Linear linear() {
        return linear;
    }

    @Override
    public void close() {
        linear.close();
    }
}
