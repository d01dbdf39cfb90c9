package io.github.hunyuanvideo.sampler;


import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.Rope3d;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * The loaded networks of a {@link HunyuanVideoSampler} and the few model-specific operations the sampler needs
 * (RoPE tables, the guidance vector, shape checks). Owns the networks' memory.
 */
final class ModelComponents implements AutoCloseable {
    /** The DiT as the denoising loop calls it. */
    interface Transformer extends AutoCloseable {
        Tensor forward(Tensor x, Tensor t, Tensor textStates, Tensor textMask, Tensor textStates2, Tensor freqsCos,
                       Tensor freqsSin, Tensor guidance);

        @Override
        void close();
    }

    /** The VAE decoder. */
    interface Decoder extends AutoCloseable {
        /** Decodes latents already divided by the scaling factor into {@code [N, 3, T, H, W]} in [-1, 1]. */
        Tensor decode(Tensor latents);

        double scalingFactor();

        int spatialRatio();

        int temporalRatio();

        int latentChannels();

        @Override
        void close();
    }

    /** Both text encoders. */
    interface TextEncoders extends AutoCloseable {
        /** One {@link PromptEmbeddings} per text, owned by the caller (free with {@link ModelComponents#release}). */
        List<PromptEmbeddings> encode(List<String> texts, int videoLength);

        @Override
        void close();
    }

    private final DitConfig ditConfig;
    private final ScalarType ditDtype;
    private final Transformer dit;
    private final Decoder vae;
    private final TextEncoders text;

    ModelComponents(DitConfig ditConfig, ScalarType ditDtype, Transformer dit, Decoder vae, TextEncoders text) {
        if (ditConfig.inChannels() != vae.latentChannels()) {
            throw new IllegalArgumentException("latentChannels: the DiT takes " + ditConfig.inChannels()
                    + " channels but the VAE has " + vae.latentChannels());
        }
        this.ditConfig = ditConfig;
        this.ditDtype = ditDtype;
        this.dit = dit;
        this.vae = vae;
        this.text = text;
    }

