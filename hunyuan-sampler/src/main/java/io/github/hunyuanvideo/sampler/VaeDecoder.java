package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.vae.CausalVideoVae;
import io.github.hunyuanvideo.vae.TilingConfig;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;

/** The {@link CausalVideoVae} as the sampler's {@link ModelComponents.Decoder}. */
final class VaeDecoder implements ModelComponents.Decoder {
    private final CausalVideoVae vae;

    VaeDecoder(CausalVideoVae vae, boolean tiling) {
        this.vae = vae;
        vae.setTiling(tiling ? TilingConfig.of(vae.config()) : TilingConfig.disabled());
    }

    /** Loads the VAE of {@code layout} in {@link SamplerConfig#vaePrecision()} with the configured tiling. */
    static VaeDecoder load(CheckpointLayout layout, VaeConfig vaeConfig, SamplerConfig config, Device device)
            throws IOException {
        try (Weights w = Weights.open(layout.vaeWeights())) {
            return new VaeDecoder(CausalVideoVae.load(w, vaeConfig, device, config.vaePrecision().scalarType()),
                    config.vaeTiling());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("vae: " + layout.vaeWeights() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Tensor decode(Tensor latents) {
        return vae.decode(latents);
    }

    @Override
    public double scalingFactor() {
        return vae.config().scalingFactor();
    }

    @Override
    public int spatialRatio() {
        // The pipeline's vae_scale_factor: 2^(len(block_out_channels) - 1).
        return 1 << (vae.config().blocks() - 1);
    }

    @Override
    public int temporalRatio() {
        return vae.config().timeCompressionRatio();
    }

    @Override
    public int latentChannels() {
        return vae.config().latentChannels();
    }

    @Override
    public void close() {
        vae.close();
    }
}
