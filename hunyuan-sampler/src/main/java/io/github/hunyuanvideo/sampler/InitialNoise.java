package io.github.hunyuanvideo.sampler;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch_cuda;

import java.util.Arrays;
import java.util.List;

/**
 * The initial latents exactly as the original draws them (the original's {@code prepare_latents}): for video {@code k} a fresh generator
 * on the target device seeded with {@code seeds[k]}, one {@code randn} of shape {@code [1, C, T, h, w]} in the target
 * dtype on that device, then concatenated along the batch. On CUDA this is PyTorch's Philox kernel and on the CPU its
 * mt19937 one, so the values equal {@code torch.randn(shape, generator=torch.Generator(device).manual_seed(s),
 * dtype=dtype, device=device)} bit for bit.
 */
public final class InitialNoise {
    private InitialNoise() {
    }

    /**
     * Draws one noise tensor per seed and concatenates them.
     *
     * @param seeds one seed per video
     * @param shape the shape of one video's latents, {@code [1, C, T, h, w]}
     * @param device where the generator and the noise live ({@code cpu} or {@code cuda[:N]})
     * @param dtype the noise dtype (the original uses the text encoder's dtype, fp16)
     * @return {@code [seeds.size(), C, T, h, w]} on {@code device}
     */
    public static Tensor draw(List<Long> seeds, long[] shape, Device device, ScalarType dtype) {
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("seeds: need at least one seed");
        }
        if (shape.length == 0 || shape[0] != 1) {
            throw new IllegalArgumentException("shape: one video's shape must start with 1, got "
                    + Arrays.toString(shape));
        }
        if (seeds.size() == 1) {
            return drawOne(seeds.get(0), shape, device, dtype);
        }
        TensorVector parts = new TensorVector();
        for (long s : seeds) {
            parts.push_back(drawOne(s, shape, device, dtype));
        }
        return torch.cat(new TensorArrayRef(parts), 0);
    }

    /** {@code torch.randn(shape, generator=Generator(device).manual_seed(seed), dtype=dtype, device=device)}. */
    public static Tensor drawOne(long seed, long[] shape, Device device, ScalarType dtype) {
        Generator gen = generator(seed, device);
        TensorOptions opts = new TensorOptions(dtype).device(new org.bytedeco.pytorch.DeviceOptional(device));
        return torch.randn(shape, new GeneratorOptional(gen), opts);
    }

    /** A fresh generator for {@code device}, seeded like {@code torch.Generator(device).manual_seed(seed)}. */
    public static Generator generator(long seed, Device device) {
        Generator gen;
        if (device.is_cuda()) {
            gen = device.has_index() ? torch_cuda.make_generator_cuda(device.index()) : torch_cuda.make_generator_cuda();
        } else if (device.is_cpu()) {
            gen = torch.make_generator_cpu();
        } else {
            throw new IllegalArgumentException("device: noise can be drawn on cpu or cuda, got " + device.str());
        }
        gen.set_current_seed(seed);
        return gen;
    }
}
