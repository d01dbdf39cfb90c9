package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.io.TorchCheckpoint;
import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The {@link HunyuanVideoTransformer} as the sampler's {@link ModelComponents.Transformer}. */
final class DitTransformer implements ModelComponents.Transformer {
    private static final Logger LOG = LoggerFactory.getLogger(DitTransformer.class);

    private final HunyuanVideoTransformer model;

    DitTransformer(HunyuanVideoTransformer model) {
        this.model = model;
    }

    /**
     * Loads the DiT of {@code layout} in {@link SamplerConfig#precision()}. Official or diffusers tensor names are
     * recognised from the checkpoint itself; {@code .pt} files are unwrapped under {@link SamplerConfig#loadKey()};
     * with {@link SamplerConfig#useFp8()} the FP8 block weights are dequantized with their scale map.
     */
    static DitTransformer load(CheckpointLayout layout, SamplerConfig config, DitConfig ditConfig, Device device)
            throws IOException {
        ScalarType dtype = config.precision().scalarType();
        long t0 = System.nanoTime();
        try (Weights weights = openDit(layout.ditWeights(), config.loadKey())) {
            HunyuanVideoTransformer m;
            String names;
            if (config.useFp8()) {
                // The scale map is torch.load-ed as is by the original: no wrapper to remove.
                try (Weights scales = Weights.of(List.of(TorchCheckpoint.open(layout.ditFp8Map(), null)))) {
                    m = HunyuanVideoTransformer.loadFp8(weights, scales, ditConfig, device, dtype);
                }
                names = "official FP8";
            } else if (weights.contains("x_embedder.proj.weight")) {
                m = HunyuanVideoTransformer.loadDiffusers(weights, ditConfig, device, dtype);
                names = "diffusers";
            } else {
                m = HunyuanVideoTransformer.load(weights, ditConfig, device, dtype);
                names = "official";
            }
            LOG.info("DiT loaded from {} ({} names, {}) in {} ms", layout.ditWeights(), names, dtype,
                    (System.nanoTime() - t0) / 1_000_000);
            return new DitTransformer(m);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("ditWeight: " + layout.ditWeights() + ": " + e.getMessage(), e);
        }
    }

    /** A DiT checkpoint file or folder; {@code .pt} files are unwrapped like the official loader (spec §4.2). */
    static Weights openDit(Path path, String loadKey) throws IOException {
        String name = path.getFileName().toString();
        if (Files.isDirectory(path) || !(name.endsWith(".pt") || name.endsWith(".pth"))) {
            return Weights.open(path);
        }
        TorchCheckpoint ckpt;
        if (name.equals("pytorch_model_" + loadKey + ".pt")) {
            ckpt = TorchCheckpoint.open(path, null); // the bare state dict of that name
        } else if (loadKey.equals("module")) {
            ckpt = TorchCheckpoint.open(path); // {"module": sd}, or a bare state dict
        } else {
            ckpt = TorchCheckpoint.open(path, loadKey);
        }
        return Weights.of(List.of(ckpt));
    }

    @Override
    public Tensor forward(Tensor x, Tensor t, Tensor textStates, Tensor textMask, Tensor textStates2,
                          Tensor freqsCos, Tensor freqsSin, Tensor guidance) {
        return model.forward(x, t, textStates, textMask, textStates2, freqsCos, freqsSin, guidance);
    }

    @Override
    public void close() {
        model.close();
    }
}
