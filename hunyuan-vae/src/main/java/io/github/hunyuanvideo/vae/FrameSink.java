package io.github.hunyuanvideo.vae;

import org.bytedeco.pytorch.Tensor;

/**
 * Receives decoded video frames as soon as they are final, in order and without gaps, from
 * {@link CausalVideoVae#decode(Tensor, FrameSink)}.
 */
@FunctionalInterface
public interface FrameSink {
    /**
     * @param frames     [B, C, t, H, W] in the VAE's dtype and on its device; a view that is freed after this call
     *                   returns, so copy what must be kept
     * @param firstFrame index of {@code frames}' first frame in the whole video
     */
    void accept(Tensor frames, long firstFrame);
}
