package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.io.video.Closeables;
import io.github.hunyuanvideo.io.video.ContactSheet;
import io.github.hunyuanvideo.io.video.Mp4Options;
import io.github.hunyuanvideo.io.video.Mp4Writer;
import io.github.hunyuanvideo.io.video.OutputNames;
import io.github.hunyuanvideo.io.video.PngFrameWriter;
import io.github.hunyuanvideo.io.video.VideoFrames;
import io.github.hunyuanvideo.io.video.VideoGrid;
import io.github.hunyuanvideo.sampler.CancellationToken;
import io.github.hunyuanvideo.sampler.DecodedFrameSink;
import org.bytedeco.pytorch.Tensor;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * What the command line writes, fed by the sampler chunk by chunk as the VAE decodes: per video an mp4 and optionally
 * its contact sheet and PNG frames, and optionally the grid of all videos. The frames go to the writers as they come
 * (the sheet keeps only the thumbnails it shows), so the float32 video never exists whole; every file stays a hidden
 * temporary file until {@link #finish} names it, and {@link #close()} without a finish (a failed or cancelled run)
 * deletes them. No file is ever replaced: when a video's name or the name of a file beside it is taken, all of them
 * get the next free number ({@code _1}, {@code _2}, ...; {@link Mp4Writer#finishNew(List)}).
 */
final class VideoOutputs implements DecodedFrameSink, AutoCloseable {
    private final Path dir;
    private final Mp4Options mp4;
    private final boolean withSheet;
    private final boolean withFrames;
    private final boolean withGrid;
    private final OutputNames.Style style;
    private final Clock clock;
    private final CancellationToken cancel;

    private final List<Path> targets = new ArrayList<>();
    private final List<Mp4Writer> videos = new ArrayList<>();
    private final List<ContactSheet> sheets = new ArrayList<>();
    private final List<PngFrameWriter> frames = new ArrayList<>();
    private Mp4Writer grid;

    /**
     * @param withGrid whether to write the grid when there are several videos
     * @param cancel   once cancelled, {@link #finish} stops before the next video
     */
    VideoOutputs(Path dir, Mp4Options mp4, boolean withSheet, boolean withFrames, boolean withGrid,
                 OutputNames.Style style, Clock clock, CancellationToken cancel) {
        this.dir = dir;
        this.mp4 = mp4;
        this.withSheet = withSheet;
        this.withFrames = withFrames;
        this.withGrid = withGrid;
        this.style = style;
        this.clock = clock;
        this.cancel = cancel;
    }

    /** Opens the writers of each video, named by the time now, its seed and its prompt. */
    @Override
    public void begin(Videos batch) throws IOException {
        LocalDateTime now = LocalDateTime.now(clock);
        for (int i = 0; i < batch.count(); i++) {
            Path target = dir.resolve(OutputNames.baseName(now, batch.seeds().get(i), batch.prompts().get(i), style)
                    + ".mp4");
            targets.add(target);
            videos.add(Mp4Writer.open(target, batch.width(), batch.height(), mp4));
            if (withSheet) {
                sheets.add(ContactSheet.collecting(batch.frames(), batch.height(), batch.width()));
            }
            if (withFrames) {
                frames.add(PngFrameWriter.open(OutputNames.companion(target, OutputNames.FRAMES)));
            }
        }
    }

    /** Hands the chunk of each video to its writers, and the chunks side by side to the grid's. */
    @Override
    public void accept(Tensor chunk, int firstFrame) throws IOException {
        List<VideoFrames> parts = VideoFrames.listFromTensor(chunk);
        for (int i = 0; i < parts.size(); i++) {
            videos.get(i).append(parts.get(i));
            if (withSheet) {
                sheets.get(i).append(parts.get(i), firstFrame);
            }
            if (withFrames) {
                frames.get(i).append(parts.get(i));
            }
        }
        if (withGrid()) {
            VideoFrames tiled = VideoGrid.combine(parts, (int) Math.ceil(Math.sqrt(parts.size())),
                    VideoGrid.DEFAULT_PADDING);
            if (grid == null) {
                // its size is the combined chunk's
                grid = Mp4Writer.open(OutputNames.companion(targets.get(0), OutputNames.GRID), tiled.width(),
                        tiled.height(), mp4);
            }
            grid.append(tiled);
        }
    }

    private boolean withGrid() {
        return withGrid && videos.size() > 1;
    }

    /**
     * Names the files, video by video (mp4, sheet, frames), then the grid; each path goes to {@code written} as soon
     * as it has its name. Once the run's token is cancelled, it stops before the next video.
     *
     * @return whether every file was named (false: cancelled; {@link #close()} deletes the rest)
     * @throws IOException naming the file that could not be written and why
     */
    boolean finish(Consumer<Path> written) throws IOException {
        Path first = null;
        for (int i = 0; i < videos.size(); i++) {
            if (cancel.isCancelled()) {
                return false;
            }
            List<String> companions = new ArrayList<>();
            if (withSheet) {
                companions.add(OutputNames.SHEET);
            }
            if (withFrames) {
                companions.add(OutputNames.FRAMES);
            }
            if (withGrid() && i == 0) {
                companions.add(OutputNames.GRID);
            }
            Path video = videos.get(i).finishNew(companions);
            written.accept(video);
            first = first == null ? video : first;
            if (withSheet) {
                written.accept(sheets.get(i).writeNew(OutputNames.companion(video, OutputNames.SHEET)));
            }
            if (withFrames) {
                written.accept(frames.get(i).finishNew(OutputNames.companion(video, OutputNames.FRAMES)).get(0)
                        .getParent());
            }
        }
        if (withGrid()) {
            if (cancel.isCancelled()) {
                return false;
            }
            written.accept(grid.finishNew(OutputNames.companion(first, OutputNames.GRID), List.of()));
        }
        return true;
    }

    /** Deletes the temporary files of every file not named by {@link #finish}. */
    @Override
    public void close() throws IOException {
        List<Closeable> writers = new ArrayList<>(videos);
        writers.addAll(frames);
        if (grid != null) {
            writers.add(grid);
        }
        Closeables.closeAll(writers);
    }

}
