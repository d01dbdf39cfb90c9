/** HunyuanVideo's 3D rotary position embedding ({@link io.github.hunyuanvideo.core.rope.Rope3d}, spec §7). */
package io.github.hunyuanvideo.core.rope;
