package io.github.hunyuanvideo.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import java.util.function.Function;

/**
 * A fully connected layer {@code y = x·Wᵀ + b}. The input is cast to the compute dtype first, which is what CUDA
 * autocast does for the official code's fp32 LayerNorm outputs feeding bf16/fp16 linears.
 *
 * <p>An FP8 layer ({@link #Linear(Tensor, Tensor, Tensor)} with a scale) keeps its weight in float8_e4m3fn with one
 * per-tensor scale in the compute dtype, and computes as the official {@code fp8_optimization.py} does on every call:
 * {@code W = weight.to(dtype) · scale}, then the linear in the compute dtype. {@code W} is a temporary of each call,
 * freed right after the GEMM, so the device holds half the bytes of a bf16 weight plus one weight's temporary.
 */
public final class Linear implements AutoCloseable {
    private final Tensor weight;
    private final Tensor bias;
    /** The FP8 per-tensor scale (0-d, compute dtype), or {@code null} when the weight is in the compute dtype. */
    private final Tensor scale;

    /** Takes (and retains) {@code weight} {@code [out, in]} and the optional {@code bias} {@code [out]}. */
    public Linear(Tensor weight, Tensor bias) {
        this(weight, bias, null);
    }

    /**
     * Takes (and retains) {@code weight} {@code [out, in]}, the optional {@code bias} {@code [out]} and, for an FP8
     * layer, {@code scale}: a single value in the compute dtype with {@code weight} in float8_e4m3fn.
     *
     * @throws IllegalArgumentException if the weight is not 2-D, or is float8 without a scale (or has a scale without
     *                                  being float8)
     */
    public Linear(Tensor weight, Tensor bias, Tensor scale) {
        if (weight.dim() != 2) {
            throw new IllegalArgumentException("linear weight must be 2-D, got " + weight.dim() + "-D");
        }
        boolean float8 = weight.scalar_type().intern() == ScalarType.Float8_e4m3fn;
        if (float8 != (scale != null)) {
            throw new IllegalArgumentException(float8 ? "a float8_e4m3fn weight needs its scale"
                    : "a scale is for a float8_e4m3fn weight, not " + weight.scalar_type().intern());
        }
        if (scale != null && scale.numel() != 1) {
            throw new IllegalArgumentException("the FP8 scale must be a single value, got shape "
                    + Arrays.toString(Tensors.shape(scale)));
        }
        this.weight = weight;
        this.bias = bias;
        this.scale = scale;
        weight.retainReference();
        if (bias != null) {
            bias.retainReference();
        }
        if (scale != null) {
            scale.retainReference();
        }
    }

    public Tensor forward(Tensor x) {
        Tensor in = castIn(x);
        return withWeight(w -> bias == null ? torch.linear(in, w) : torch.linear(in, w, new TensorOptional(bias)));
    }

    /**
     * Writes {@link #forward}{@code (x)} into {@code out}, typically a block of rows of a larger tensor, so that
     * outputs can be joined without a concatenation pass. A contiguous {@code out} in the compute dtype is the
     * GEMM's own output; any other is filled by a copy.
     *
     * @param out {@code [..., outFeatures]} with as many rows as x
     * @param x   {@code [..., inFeatures]}
     */
    public void forwardInto(Tensor out, Tensor x) {
        if (out.size(-1) != outFeatures() || out.numel() / outFeatures() != x.numel() / inFeatures()) {
            throw new IllegalArgumentException("out " + Arrays.toString(Tensors.shape(out))
                    + " does not hold the " + outFeatures() + " outputs of each row of x "
                    + Arrays.toString(Tensors.shape(x)));
        }
        if (!out.is_contiguous() || out.scalar_type().intern() != dtype()) {
            try (PointerScope scope = new PointerScope()) {
                out.copy_(forward(x));
            }
            return;
        }
        Tensor rows = castIn(x).reshape(-1, inFeatures());
        Tensor target = out.view(-1, outFeatures());
        withWeight(w -> bias == null ? torch.mm_out(target, rows, w.t())
                : torch.addmm_out(target, bias, rows, w.t()));
    }

    private Tensor castIn(Tensor x) {
        return x.scalar_type().intern() == dtype() ? x : x.to(dtype());
    }

    /**
     * {@code GELU_tanh(forward(x))}. On CUDA with a bias this is one {@code _addmm_activation} call, which runs the
     * GELU(tanh) in cuBLASLt's GEMM epilogue on the float32 accumulator: the separate read-modify-write pass over the
     * (large) MLP activation disappears and the result is rounded once instead of twice. Elsewhere it is
     * {@code linear} then an in-place {@code gelu(tanh)}: libtorch's CPU {@code _addmm_activation} applies the exact
     * erf GELU, not the tanh form the model was trained with.
     *
     * @param x {@code [..., in]}
     * @return {@code [..., out]} in the compute dtype
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
        shape[shape.length - 1] = outFeatures();
        long n = rows;
        return withWeight(w -> bias._addmm_activation(in.reshape(n, in.size(-1)), w.t(), new Scalar(1),
                new Scalar(1), true)).view(shape);
    }

    /**
     * {@code op} applied to the weight in the compute dtype; for an FP8 layer that weight is a temporary freed as soon
     * as {@code op} returns (the GEMMs of every libtorch device are ordered on its stream, so a CUDA kernel queued
     * by {@code op} still reads it). The result belongs to the caller's scope.
     */
    private Tensor withWeight(Function<Tensor, Tensor> op) {
        if (scale == null) {
            return op.apply(weight);
        }
        return Scopes.scoped(() -> op.apply(dequantizedWeight()));
    }

    /**
     * The weight as stored, {@code [out, in]}: in the compute dtype, or float8_e4m3fn for an FP8 layer (see
     * {@link #dequantizedWeight}).
     */
    public Tensor weight() {
        return weight;
    }

    /**
     * The weight in the compute dtype, as the GEMMs use it: {@link #weight()} itself, or for an FP8 layer
     * {@code weight.to(dtype) · scale}, a new tensor that belongs to the caller's scope.
     */
    public Tensor dequantizedWeight() {
        if (scale == null) {
            return weight;
        }
        Tensor w = weight.to(scale.scalar_type());
        w.mul_(scale);
        return w;
    }

    /** The FP8 per-tensor scale (a single value in the compute dtype), or {@code null} for a plain layer. */
    public Tensor scale() {
        return scale;
    }

    /** The dtype this layer computes and returns in: the weight's, or an FP8 layer's scale's. */
    public ScalarType dtype() {
        return (scale == null ? weight : scale).scalar_type().intern();
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
        if (scale != null) {
            scale.releaseReference();
        }
    }
}
