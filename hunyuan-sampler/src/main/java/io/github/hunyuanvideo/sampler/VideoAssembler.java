package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The sink of a generation whose result holds the videos: copies the chunks into one float32 {@code [N, 3, T, H, W]}
 * CPU tensor, which it owns until {@link #take()}.
 */
final class VideoAssembler implements DecodedFrameSink, AutoCloseable {
    private int frames;
    private Tensor videos;

    @Override
    public void begin(Videos batch) {
        frames = batch.frames();
    }

    @Override
    public void accept(Tensor chunk, int firstFrame) {
        if (videos == null) {
            long[] shape = Tensors.shape(chunk);
            shape[2] = frames;
            // outlives the chunk's scope
            videos = Scopes.retained(torch.empty(shape, chunk.options(), new MemoryFormatOptional()));
        }
        videos.narrow(2, firstFrame, chunk.size(2)).copy_(chunk);
    }

    /** The assembled videos, with a reference the caller must release; the assembler no longer holds them. */
    Tensor take() {
        Tensor out = videos;
        videos = null;
        return out;
    }

    /** Frees videos not taken (after a failed or cancelled generation). */
    @Override
    public void close() {
        Scopes.release(videos);
        videos = null;
    }
}
