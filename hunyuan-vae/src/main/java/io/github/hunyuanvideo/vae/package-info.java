/**
 * HunyuanVideo's causal 3D VAE ({@code 884-16c-hy}) on libtorch.
 *
 * <p>Entry points: {@link io.github.hunyuanvideo.vae.CausalVideoVae} ({@code fromPretrained}, {@code load},
 * {@code decode}, {@code decode(latents, sink)}, {@code encode}), its configuration
 * {@link io.github.hunyuanvideo.vae.VaeConfig}, the tiling settings {@link io.github.hunyuanvideo.vae.TilingConfig},
 * the streaming consumer {@link io.github.hunyuanvideo.vae.FrameSink} and the posterior
 * {@link io.github.hunyuanvideo.vae.DiagonalGaussian}. The package-private classes are the boxes of the model figure
 * (one per module of the official {@code AutoencoderKLCausal3D}) and the tiling machinery.
 *
 * <p>Decoding in the pipeline: {@code vae.decode(latents / vae.config().scalingFactor())}.
 */
package io.github.hunyuanvideo.vae;