    /**
     * Loads the networks of {@code layout} (already checked for missing files) on {@code device}: the DiT in
     * {@code precision}, the VAE in {@code vaePrecision} with the configured tiling, and the text encoders (on the
     * device, or on the CPU with {@code useCpuOffload}). Shapes are checked against the configuration before any
     * weight is copied.
     *
     * @throws IllegalArgumentException naming the option that does not fit the checkpoint
     */
    static ModelComponents load(CheckpointLayout layout, SamplerConfig config, Device device) throws IOException {
        DitConfig ditConfig = ditConfig(layout, config);
        VaeConfig vaeConfig = VaeConfig.fromJson(layout.vaeConfig());
        if (config.latentChannels() != ditConfig.inChannels()) {
            throw new IllegalArgumentException("latentChannels: " + config.latentChannels() + " but the DiT takes "
                    + ditConfig.inChannels() + " channels");
        }
        if (vaeConfig.latentChannels() != ditConfig.inChannels()) {
            throw new IllegalArgumentException("vae: " + layout.vaeConfig() + " has " + vaeConfig.latentChannels()
                    + " latent channels but the DiT takes " + ditConfig.inChannels());
        }
        if (config.textStatesDim() != ditConfig.textStatesDim()) {
            throw new IllegalArgumentException("textStatesDim: " + config.textStatesDim()
                    + " but the DiT reads text states of width " + ditConfig.textStatesDim());
        }
        if (config.textStatesDim2() != ditConfig.textStatesDim2()) {
            throw new IllegalArgumentException("textStatesDim2: " + config.textStatesDim2()
                    + " but the DiT reads pooled states of width " + ditConfig.textStatesDim2());
        }
        ScalarType ditDtype = config.precision().scalarType();
        TextEncoders text = null;
        Transformer dit = null;
        Decoder vae = null;
        try {
            // Text encoders first: they are used (and released) first, so the DiT never has to wait for their memory.
            if (config.loadTextEncoders()) {
                text = Encoders.load(layout, config, ditConfig, device);
            }
            dit = DitTransformer.load(layout, config, ditConfig, device);
            vae = VaeDecoder.load(layout, vaeConfig, config, device);
            return new ModelComponents(ditConfig, ditDtype, dit, vae, text);
        } catch (IOException | RuntimeException e) {
            for (AutoCloseable c : new AutoCloseable[]{text, vae, dit}) {
                if (c != null) {
                    try {
                        c.close();
                    } catch (Exception suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
            }
            throw e;
        }
    }

    /** The DiT configuration: the explicit override, the diffusers config.json, or the named official one. */
    static DitConfig ditConfig(CheckpointLayout layout, SamplerConfig config) throws IOException {
        if (config.ditConfig() != null) {
            return config.ditConfig();
        }
        if (layout.ditConfig() != null) {
            return DiffusersConfigs.transformer(layout.ditConfig());
        }
        return DitConfig.byName(config.model());
    }

    boolean hasTextEncoders() {
        return text != null;
    }

    List<PromptEmbeddings> encodePrompts(List<String> texts, int videoLength) {
        return text.encode(texts, videoLength);
    }

    /** Frees embeddings made by {@link #encodePrompts}. */
    static void release(PromptEmbeddings e) {
        e.states().releaseReference();
        e.mask().releaseReference();
        e.pooled().releaseReference();
    }

    int vaeSpatialRatio() {
        return vae.spatialRatio();
    }

    int vaeTemporalRatio() {
        return vae.temporalRatio();
    }

    double vaeScalingFactor() {
        return vae.scalingFactor();
    }

    int latentChannels() {
        return ditConfig.inChannels();
    }

    int[] patchSize() {
        return ditConfig.patchSize().stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Checks that {@code e} fits the DiT's text inputs.
     *
     * @throws IllegalArgumentException naming {@code name} and the mismatching tensor
     */
    void checkEmbeddings(String name, PromptEmbeddings e) {
        if (e.states().size(2) != ditConfig.textStatesDim()) {
            throw new IllegalArgumentException(name + ".states: width " + e.states().size(2)
                    + " does not match the DiT's text_states_dim " + ditConfig.textStatesDim());
        }
        if (e.pooled().size(1) != ditConfig.textStatesDim2()) {
            throw new IllegalArgumentException(name + ".pooled: width " + e.pooled().size(1)
                    + " does not match the DiT's text_states_dim_2 " + ditConfig.textStatesDim2());
        }
    }

    /** RoPE {cos, sin} for the token grid, built on the CPU in float32 (spec §7.2), then moved to the device. */
    Tensor[] ropeTables(long[] sizes, double theta, Device device) {
        long[] dims = ditConfig.ropeDimList().stream().mapToLong(Integer::longValue).toArray();
        Tensor[] cs = Rope3d.freqs(dims, sizes, theta);
        if (device.is_cpu()) {
            return cs;
        }
        return new Tensor[]{cs[0].to(device, ScalarType.Float), cs[1].to(device, ScalarType.Float)};
    }

    /**
     * The guidance input as the original builds it: {@code tensor([g]·batch, float32).to(dtype) · 1000} with the
     * product rounded to the DiT dtype, so 6.0 becomes 6016 in bf16 (spec §9.5); {@code exact} skips the rounding.
     */
    Tensor guidance(double scale, long batch, Device device, boolean exact) {
        return guidance(scale, batch, device, ditDtype, exact);
    }

    static Tensor guidance(double scale, long batch, Device device, ScalarType dtype, boolean exact) {
        Tensor g = torch.full(new long[]{batch}, new Scalar(scale), new TensorOptions(ScalarType.Float)
                .device(new org.bytedeco.pytorch.DeviceOptional(device)));
        return (exact ? g : g.to(dtype)).mul(new Scalar(1000.0));
    }

    Tensor velocity(Tensor x, Tensor t, Tensor states, Tensor mask, Tensor pooled, Tensor cos, Tensor sin,
                    Tensor guidance) {
        return dit.forward(x, t, states, mask, pooled, cos, sin, guidance);
    }

    Tensor decode(Tensor latents) {
        return vae.decode(latents);
    }

    @Override
    public void close() {
        dit.close();
        vae.close();
        if (text != null) {
            text.close();
        }
    }

    @Override
    public String toString() {
        return "ModelComponents[dit=" + ditConfig + ", patch=" + Arrays.toString(patchSize()) + "]";
    }
}
