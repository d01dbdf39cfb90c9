/**
 * The HunyuanVideo diffusion transformer ({@link io.github.hunyuanvideo.dit.HunyuanVideoTransformer}): one small class
 * per box of the model figure (patch and timestep/vector embedders, the single token refiner, double- and
 * single-stream blocks, the final layer), its 3D rotary position embedding, and its checkpoint loading from official,
 * diffusers and official FP8 files. See {@code docs/dit.md}.
 */
package io.github.hunyuanvideo.dit;
