package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.io.video.ContactSheet;
import io.github.hunyuanvideo.io.video.Mp4Options;
import io.github.hunyuanvideo.io.video.Mp4Writer;
import io.github.hunyuanvideo.io.video.OutputFolder;
import io.github.hunyuanvideo.io.video.OutputNames;
import io.github.hunyuanvideo.io.video.PngWriter;
import io.github.hunyuanvideo.io.video.VideoFrames;
import io.github.hunyuanvideo.io.video.VideoGrid;
import io.github.hunyuanvideo.sampler.CancellationToken;
import io.github.hunyuanvideo.sampler.DecodedFrameSink;
import io.github.hunyuanvideo.sampler.HunyuanVideoSampler;
import io.github.hunyuanvideo.sampler.SamplerResult;
import io.github.hunyuanvideo.sampler.demo.DemoCheckpoint;
import io.github.hunyuanvideo.vae.TilingConfig;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line writes its files chunk by chunk while the VAE decodes ({@link VideoOutputs}); they are byte for
 * byte what the one-shot writers make from the videos of the classic call.
 */
class StreamedOutputsTest {
    /** 69 frames: 18 latent frames, two temporal tiles of the demo VAE (two chunks: 49 and 20 frames). */
    private static final int FRAMES = 69;

    @TempDir
    static Path tmp;

    @Test
    void streamedFilesEqualTheOneShotFilesOfTheClassicVideos() throws IOException {
        Path out = tmp.resolve("streamed");
        String[] args = {"--demo", "--demo-dir", SharedDemo.path().toString(), "--prompt", "a cat", "--seed", "7",
                "--video-size", "32", "48", "--video-length", Integer.toString(FRAMES), "--infer-steps", "1",
                "--num-videos", "2", "--grid", "--save-frames", "--save-path", out.toString()};
        VaeConfig vae = DemoCheckpoint.vaeConfig();
        TilingConfig tiling = TilingConfig.of(vae);
        assertTrue(tiling.temporal() && (FRAMES - 1) / 4 + 1 > tiling.latentTileFrames(vae), "several chunks");

        OutputFilesTest.Run r = OutputFilesTest.run(OutputFilesTest.fixedClock(), args);
        assertEquals(0, r.code(), r.err());
        String v7 = OutputFilesTest.STAMP + "_seed7_a_cat";
        String v8 = OutputFilesTest.STAMP + "_seed8_a_cat";
        assertEquals(List.of(v7 + ".mp4", v7 + "_sheet.png", v7 + "_frames", v8 + ".mp4", v8 + "_sheet.png",
                v8 + "_frames", v7 + "_grid.mp4"), OutputFilesTest.fileNames(r, out));
        assertEquals(List.of(), OutputFilesTest.names(out).stream().filter(OutputFolder::isTemporaryFileName)
                .toList(), "no temporary file is left");

        // the one-shot writers on the classic call's videos, with the same settings
        HunyuanVideoCliTest.Parsed p = HunyuanVideoCliTest.parse(args);
        Mp4Options mp4 = p.cli().mp4Options();
        Path ref = tmp.resolve("one-shot");
        try (PointerScope scope = new PointerScope();
             HunyuanVideoSampler sampler = HunyuanVideoSampler.fromPretrained(SharedDemo.path(), p.config());
             SamplerResult result = sampler.predict(p.request())) {
            List<VideoFrames> videos = VideoFrames.listFromTensor(result.videos());
            assertEquals(FRAMES, videos.get(0).frameCount());
            for (int i = 0; i < videos.size(); i++) {
                String name = i == 0 ? v7 : v8;
                assertSameBytes(Mp4Writer.write(videos.get(i), ref.resolve(name + ".mp4"), mp4),
                        out.resolve(name + ".mp4"));
                assertSameBytes(ContactSheet.write(videos.get(i), ref.resolve(name + "_sheet.png")),
                        out.resolve(name + "_sheet.png"));
                List<Path> frames = PngWriter.writeFrames(videos.get(i), ref.resolve(name + "_frames"));
                assertEquals(frames.stream().map(f -> f.getFileName().toString()).toList(),
                        OutputFilesTest.names(out.resolve(name + "_frames")));
                for (Path f : frames) {
                    assertSameBytes(f, out.resolve(name + "_frames").resolve(f.getFileName()));
                }
            }
            assertSameBytes(Mp4Writer.write(VideoGrid.combine(videos, 2, VideoGrid.DEFAULT_PADDING),
                    ref.resolve("grid.mp4"), mp4), out.resolve(v7 + "_grid.mp4"));
        }
    }

    private static void assertSameBytes(Path expected, Path actual) throws IOException {
        assertArrayEquals(Files.readAllBytes(expected), Files.readAllBytes(actual), actual.toString());
    }

    /** A run stopped after some frames were written (failed, cancelled, Ctrl-C) leaves no file at all. */
    @Test
    void outputsNotFinishedLeaveNothing() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("stopped"));
        try (PointerScope scope = new PointerScope();
             VideoOutputs outputs = new VideoOutputs(out, Mp4Options.defaults(), true, true, true,
                     OutputNames.Style.PORTABLE, OutputFilesTest.fixedClock().clock, new CancellationToken())) {
            outputs.begin(new DecodedFrameSink.Videos(2, 9, 16, 16, List.of(1L, 2L), List.of("a", "a")));
            Tensor chunk = torch.rand(new long[]{2, 3, 5, 16, 16}, new TensorOptions(torch.ScalarType.Float));
            outputs.accept(chunk, 0);
            List<String> writing = OutputFilesTest.names(out);
            // two mp4s, the grid and 2 × 5 frames
            assertEquals(13, writing.size(), writing.toString());
            assertTrue(writing.stream().allMatch(OutputFolder::isTemporaryFileName), writing.toString());
        }
        assertEquals(List.of(), OutputFilesTest.names(out));
    }
}
