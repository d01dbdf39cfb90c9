package io.github.hunyuanvideo.nn;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;

/**
 * A fully connected layer {@code y = x·Wᵀ + b}. The input is cast to the weight's dtype first, which is what CUDA
 * autocast does for the official code's fp32 LayerNorm outputs feeding bf16/fp16 linears.
 */
public final class Linear implements AutoCloseable {
    private final Tensor weight;
    private final Tensor bias;

    /** Takes (and retains) {@code weight} {@code [out, in]} and the optional {@code bias} {@code [out]}. */
    public Linear(Tensor weight, Tensor bias) {
        if (weight.dim() != 2) {
            throw new IllegalArgumentException("linear weight must be 2-D, got " + weight.dim() + "-D");
        }
        this.weight = weight;
        this.bias = bias;
        weight.retainReference();
        if (bias != null) {
            bias.retainReference();
        }
    }


    public Tensor forward(Tensor x) {
        Tensor in = castIn(x);
        return bias == null ? torch.linear(in, weight) : torch.linear(in, weight, new TensorOptional(bias));
    }

    /**
     * Writes {@link #forward}{@code (x)} into {@code out}, typically a block of rows of a larger tensor, so that
     * outputs can be joined without a concatenation pass. A contiguous {@code out} in the weight's dtype is the
     * GEMM's own output; any other is filled by a copy.
     *
     * @param out {@code [..., outFeatures]} with as many rows as x
     * @param x   {@code [..., inFeatures]}
     */
    public void forwardInto(Tensor out, Tensor x) {
        if (out.size(-1) != weight.size(0) || out.numel() / weight.size(0) != x.numel() / weight.size(1)) {
            throw new IllegalArgumentException("out " + Arrays.toString(Tensors.shape(out))
                    + " does not hold the " + weight.size(0) + " outputs of each row of x "
                    + Arrays.toString(Tensors.shape(x)));
        }
        if (!out.is_contiguous() || out.scalar_type().intern() != weight.scalar_type().intern()) {
            out.copy_(forward(x));
            return;
        }
        Tensor rows = castIn(x).reshape(-1, weight.size(1));
        Tensor target = out.view(-1, weight.size(0));
        if (bias == null) {
            torch.mm_out(target, rows, weight.t());
        } else {
            torch.addmm_out(target, bias, rows, weight.t());
        }
    }

    private Tensor castIn(Tensor x) {
        return x.scalar_type().intern() == weight.scalar_type().intern() ? x : x.to(weight.scalar_type());
    }

    /**
     * {@code GELU_tanh(forward(x))}. On CUDA with a bias this is one {@code _addmm_activation} call, which runs the
     * GELU(tanh) in cuBLASLt's GEMM epilogue on the float32 accumulator: the separate read-modify-write pass over the
     * (large) MLP activation disappears and the result is rounded once instead of twice. Elsewhere it is
     * {@code linear} then an in-place {@code gelu(tanh)}: libtorch's CPU {@code _addmm_activation} applies the exact
     * erf GELU, not the tanh form the model was trained with.
     *
     * @param x {@code [..., in]}
     * @return {@code [..., out]} in the weight's dtype
     */
    public Tensor forwardGeluTanh(Tensor x) {
        if (bias == null || !weight.is_cuda()) {
            Tensor h = forward(x);
            torch.gelu_(h, "tanh");
            return h;
        }
        Tensor in = castIn(x);
        long[] shape = Tensors.shape(in);
        long rows = 1;
        for (int i = 0; i < shape.length - 1; i++) {
            rows *= shape[i];
        }
        shape[shape.length - 1] = weight.size(0);
        return bias._addmm_activation(in.reshape(rows, in.size(-1)), weight.t(), new Scalar(1), new Scalar(1), true)
                .view(shape);
    }

    public Tensor weight() {
        return weight;
    }

    /** The bias, or {@code null}. */
    public Tensor bias() {
        return bias;
    }

    public long inFeatures() {
        return weight.size(1);
    }

    public long outFeatures() {
        return weight.size(0);
    }

    /** Releases the native weight memory. */
    @Override
    public void close() {
        weight.releaseReference();
        if (bias != null) {
            bias.releaseReference();
        }
    }
}
