package io.github.hunyuanvideo.io.video;

/**
 * Settings of {@link Mp4Writer}.
 *
 * @param fps     frames per second (1..240); the original writes 24
 * @param encoder FFmpeg H.264 encoder name ({@code "libx264"}, {@code "libopenh264"}, ...) or {@code null} to take the
 *                best one in the FFmpeg build on the classpath (libx264, else libopenh264)
 */
public record Mp4Options(int fps, String encoder) {
    /** The original's frame rate. */
    public static final int DEFAULT_FPS = 24;

    /**
     * @throws IllegalArgumentException if {@code fps} is outside 1..240 or {@code encoder} is blank
     */
    public Mp4Options {
        if (fps < 1 || fps > 240) {
            throw new IllegalArgumentException("fps must be in 1..240, got " + fps);
        }
        if (encoder != null && encoder.isBlank()) {
            throw new IllegalArgumentException("encoder name must not be blank (use null for automatic choice)");
        }
    }

    /** 24 fps, automatic encoder choice. */
    public static Mp4Options defaults() {
        return new Mp4Options(DEFAULT_FPS, null);
    }

    /** A copy with another frame rate. */
    public Mp4Options withFps(int newFps) {
        return new Mp4Options(newFps, encoder);
    }

    /** A copy with another encoder ({@code null} = automatic). */
    public Mp4Options withEncoder(String newEncoder) {
        return new Mp4Options(fps, newEncoder);
    }
}
