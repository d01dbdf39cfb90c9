/**
 * The HunyuanVideo diffusion transformer ({@link io.github.hunyuanvideo.core.dit.HunyuanVideoTransformer}, spec §6):
 * one small class per box of the model figure (patch and timestep/vector embedders, the single token refiner, double-
 * and single-stream blocks, the final layer), loading from official, diffusers and official FP8 checkpoints.
 */
package io.github.hunyuanvideo.core.dit;
