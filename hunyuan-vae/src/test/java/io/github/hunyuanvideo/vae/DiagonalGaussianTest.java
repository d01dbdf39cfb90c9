package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** DiagonalGaussianDistribution: chunk order, logvar clamp, std, seeded sampling, mode. */
class DiagonalGaussianTest {
    @Test
    void posteriorOfMoments() {
        try (PointerScope scope = new PointerScope()) {
            float[] moments = {1, 2, 3, -40, 0, 25}; // [1, 6, 1, 1, 1]: mean 1, 2, 3; logvar −40, 0, 25
            Tensor m = Tensors.fromFloats(moments, 1, 6, 1, 1, 1);
            DiagonalGaussian d = DiagonalGaussian.fromMoments(m);
            assertArrayEquals(new float[]{1, 2, 3}, Tensors.toFloatArray(d.mean()));
            assertArrayEquals(new float[]{-30, 0, 20}, Tensors.toFloatArray(d.logvar()));
            assertArrayEquals(new float[]{(float) Math.exp(-15), 1, (float) Math.exp(10)},
                    Tensors.toFloatArray(d.std()), 1e-6f * (float) Math.exp(10));
            assertEquals(d.mean(), d.mode());

            Tensor sample = d.sample(torch.createCPUGenerator(42));
            Generator same = torch.createCPUGenerator(42);
            Tensor eps = torch.randn(new long[]{1, 3, 1, 1, 1}, new GeneratorOptional(same),
                    new TensorOptions(ScalarType.Float));
            Tensor expected = d.mean().add(d.std().mul(eps));
            assertArrayEquals(Tensors.toFloatArray(expected), Tensors.toFloatArray(sample));
            assertEquals(0.0, Tensors.relativeError(d.sample(torch.createCPUGenerator(42)), sample));
        }
    }
}
