/**
 * Video output: {@link io.github.hunyuanvideo.io.video.VideoFrames} (sampler output in [0, 1] → 8-bit RGB, truncated
 * as the original), {@link io.github.hunyuanvideo.io.video.Mp4Writer} (H.264/yuv420p mp4 through FFmpeg, written
 * atomically, whole or chunk by chunk), {@link io.github.hunyuanvideo.io.video.PngWriter} and
 * {@link io.github.hunyuanvideo.io.video.PngFrameWriter} (frames, whole or chunk by chunk),
 * {@link io.github.hunyuanvideo.io.video.ContactSheet} (overview PNG), {@link io.github.hunyuanvideo.io.video.VideoGrid}
 * (the original's {@code save_videos_grid}), {@link io.github.hunyuanvideo.io.video.OutputNames} (portable or the
 * original's file names, made safe for any prompt, numbered when taken) and
 * {@link io.github.hunyuanvideo.io.video.OutputFolder} (writability check, temporary-file cleanup, error reasons).
 */
package io.github.hunyuanvideo.io.video;
