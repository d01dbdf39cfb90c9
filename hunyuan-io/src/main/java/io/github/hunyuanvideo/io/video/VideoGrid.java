package io.github.hunyuanvideo.io.video;

import java.util.ArrayList;
import java.util.List;

/**
 * Several videos in one, tiled frame by frame as the original's {@code save_videos_grid}: each frame is
 * torchvision's {@code make_grid(frames_of_all_videos, nrow, padding)}.
 *
 * <p>As in torchvision, {@code nrow} is the number of videos per <em>row</em> (the original passes its
 * {@code n_rows=1}, which stacks the videos vertically); padding is black; a single video is returned unchanged.
 * Frames are tiled one by one, so videos that arrive in chunks are combined chunk by chunk: the combined chunks, one
 * after another, are the combination of the whole videos.
 */
public final class VideoGrid {
    /** torchvision's default padding. */
    public static final int DEFAULT_PADDING = 2;

    private VideoGrid() {
    }

    /**
     * Tiles {@code videos} (all of the same frame count and size).
     *
     * @throws IllegalArgumentException if the list is empty, the videos differ in shape, {@code nrow < 1} or
     *                                  {@code padding < 0}
     */
    public static VideoFrames combine(List<VideoFrames> videos, int nrow, int padding) {
        Grid.checkLayout(nrow, padding);
        if (videos.isEmpty()) {
            throw new IllegalArgumentException("videos must not be empty");
        }
        VideoFrames first = videos.get(0);
        for (int i = 1; i < videos.size(); i++) {
            VideoFrames v = videos.get(i);
            if (v.frameCount() != first.frameCount() || v.height() != first.height() || v.width() != first.width()) {
                throw new IllegalArgumentException("video " + i + " is " + v.frameCount() + "x" + v.height() + "x"
                        + v.width() + " but video 0 is " + first.frameCount() + "x" + first.height() + "x"
                        + first.width() + " (frames x height x width)");
            }
        }
        if (videos.size() == 1) {
            return first;
        }
        byte[] out = null;
        int gridH = 0;
        int gridW = 0;
        for (int t = 0; t < first.frameCount(); t++) {
            List<byte[]> frames = new ArrayList<>(videos.size());
            for (VideoFrames v : videos) {
                frames.add(v.frameRgb(t));
            }
            Grid g = Grid.of(frames, first.height(), first.width(), nrow, padding);
            if (out == null) {
                gridH = g.height();
                gridW = g.width();
                out = new byte[first.frameCount() * gridH * gridW * 3];
            }
            System.arraycopy(g.rgb(), 0, out, t * gridH * gridW * 3, g.rgb().length);
        }
        return VideoFrames.fromRgb(out, first.frameCount(), gridH, gridW);
    }
}
