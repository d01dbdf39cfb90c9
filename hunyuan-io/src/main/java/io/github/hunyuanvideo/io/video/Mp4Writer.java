package io.github.hunyuanvideo.io.video;

import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVIOContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVDictionary;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.avutil.AVRational;
import org.bytedeco.javacpp.BytePointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_FLAG_GLOBAL_HEADER;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_H264;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_alloc;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_free;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_rescale_ts;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_alloc_context3;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_find_encoder_by_name;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_free_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_open2;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_parameters_from_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_receive_packet;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_send_frame;
import static org.bytedeco.ffmpeg.global.avformat.AVFMT_GLOBALHEADER;
import static org.bytedeco.ffmpeg.global.avformat.AVIO_FLAG_WRITE;
import static org.bytedeco.ffmpeg.global.avformat.av_interleaved_write_frame;
import static org.bytedeco.ffmpeg.global.avformat.av_write_trailer;
import static org.bytedeco.ffmpeg.global.avformat.avformat_alloc_output_context2;
import static org.bytedeco.ffmpeg.global.avformat.avformat_free_context;
import static org.bytedeco.ffmpeg.global.avformat.avformat_new_stream;
import static org.bytedeco.ffmpeg.global.avformat.avformat_write_header;
import static org.bytedeco.ffmpeg.global.avformat.avio_close;
import static org.bytedeco.ffmpeg.global.avformat.avio_open;
import static org.bytedeco.ffmpeg.global.avutil.AVCOL_PRI_BT709;
import static org.bytedeco.ffmpeg.global.avutil.AVCOL_RANGE_MPEG;
import static org.bytedeco.ffmpeg.global.avutil.AVCOL_SPC_BT709;
import static org.bytedeco.ffmpeg.global.avutil.AVCOL_TRC_BT709;
import static org.bytedeco.ffmpeg.global.avutil.AVERROR_EAGAIN;
import static org.bytedeco.ffmpeg.global.avutil.AVERROR_EOF;
import static org.bytedeco.ffmpeg.global.avutil.AV_LOG_ERROR;
import static org.bytedeco.ffmpeg.global.avutil.AV_LOG_INFO;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUV420P;
import static org.bytedeco.ffmpeg.global.avutil.av_dict_free;
import static org.bytedeco.ffmpeg.global.avutil.av_dict_set;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_alloc;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_free;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_get_buffer;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_make_writable;
import static org.bytedeco.ffmpeg.global.avutil.av_log_get_level;
import static org.bytedeco.ffmpeg.global.avutil.av_log_set_level;
import static org.bytedeco.ffmpeg.global.avutil.av_make_q;
import static org.bytedeco.ffmpeg.global.avutil.av_strerror;

/**
 * Writes H.264 / yuv420p mp4 files with FFmpeg (Bytedeco), frame by frame.
 *
 * <ul>
 *   <li><b>Encoder.</b> {@link Mp4Options#encoder()} if given, else the first of {@link #H264_ENCODERS} that the
 *   FFmpeg build on the classpath has: libx264 comes with {@code org.bytedeco:ffmpeg-platform-gpl}, libopenh264 with
 *   the default LGPL {@code org.bytedeco:ffmpeg-platform}. libx264 runs at CRF 25 (what imageio-ffmpeg's default
 *   quality 5 maps to in the original); other encoders get a bit rate of 0.25 bits per pixel.</li>
 *   <li><b>Timing.</b> Frame {@code i} has pts {@code i} in a 1/fps time base and every packet lasts one frame, so the
 *   file has exactly as many frames as were written and lasts {@code frames / fps} seconds. The encoder is flushed
 *   before the trailer is written.</li>
 *   <li><b>Odd sizes.</b> yuv420p needs even dimensions. An odd width or height is padded by one column or row that
 *   repeats the last one (no pixel of the input is lost, and the edge does not bleed colour into the chroma);
 *   {@link #codedWidth()}/{@link #codedHeight()} tell the stored size.</li>
 *   <li><b>Colour.</b> RGB becomes limited-range BT.709 Y'CbCr (chroma = mean of each 2×2 block, see {@code Bt709})
 *   and the stream is tagged BT.709, limited range.</li>
 *   <li><b>Atomicity.</b> Frames go to a hidden temporary file in the target folder (see {@link OutputFolder}), which
 *   {@link #finish()} renames to the target, replacing a file of that name, and {@link #finishNew} names the target or
 *   a free numbered name, never replacing a file. {@link #close()} without either (e.g. after an exception) deletes
 *   the temporary file, so no half-written mp4 ever carries the target name.</li>
 *   <li><b>Errors.</b> An {@code IOException} names the target file (never the temporary one) and the reason.</li>
 * </ul>
 *
 * <p>Frames come one by one ({@link #writeFrame}) or chunk by chunk ({@link #append}, e.g. each chunk a decoder hands
 * out), so a video never needs to be whole in memory; {@link #write} and {@link #writeNew} write a whole video through
 * the same path. Not thread-safe. Use with try-with-resources:
 * <pre>{@code
 * try (Mp4Writer w = Mp4Writer.open(path, width, height, Mp4Options.defaults())) {
 *     for (VideoFrames chunk : chunks) w.append(chunk);
 *     w.finish();
 * }
 * }</pre>
 */
