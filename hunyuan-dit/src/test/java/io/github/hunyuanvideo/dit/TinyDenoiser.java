package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.LayerStreaming;
import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.List;

/**
 * The DiT of {@code dit_tiny} on the CPU in float32, fed the inputs and schedule of the {@code teacache_tiny} case
 * (its initial latents, text, sigmas and embedded guidance), stepped by plain Euler {@code x ← x + v·(σ_{i+1} − σ_i)}:
 * a small denoising loop for the step-cache tests of this module. Tensors belong to the caller's scope.
 */
final class TinyDenoiser implements AutoCloseable {
    final ReferenceCase weights = ReferenceCase.load("dit_tiny");
    final ReferenceCase inputs = ReferenceCase.load("teacache_tiny");
    final DitConfig cfg = DitConfig.fromJson(weights.config());
    final HunyuanVideoTransformer model;
    private final JsonNode settings = inputs.config();

    /** Every block resident. */
    TinyDenoiser() {
        this(LayerStreaming.none());
    }

    /** The blocks {@code streaming} names streamed from host memory. */
    TinyDenoiser(LayerStreaming streaming) {
        model = DitCheckpoint.loadOfficial(weights.modelWeights(), cfg, new Device("cpu"), ScalarType.Float,
                LoraMerge.none(), streaming);
    }

    /** The case's number of steps. */
    int steps() {
        return settings.get("num_inference_steps").asInt();
    }

    /** σ_i of the case's schedule (N + 1 values). */
    float sigma(int i) {
        return (float) settings.get("sigmas").get(i).asDouble();
    }

    /** The DiT inputs of step {@code i} at {@code latents} (a batch of B samples, all with the case's text). */
    DitInputs inputs(int i, Tensor latents) {
        long batch = latents.size(0);
        float t = (float) settings.get("timesteps").get(i).asDouble();
        float g = (float) (settings.get("embedded_guidance_scale").asDouble() * 1000);
        return new DitInputs(latents, torch.full(new long[]{batch}, new Scalar(t)),
                inputs.tensor("in.prompt_embeds").repeat(batch, 1, 1), inputs.tensor("in.prompt_mask").repeat(batch, 1),
                inputs.tensor("in.prompt_embeds_2").repeat(batch, 1), torch.full(new long[]{batch}, new Scalar(g)));
    }

    /** The Euler step from step {@code i}. */
    Tensor euler(int i, Tensor latents, Tensor velocity) {
        return latents.add(velocity.mul(new Scalar(sigma(i + 1) - sigma(i))));
    }

    /**
     * The velocities of {@code steps} steps from the case's initial latents, {@code batch} copies of them, under
     * {@code cache} ({@code null}: none), the intermediates reported to {@code probe} (may be {@code null}).
     */
    List<Tensor> velocities(int steps, int batch, DitProbe probe, StepCacheState cache) {
        List<Tensor> out = new ArrayList<>();
        Tensor x = inputs.tensor("in.latents").repeat(batch, 1, 1, 1, 1);
        for (int i = 0; i < steps; i++) {
            Tensor v = model.forward(inputs(i, x), probe, cache);
            out.add(v);
            x = euler(i, x, v);
        }
        return out;
    }

    /** A final layer of its own over the case's weights, to recompute what a skipped step returns. */
    FinalLayer finalLayer() {
        try (Parameters p = Parameters.of(weights.modelWeights(), new Device("cpu"), ScalarType.Float)) {
            return FinalLayer.load(p, cfg);
        }
    }

    @Override
    public void close() {
        model.close();
        weights.close();
        inputs.close();
    }
}
