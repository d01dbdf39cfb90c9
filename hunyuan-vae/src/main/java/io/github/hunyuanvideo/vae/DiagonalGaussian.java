package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The encoder's posterior {@code N(mean, exp(logvar))} per latent element ({@code DiagonalGaussianDistribution}).
 *
 * @param mean   [B, latent, T, H, W]
 * @param logvar same shape, already clamped to [−30, 20]
 */
public record DiagonalGaussian(Tensor mean, Tensor logvar) implements AutoCloseable {

    /** The posterior of the moments {@code quant_conv(encoder(x))} [B, 2·latent, …]: mean first, then logvar. */
    static DiagonalGaussian fromMoments(Tensor moments) {
        long half = moments.size(1) / 2;
        Tensor mean = moments.narrow(1, 0, half).contiguous();
        Tensor logvar = moments.narrow(1, half, half).clamp(new org.bytedeco.pytorch.ScalarOptional(new Scalar(-30.0)),
                new org.bytedeco.pytorch.ScalarOptional(new Scalar(20.0)));
        return new DiagonalGaussian(mean, logvar);
    }

    /** {@code exp(0.5 · logvar)}. */
    public Tensor std() {
        return logvar.mul(new Scalar(0.5)).exp();
    }

    /**
     * {@code mean + std · ε} with {@code ε ~ N(0, 1)} drawn from {@code generator} in the posterior's dtype on the
     * generator's device, then moved to the posterior's device (diffusers' {@code randn_tensor}).
     */
    public Tensor sample(Generator generator) {
        Tensor eps = torch.randn(Tensors.shape(mean), new GeneratorOptional(generator),
                new TensorOptions(generator.device()).dtype(new ScalarTypeOptional(mean.scalar_type())));
        return mean.add(std().mul(eps.to(mean.device(), mean.scalar_type())));
    }

    /** The mean. */
    public Tensor mode() {
        return mean;
    }

    /** Releases both tensors. */
    @Override
    public void close() {
        mean.close();
        logvar.close();
    }
}