public final class Mp4Writer implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Mp4Writer.class);

    /** H.264 encoders tried in this order when none is named. */
    public static final List<String> H264_ENCODERS = List.of("libx264", "libopenh264");

    /** libx264 constant rate factor; imageio-ffmpeg's default quality 5 becomes {@code -crf 25}. */
    static final int X264_CRF = 25;

    /** Bit rate of the other encoders, in bits per pixel (per frame). */
    static final double BITS_PER_PIXEL = 0.25;

    static {
        // x264 and openh264 print statistics and notices at INFO level on every file; keep errors only
        if (av_log_get_level() >= AV_LOG_INFO) {
            av_log_set_level(AV_LOG_ERROR);
        }
    }

    private final AtomicOutput out;
    private final int width;
    private final int height;
    private final int codedWidth;
    private final int codedHeight;
    private final String encoderName;

    private AVFormatContext format;
    private AVCodecContext codec;
    private AVStream stream;
    private AVFrame frame;
    private AVPacket packet;
    private byte[] yPlane;
    private byte[] cbPlane;
    private byte[] crPlane;
    private byte[] padded;
    private long framesWritten;
    private boolean finished;
    private boolean closed;

    private Mp4Writer(AtomicOutput out, int width, int height, String encoderName) {
        this.out = out;
        this.width = width;
        this.height = height;
        this.codedWidth = width + (width & 1);
        this.codedHeight = height + (height & 1);
        this.encoderName = encoderName;
    }

    /**
     * Writes a whole video to {@code target} and returns the target path.
     *
     * @throws IOException           if FFmpeg or the file system fails (the target is then left untouched)
     * @throws IllegalStateException if the FFmpeg build has no H.264 encoder
     */
    public static Path write(VideoFrames video, Path target, Mp4Options options) throws IOException {
        return write(video, target, options, Mp4Writer::finish);
    }

    /**
     * Writes a whole video under {@code target} or a numbered name, never replacing a file (see
     * {@link #finishNew}), and returns the path written.
     *
     * @throws IOException           if FFmpeg or the file system fails (no file is then left)
     * @throws IllegalStateException if the FFmpeg build has no H.264 encoder
     */
    public static Path writeNew(VideoFrames video, Path target, Mp4Options options, List<String> companionSuffixes)
            throws IOException {
        return write(video, target, options, w -> w.finishNew(companionSuffixes));
    }

    private interface Finish {
        Path apply(Mp4Writer writer) throws IOException;
    }

    private static Path write(VideoFrames video, Path target, Mp4Options options, Finish finish) throws IOException {
        try (Mp4Writer w = open(target, video.width(), video.height(), options)) {
            w.append(video);
            return finish.apply(w);
        }
    }

    /**
     * Starts an mp4 of {@code width × height} RGB frames at {@code target}. The parent folder is created if missing.
     *
     * @throws IllegalArgumentException if a size is outside 1..16384 or the named encoder is missing or not H.264
     * @throws IllegalStateException    if no encoder is named and the FFmpeg build has no H.264 encoder
     * @throws IOException              if the file cannot be created or FFmpeg fails to set up the encoder
     */
    public static Mp4Writer open(Path target, int width, int height, Mp4Options options) throws IOException {
        if (width < 1 || width > 16384 || height < 1 || height > 16384) {
            throw new IllegalArgumentException("video size must be within 1..16384, got " + width + "x" + height);
        }
        String encoder = selectEncoder(options.encoder());
        AtomicOutput out = AtomicOutput.create(target);
        Mp4Writer w = new Mp4Writer(out, width, height, encoder);
        try {
            w.start(options.fps());
        } catch (IOException | RuntimeException | Error e) {
            w.close();
            throw e;
        }
        return w;
    }

    /** The names of {@link #H264_ENCODERS} present in the FFmpeg build on the classpath, best first. */
    public static List<String> availableH264Encoders() {
        List<String> found = new ArrayList<>();
        for (String name : H264_ENCODERS) {
            AVCodec c = avcodec_find_encoder_by_name(name);
            if (c != null && !c.isNull()) {
                found.add(name);
            }
        }
        return found;
    }

    /**
     * The encoder {@link #open} uses for {@code requested} ({@code null} = automatic choice).
     *
     * @throws IllegalArgumentException if a named encoder is missing or does not produce H.264
     * @throws IllegalStateException    if no encoder is named and none of {@link #H264_ENCODERS} is available
     */
    public static String selectEncoder(String requested) {
        if (requested != null) {
            AVCodec c = avcodec_find_encoder_by_name(requested);
            if (c == null || c.isNull()) {
                throw new IllegalArgumentException("encoder '" + requested + "' is not in the FFmpeg build on the "
                        + "classpath (H.264 encoders available: " + availableH264Encoders() + ")");
            }
            if (c.id() != AV_CODEC_ID_H264) {
                throw new IllegalArgumentException("encoder '" + requested + "' does not produce H.264");
            }
            return requested;
        }
        List<String> found = availableH264Encoders();
        if (found.isEmpty()) {
            throw new IllegalStateException("the FFmpeg build on the classpath has no H.264 encoder (looked for "
                    + H264_ENCODERS + "); use org.bytedeco:ffmpeg-platform (libopenh264) or "
                    + "org.bytedeco:ffmpeg-platform-gpl (libx264)");
        }
        return found.get(0);
    }

    private void start(int fps) throws IOException {
        BytePointer url = new BytePointer(out.temp().toString(), StandardCharsets.UTF_8);
        format = new AVFormatContext(null);
        check(avformat_alloc_output_context2(format, null, new BytePointer("mp4"), url), "creating the mp4 muxer");
        AVCodec encoder = avcodec_find_encoder_by_name(encoderName);
        stream = avformat_new_stream(format, null);
        if (stream == null || stream.isNull()) {
            throw new IOException("FFmpeg could not add a video stream to " + out.target());
        }
        codec = avcodec_alloc_context3(encoder);
        if (codec == null || codec.isNull()) {
            throw new IOException("FFmpeg could not allocate the " + encoderName + " encoder");
        }
        AVRational timeBase = av_make_q(1, fps);
        codec.width(codedWidth);
        codec.height(codedHeight);
        codec.pix_fmt(AV_PIX_FMT_YUV420P);
        codec.time_base(timeBase);
        codec.framerate(av_make_q(fps, 1));
        codec.color_primaries(AVCOL_PRI_BT709);
        codec.color_trc(AVCOL_TRC_BT709);
        codec.colorspace(AVCOL_SPC_BT709);
        codec.color_range(AVCOL_RANGE_MPEG);
        if ((format.oformat().flags() & AVFMT_GLOBALHEADER) != 0) {
            codec.flags(codec.flags() | AV_CODEC_FLAG_GLOBAL_HEADER);
        }
        AVDictionary codecOptions = new AVDictionary(null);
        if (encoderName.equals("libx264")) {
            av_dict_set(codecOptions, "crf", Integer.toString(X264_CRF), 0);
        } else {
            codec.bit_rate(Math.max(200_000L, Math.round((double) codedWidth * codedHeight * fps * BITS_PER_PIXEL)));
        }
        int opened = avcodec_open2(codec, encoder, codecOptions);
        av_dict_free(codecOptions);
        check(opened, "opening the " + encoderName + " encoder for " + codedWidth + "x" + codedHeight);
        check(avcodec_parameters_from_context(stream.codecpar(), codec), "setting the stream parameters");
        stream.time_base(timeBase);
        stream.avg_frame_rate(av_make_q(fps, 1));

        AVIOContext pb = new AVIOContext(null);
        check(avio_open(pb, url, AVIO_FLAG_WRITE), "opening " + out.target());
        format.pb(pb);
        AVDictionary muxerOptions = new AVDictionary(null);
        // moov atom first: players can start before the whole file is read
        av_dict_set(muxerOptions, "movflags", "+faststart", 0);
        int header = avformat_write_header(format, muxerOptions);
        av_dict_free(muxerOptions);
        check(header, "writing the mp4 header of " + out.target());

        frame = av_frame_alloc();
        frame.format(AV_PIX_FMT_YUV420P);
        frame.width(codedWidth);
        frame.height(codedHeight);
        check(av_frame_get_buffer(frame, 0), "allocating a frame");
        packet = av_packet_alloc();
        yPlane = new byte[frame.linesize(0) * codedHeight];
        cbPlane = new byte[frame.linesize(1) * codedHeight / 2];
        crPlane = new byte[frame.linesize(2) * codedHeight / 2];
        if (codedWidth != width || codedHeight != height) {
            padded = new byte[codedWidth * codedHeight * 3];
        }
        LOG.debug("writing {} ({}x{} coded {}x{}, {} fps, {})", out.target(), width, height, codedWidth, codedHeight,
                fps, encoderName);
    }

    /**
     * Encodes one frame of packed RGB bytes {@code [H, W, 3]}.
     *
     * @throws IllegalArgumentException if the array length is not {@code H·W·3}
     * @throws IllegalStateException    if the writer is finished or closed
     * @throws IOException              if encoding or writing fails
     */
    public void writeFrame(byte[] rgb) throws IOException {
        ensureOpen();
        int n = width * height * 3;
        if (rgb.length != n) {
            throw new IllegalArgumentException("frame holds " + rgb.length + " bytes, expected " + n + " for "
                    + width + "x" + height + " RGB");
        }
        Bt709.rgbToYuv420(padded == null ? rgb : padToEven(rgb), codedWidth, codedHeight, yPlane, frame.linesize(0),
                cbPlane, crPlane, frame.linesize(1));
        // the encoder may still hold a reference to the previous picture
        check(av_frame_make_writable(frame), "preparing a frame");
        frame.data(0).position(0).put(yPlane);
        frame.data(1).position(0).put(cbPlane);
        frame.data(2).position(0).put(crPlane);
        frame.pts(framesWritten);
        frame.duration(1);
        check(avcodec_send_frame(codec, frame), "encoding frame " + framesWritten);
        drainPackets();
        framesWritten++;
    }

    /**
     * Encodes every frame of {@code chunk}, the next frames of the video (such as one decoded tile), in order.
     *
     * @throws IllegalArgumentException if the frames are not of the writer's size
     * @throws IllegalStateException    if the writer is finished or closed
     * @throws IOException              if encoding or writing fails
     */
    public void append(VideoFrames chunk) throws IOException {
        if (chunk.width() != width || chunk.height() != height) {
            throw new IllegalArgumentException("frames are " + chunk.width() + "x" + chunk.height() + ", the mp4 is "
                    + width + "x" + height);
        }
        byte[] buf = new byte[height * width * 3];
        for (int t = 0; t < chunk.frameCount(); t++) {
            chunk.copyFrame(t, buf, 0);
            writeFrame(buf);
        }
    }

    /** Copies {@code rgb} into {@link #padded}, repeating the last column and row where the size is odd. */
    private byte[] padToEven(byte[] rgb) {
        int srcRow = width * 3;
        int dstRow = codedWidth * 3;
        for (int y = 0; y < codedHeight; y++) {
            int sy = Math.min(y, height - 1);
            System.arraycopy(rgb, sy * srcRow, padded, y * dstRow, srcRow);
            if (codedWidth != width) {
                System.arraycopy(rgb, sy * srcRow + srcRow - 3, padded, y * dstRow + srcRow, 3);
            }
        }
        return padded;
    }

    private void drainPackets() throws IOException {
        while (true) {
            int r = avcodec_receive_packet(codec, packet);
            if (r == AVERROR_EAGAIN() || r == AVERROR_EOF) {
                return;
            }
            check(r, "encoding");
            // without a duration the mp4 muxer gives the last sample none and players drop the last frame
            if (packet.duration() <= 0) {
                packet.duration(1);
            }
            av_packet_rescale_ts(packet, codec.time_base(), stream.time_base());
            packet.stream_index(stream.index());
            check(av_interleaved_write_frame(format, packet), "writing to " + out.target());
        }
    }

    /**
     * Flushes the encoder, completes the file and renames it to the target.
     *
     * @return the target path
     * @throws IllegalStateException if no frame was written, or the writer is finished or closed
     * @throws IOException           if flushing, writing or renaming fails (the target is then left untouched)
     */
    public Path finish() throws IOException {
        complete();
        return finished(out.commit());
    }

    /**
     * Flushes the encoder and completes the file as {@link #finish()}, but never replaces a file: the file gets the
     * target name or, when a file of that name or one of its {@link OutputNames#companion companions} for
     * {@code companionSuffixes} exists, the first free {@link OutputNames#numbered numbered} name ({@code v_1.mp4},
     * {@code v_2.mp4}, ...). Safe against other processes choosing names in the same folder at the same time.
     *
     * @return the path written
     * @throws IllegalStateException if no frame was written, or the writer is finished or closed
     * @throws IOException           if flushing, writing or naming fails (no file is then left)
     */
    public Path finishNew(List<String> companionSuffixes) throws IOException {
        complete();
        return finished(out.commitNew(companionSuffixes));
    }

    /**
     * {@link #finishNew(List)} under {@code target} instead of the path the writer was opened with: for a name known
     * only once the video is complete, such as one beside a file that got a number meanwhile.
     *
     * @param target the file name to take (or number); in the folder of the path the writer was opened with
     * @throws IllegalArgumentException if {@code target} is in another folder
     * @throws IllegalStateException    if no frame was written, or the writer is finished or closed
     * @throws IOException              if flushing, writing or naming fails (no file is then left)
     */
    public Path finishNew(Path target, List<String> companionSuffixes) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        if (!abs.getParent().equals(out.target().getParent())) {
            throw new IllegalArgumentException(target + " is not in the folder of " + out.target());
        }
        complete();
        return finished(out.commitNewAs(abs, companionSuffixes));
    }

    private void complete() throws IOException {
        ensureOpen();
        if (framesWritten == 0) {
            throw new IllegalStateException("no frame was written to " + out.target());
        }
        check(avcodec_send_frame(codec, null), "flushing the encoder");
        drainPackets();
        check(av_write_trailer(format), "writing the mp4 index of " + out.target());
        int closedIo = avio_close(format.pb());
        format.pb(null);
        check(closedIo, "closing " + out.target());
        release();
    }

    private Path finished(Path done) {
        finished = true;
        LOG.debug("wrote {} ({} frames)", done, framesWritten);
        return done;
    }

    private void ensureOpen() {
        if (finished || closed) {
            throw new IllegalStateException("mp4 writer for " + out.target() + " is " + (finished ? "finished" : "closed"));
        }
    }

    /** Number of frames written so far. */
    public long framesWritten() {
        return framesWritten;
    }

    /** The encoder in use. */
    public String encoderName() {
        return encoderName;
    }

    /** The stored width: the input width rounded up to even. */
    public int codedWidth() {
        return codedWidth;
    }

    /** The stored height: the input height rounded up to even. */
    public int codedHeight() {
        return codedHeight;
    }

    /** Frees FFmpeg state; without a successful {@link #finish()} also deletes the temporary file. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        release();
        out.close();
    }

    private void release() {
        if (frame != null) {
            av_frame_free(frame);
            frame = null;
        }
        if (packet != null) {
            av_packet_free(packet);
            packet = null;
        }
        if (codec != null) {
            avcodec_free_context(codec);
            codec = null;
        }
        if (format != null) {
            if (format.pb() != null && !format.pb().isNull()) {
                avio_close(format.pb());
                format.pb(null);
            }
            avformat_free_context(format);
            format = null;
        }
    }

    static void check(int ret, String what) throws IOException {
        if (ret < 0) {
            throw new IOException("FFmpeg failed " + what + ": " + errorText(ret));
        }
    }

    static String errorText(int ret) {
        byte[] buf = new byte[256];
        av_strerror(ret, buf, buf.length);
        int len = 0;
        while (len < buf.length && buf[len] != 0) {
            len++;
        }
        return new String(buf, 0, len, StandardCharsets.UTF_8) + " (" + ret + ")";
    }
}
