package io.github.hunyuanvideo.io.video;

import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.bytedeco.ffmpeg.global.avcodec.*;
import static org.bytedeco.ffmpeg.global.avformat.*;
import static org.bytedeco.ffmpeg.global.avutil.*;

/**
 * Test helper (other modules use it through the test-jar): an mp4 decoded back with FFmpeg into RGB frames
 * (limited-range BT.709, the inverse of {@link Bt709}), with its stream metadata.
 */
public record DecodedVideo(String codecName, String pixelFormat, int width, int height, double fps,
                           double streamSeconds, double containerSeconds, long declaredFrames, List<byte[]> frames) {

    public static DecodedVideo read(Path file) throws IOException {
        AVFormatContext fmt = new AVFormatContext(null);
        Mp4Writer.check(avformat_open_input(fmt, new BytePointer(file.toString(), StandardCharsets.UTF_8), null,
                (org.bytedeco.ffmpeg.avutil.AVDictionary) null), "opening " + file);
        try {
            Mp4Writer.check(avformat_find_stream_info(fmt, (PointerPointer<?>) null), "probing");
            int index = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, (AVCodec) null, 0);
            Mp4Writer.check(index, "finding the video stream");
            AVStream st = fmt.streams(index);
            AVCodec dec = avcodec_find_decoder(st.codecpar().codec_id());
            AVCodecContext ctx = avcodec_alloc_context3(dec);
            avcodec_parameters_to_context(ctx, st.codecpar());
            Mp4Writer.check(avcodec_open2(ctx, dec, (PointerPointer<?>) null), "opening the decoder");
            int w = ctx.width();
            int h = ctx.height();
            AVPacket pkt = av_packet_alloc();
            AVFrame frame = av_frame_alloc();
            List<byte[]> frames = new ArrayList<>();
            boolean eof = false;
            while (true) {
                if (!eof) {
                    int r = av_read_frame(fmt, pkt);
                    if (r < 0) {
                        eof = true;
                        avcodec_send_packet(ctx, null);
                    } else {
                        if (pkt.stream_index() == index) {
                            Mp4Writer.check(avcodec_send_packet(ctx, pkt), "decoding");
                        }
                        av_packet_unref(pkt);
                    }
                }
                int r;
                while ((r = avcodec_receive_frame(ctx, frame)) >= 0) {
                    if (frame.format() != AV_PIX_FMT_YUV420P) {
                        throw new IOException("decoded pixel format " + frame.format() + " is not yuv420p");
                    }
                    frames.add(toRgb(frame, w, h));
                }
                if (r == AVERROR_EOF) {
                    break;
                }
            }
            String pix = av_get_pix_fmt_name(ctx.pix_fmt()).getString();
            String codecName = dec.name().getString();
            double fps = av_q2d(st.avg_frame_rate());
            double streamSeconds = st.duration() * av_q2d(st.time_base());
            double containerSeconds = fmt.duration() / (double) AV_TIME_BASE;
            long declared = st.nb_frames();
            av_frame_free(frame);
            av_packet_free(pkt);
            avcodec_free_context(ctx);
            return new DecodedVideo(codecName, pix, w, h, fps, streamSeconds, containerSeconds, declared, frames);
        } finally {
            avformat_close_input(fmt);
        }
    }

    private static byte[] toRgb(AVFrame f, int w, int h) {
        int ys = f.linesize(0);
        int cs = f.linesize(1);
        byte[] y = new byte[ys * h];
        byte[] cb = new byte[cs * (h / 2)];
        byte[] cr = new byte[cs * (h / 2)];
        f.data(0).position(0).get(y);
        f.data(1).position(0).get(cb);
        f.data(2).position(0).get(cr);
        byte[] rgb = new byte[w * h * 3];
        for (int row = 0; row < h; row++) {
            for (int x = 0; x < w; x++) {
                double l = ((y[row * ys + x] & 0xff) - 16) / Bt709.Y_SCALE;
                double b = l + (bilinear(cb, cs, w / 2, h / 2, x, row) - 128) / Bt709.CBS;
                double r = l + (bilinear(cr, cs, w / 2, h / 2, x, row) - 128) / Bt709.CRS;
                double g = (l - Bt709.KR * r - Bt709.KB * b) / Bt709.KG;
                int o = (row * w + x) * 3;
                rgb[o] = (byte) clamp(r);
                rgb[o + 1] = (byte) clamp(g);
                rgb[o + 2] = (byte) clamp(b);
            }
        }
        return rgb;
    }

    /** Chroma at luma pixel (x, y): each chroma sample sits at the centre of its 2×2 block, as the writer averages. */
    private static double bilinear(byte[] plane, int stride, int cw, int ch, int x, int y) {
        double fx = Math.max(0, Math.min(cw - 1, (x - 0.5) / 2));
        double fy = Math.max(0, Math.min(ch - 1, (y - 0.5) / 2));
        int x0 = (int) fx;
        int y0 = (int) fy;
        int x1 = Math.min(cw - 1, x0 + 1);
        int y1 = Math.min(ch - 1, y0 + 1);
        double ax = fx - x0;
        double ay = fy - y0;
        double top = (plane[y0 * stride + x0] & 0xff) * (1 - ax) + (plane[y0 * stride + x1] & 0xff) * ax;
        double bottom = (plane[y1 * stride + x0] & 0xff) * (1 - ax) + (plane[y1 * stride + x1] & 0xff) * ax;
        return top * (1 - ay) + bottom * ay;
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }
}
