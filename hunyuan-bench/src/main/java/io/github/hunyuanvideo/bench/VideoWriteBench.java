package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.io.video.ContactSheet;
import io.github.hunyuanvideo.io.video.Mp4Options;
import io.github.hunyuanvideo.io.video.Mp4Writer;
import io.github.hunyuanvideo.io.video.VideoFrames;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Output-stage benchmark: a sampler-shaped float video {@code [1, 3, T, H, W]} in [0, 1] (a moving gradient with a
 * little noise, so the encoder has real work) is converted to bytes ({@link VideoFrames#fromTensor}), written as
 * mp4 by each available H.264 encoder, and summarised as a contact sheet. Prints a markdown table; files go to a
 * temporary folder that is deleted afterwards. CPU only (the sampler hands its videos over on the CPU).
 *
 * <p>Arguments (all optional): {@code --size H W} (default 720 1280), {@code --frames T} (default 129),
 * {@code --small} (64×96, 9 frames: checks that the program runs).
 */
public final class VideoWriteBench {
    private VideoWriteBench() {
    }

    public static void main(String[] args) throws IOException {
        int h = 720;
        int w = 1280;
        int t = 129;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--size" -> {
                    h = Integer.parseInt(args[++i]);
                    w = Integer.parseInt(args[++i]);
                }
                case "--frames" -> t = Integer.parseInt(args[++i]);
                case "--small" -> {
                    h = 64;
                    w = 96;
                    t = 9;
                }
                default -> throw new IllegalArgumentException("unknown argument '" + args[i]
                        + "' (expected --size H W, --frames T, --small)");
            }
        }
        Path dir = Files.createTempDirectory("video-bench-");
        List<String> rows = new ArrayList<>();
        try (PointerScope scope = new PointerScope()) {
            Tensor video = syntheticVideo(t, h, w);
            long t0 = System.nanoTime();
            VideoFrames frames = VideoFrames.fromTensor(video);
            double convert = seconds(t0);
            rows.add(row("float [0,1] → uint8 (fromTensor)", convert, t, -1));
            for (String encoder : Mp4Writer.availableH264Encoders()) {
                t0 = System.nanoTime();
                Path file = Mp4Writer.write(frames, dir.resolve(encoder + ".mp4"),
                        Mp4Options.defaults().withEncoder(encoder));
                rows.add(row("mp4, " + encoder, seconds(t0), t, Files.size(file)));
            }
            t0 = System.nanoTime();
            Path sheet = ContactSheet.write(frames, dir.resolve("sheet.png"));
            rows.add(row("contact sheet PNG", seconds(t0), t, Files.size(sheet)));
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
        System.out.printf(Locale.ROOT, "Video output, %dx%d, %d frames, %d CPU threads%n%n", h, w, t,
                Runtime.getRuntime().availableProcessors());
        System.out.println("| stage | seconds | frames/s | bytes |");
        System.out.println("|---|---:|---:|---:|");
        rows.forEach(System.out::println);
    }

    private static Tensor syntheticVideo(int t, int h, int w) {
        torch.manual_seed(0);
        Tensor x = torch.linspace(new org.bytedeco.pytorch.Scalar(0.0), new org.bytedeco.pytorch.Scalar(1.0), w)
                .view(1, 1, 1, 1, w);
        Tensor y = torch.linspace(new org.bytedeco.pytorch.Scalar(0.0), new org.bytedeco.pytorch.Scalar(1.0), h)
                .view(1, 1, 1, h, 1);
        Tensor f = torch.linspace(new org.bytedeco.pytorch.Scalar(0.0), new org.bytedeco.pytorch.Scalar(1.0), t)
                .view(1, 1, t, 1, 1);
        Tensor r = x.add(f).remainder(new org.bytedeco.pytorch.Scalar(1.0)).expand(1, 1, t, h, w);
        Tensor g = y.expand(1, 1, t, h, w);
        Tensor b = x.mul(y).add(f.mul(new org.bytedeco.pytorch.Scalar(0.5))).expand(1, 1, t, h, w);
        Tensor rgb = torch.cat(new org.bytedeco.pytorch.TensorArrayRef(new org.bytedeco.pytorch.TensorVector(r, g, b)),
                1);
        return rgb.add(torch.randn(t, h, w).view(1, 1, t, h, w).mul(new org.bytedeco.pytorch.Scalar(0.02)));
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String row(String stage, double s, int frames, long bytes) {
        return String.format(Locale.ROOT, "| %s | %.2f | %.1f | %s |", stage, s, frames / s,
                bytes < 0 ? "" : Long.toString(bytes));
    }
}
