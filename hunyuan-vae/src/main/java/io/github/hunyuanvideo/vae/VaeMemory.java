package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.StreamedWeights;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import java.util.List;

/**
 * Device-memory estimates for the VAE, computed from the configuration alone (before any weight loads), for a
 * memory budget to choose the decode's tiling ({@link TilingConfig#fitting}). Bytes are what libtorch's CUDA caching
 * allocator counts as allocated ({@code torch.cuda.max_memory_allocated}), not what it reserves.
 *
 * <p><b>The decode estimate</b> ({@link #decodeBytes}) is the larger of two moments of the tiled decode to a tensor
 * ({@code Tiler}), each summing what is alive then:
 * <ol>
 *   <li><i>A tile in the decoder</i>: the latents in the model dtype; with temporal tiling the whole output video
 *       (allocated before the first tile) and the previous temporal tile's last {@code blend} frames; with spatial
 *       tiling the temporal tile (or video) being assembled, the bottom edges of two tile rows and one right edge;
 *       and the decoder's own peak on the largest tile, times {@link #TILE_OVERHEAD}.</li>
 *   <li><i>A temporal blend</i>: the output video, the assembled temporal tile, the previous tile's last frames, the
 *       three float32 products of {@code Tiler.blend} (its weights are float32, so the products are promoted) and the
 *       copy of this tile's last frames.</li>
 * </ol>
 * The decoder's peak is counted by replaying, in order, the allocations and frees of {@code decoder(post_quant_conv(z))}
 * as this module's classes make them: every activation, every causal-padded convolution input (the decoder keeps no
 * causal cache: the padding is that buffer), the mid-block attention's projections and its N × N boolean mask plus
 * the additive mask that libtorch's memory-efficient attention converts it to (the math fallback would need more).
 * GroupNorm adds only per-group float32 statistics on CUDA (its float32 reductions read half inputs directly), and
 * nearest upsampling writes straight into the convolution's padded input. One effect of the implementation
 * dominates: a padded input that GroupNorm + SiLU writes through views of its interior lives until its resnet
 * returns, because those views belong to the resnet's scope. So the first resnet of the last up block holds its
 * input (256 channels at full resolution), both padded inputs (256 and 128 channels), its output and the shortcut's
 * output at once: 3.89 G values for an official tile (17 latent frames of 32 × 32, decoded to 65 × 256 × 256), the
 * decoder's peak.
 *
 * <p><b>Calibration.</b> Measured on an H200 ({@code VaeBench}: fp16, random weights, official tiles, cuDNN autotuning
 * on), the official tiled decode peaked at 10.31 GiB of allocated memory for latents [1, 16, 33, 68, 120]
 * (544 × 960 × 129) and at 10.82 GiB for [1, 16, 33, 90, 160] (720 × 1280 × 129), weights (0.46 GiB) included. The
 * terms outside the decoder come to 0.67 and 1.16 GiB, leaving 9.18 and 9.20 GiB for the same tile at both sizes
 * (which supports the split), of which the replay accounts for 7.25 GiB. The remaining 27 % (cuDNN's convolution
 * workspaces, which the replay does not itemise) is covered by {@link #TILE_OVERHEAD}, applied to the decoder's
 * peak so that it scales with the tile: the estimates, weights included, are 10.78 GiB at 544p (+4.5 %) and
 * 11.27 GiB at 720p (+4.1 %). Smaller tiles are extrapolated by the same replay and factor, not measured; a
 * convolution workspace that does not shrink with the tile would make their figures low.
 */
public final class VaeMemory {
    /**
     * Factor on the replayed decoder peak: measured 9.18–9.20 GiB for an official fp16 tile against 7.25 GiB replayed
     * (×1.27), rounded up to leave 4–5 % of margin on the calibration runs.
     */
    static final double TILE_OVERHEAD = 1.33;

    /** The CUDA caching allocator hands out blocks in multiples of 512 bytes. */
    private static final long ALLOCATION_GRANULE = 512;

    private VaeMemory() {
    }

    /**
     * Device bytes of the weights of a VAE of {@code config} (encoder and decoder, as {@link CausalVideoVae} loads
     * them) in {@code dtype}, from {@link CausalVideoVae#expectedShapes}: 0.46 GiB for the official VAE in fp16.
     * Vectors are counted at least as float32 (GroupNorm keeps its parameters in float32; the convolution biases
     * counted alike add a few KB) and each tensor is rounded up to the allocator's 512-byte blocks.
     */
    public static long weightBytes(VaeConfig config, ScalarType dtype) {
        long e = elementSize(dtype);
        long total = 0;
        for (long[] shape : CausalVideoVae.expectedShapes(config).values()) {
            long values = Arrays.stream(shape).reduce(1, Math::multiplyExact);
            long bytes = values * (shape.length == 1 ? Math.max(e, 4) : e);
            total += (bytes + ALLOCATION_GRANULE - 1) / ALLOCATION_GRANULE * ALLOCATION_GRANULE;
        }
        return total;
    }

    /**
     * Device bytes of the weights of a VAE of {@code config} loaded streamed in {@code dtype}: the slots of its two
     * {@link StreamedWeights}, for each of the encoder and the decoder {@link StreamedWeights#slotsFor two} times its
     * largest part (a 512-wide resnet for the official VAE: 108 MiB in all in fp16, against {@link #weightBytes}'
     * 0.46 GiB). Measured on the meta device with {@link StreamedWeights#layerBytes}, as the model sizes its slots; in
     * a budget it takes the place of {@link #weightBytes}.
     *
     * @throws IllegalArgumentException if the dtype is not floating point
     */
    public static long streamedWeightBytes(VaeConfig config, ScalarType dtype) {
        elementSize(dtype); // refuses a dtype the VAE cannot compute in, as the other figures do
        long total = 0;
        for (long[] parts : CausalVideoVae.partBytes(config, dtype)) {
            total += StreamedWeights.slotsFor(parts.length, CausalVideoVae.PREFETCH_DEPTH) * max(parts);
        }
        return total;
    }

    /**
     * Estimated peak device bytes, beyond the VAE's weights, of {@link CausalVideoVae#decode(org.bytedeco.pytorch.Tensor)}
     * of latents of {@code latentShape} with {@code tiling}, computing in {@code dtype} (see the class comment for
     * how it is derived and calibrated; the caller's own latents are not counted). An over-estimate by a few percent
     * for the official tiling on CUDA.
     *
     * @param latentShape [B, latent channels, T, h, w]
     * @throws IllegalArgumentException if the shape does not fit the config or the dtype is not floating point
     */
    public static long decodeBytes(VaeConfig config, ScalarType dtype, long[] latentShape, TilingConfig tiling) {
        checkLatentShape(config, latentShape);
        long e = elementSize(dtype);
        long batch = latentShape[0];
        long frames = latentShape[2];
        long h = latentShape[3];
        long w = latentShape[4];
        Tiler tiler = new Tiler(tiling, config);
        boolean inTime = tiler.decodesInTime(frames);
        boolean inSpace = tiler.decodesInSpace(h, w);
        TileAxis timeAxis = tiler.decodeFrames(frames);
        TileAxis rows = tiler.decodeSpace(h);
        TileAxis cols = tiler.decodeSpace(w);
        long tileFrames = inTime ? max(timeAxis.length) : frames;
        long tileH = inSpace ? max(rows.length) : h;
        long tileW = inSpace ? max(cols.length) : w;
        long videoH = inSpace ? rows.total : config.decodedSize(h);
        long videoW = inSpace ? cols.total : config.decodedSize(w);
        long frameValues = batch * config.outChannels() * videoH * videoW;
        long decodedTileFrames = config.decodedFrames(tileFrames);

        long latents = batch * config.latentChannels() * frames * h * w * e;
        long decoder = (long) Math.ceil(TILE_OVERHEAD * decoderPeakBytes(config, e, batch, tileFrames, tileH, tileW));
        long inDecoder = latents + decoder;
        if (inSpace) {
            long edgeValues = batch * config.outChannels() * decodedTileFrames * rows.blend
                    * (2 * videoW + config.decodedSize(tileH));
            inDecoder += (frameValues * decodedTileFrames + edgeValues) * e;
        }
        if (!inTime) {
            return inDecoder;
        }
        long blendFrames = Math.min(timeAxis.blend, decodedTileFrames);
        long held = frameValues * (timeAxis.total + blendFrames) * e;
        long inTemporalBlend = latents + held + frameValues * (decodedTileFrames + blendFrames) * e
                + 3 * frameValues * blendFrames * Math.max(e, 4);
        return Math.max(held + inDecoder, inTemporalBlend);
    }

    /**
     * The least {@link #decodeBytes} over the tilings {@link TilingConfig#fitting} may choose: the smallest budget
     * (beyond the weights) that can decode latents of {@code latentShape}.
     */
    public static long minimumDecodeBytes(VaeConfig config, ScalarType dtype, long[] latentShape) {
        return decodeBytes(config, dtype, latentShape, TilingConfig.leastMemory(config, dtype, latentShape));
    }

    /**
     * Bytes per value of {@code dtype}.
     *
     * @throws IllegalArgumentException for a dtype the VAE cannot compute in
     */
    static long elementSize(ScalarType dtype) {
        return switch (dtype.intern()) {
            case Half, BFloat16 -> 2;
            case Float -> 4;
            case Double -> 8;
            default -> throw new IllegalArgumentException("the VAE computes in a floating type, got " + dtype);
        };
    }

    /**
     * The replayed peak of {@code decoder(post_quant_conv(z))} for a latent tile [batch, C, t, h, w] with values of
     * {@code e} bytes, before {@link #TILE_OVERHEAD}; the tile's output is part of it.
     */
    static long decoderPeakBytes(VaeConfig c, long e, long batch, long t, long h, long w) {
        Replay r = new Replay(batch * e);
        List<Integer> widths = c.blockOutChannels();
        int top = widths.get(widths.size() - 1);
        Grid g = new Grid(t, h, w);
        long post = r.alloc(r.values(c.latentChannels(), g.voxels()));
        long convInPadded = r.alloc(r.values(c.latentChannels(), g.padded()));
        long x = r.alloc(r.values(top, g.voxels()));
        r.free(convInPadded);
        long y = r.midBlock(top, g, c.midBlockAddAttention(), e);
        r.free(x);
        x = y;
        int in = top;
        for (int i = 0; i < c.blocks(); i++) {
            int out = widths.get(c.blocks() - 1 - i);
            y = r.resnets(in, out, c.layersPerBlock() + 1, g);
            if (c.scalesTime(i) || c.scalesSpace(i)) {
                g = g.upsampled(c.scalesTime(i) ? 2 : 1, c.scalesSpace(i) ? 2 : 1);
                long padded = r.alloc(r.values(out, g.padded()));
                long up = r.alloc(r.values(out, g.voxels()));
                r.free(padded);
                r.free(y);
                y = up;
            }
            r.free(x); // the block's input lives until the block returns
            x = y;
            in = out;
        }
        long normOutPadded = r.alloc(r.values(widths.get(0), g.padded()));
        r.alloc(r.values(c.outChannels(), g.voxels()));
        r.free(x);
        r.free(normOutPadded);
        r.free(post);
        return r.peak;
    }

    /** A latent or video grid of frames × height × width, and its causal padding for the decoder's 3×3×3 kernels. */
    private record Grid(long t, long h, long w) {
        long voxels() {
            return t * h * w;
        }

        /** {@code CausalPad} for k = 3: two frames in front, one pixel on each side. */
        long padded() {
            return (t + 2) * (h + 2) * (w + 2);
        }

        /** {@code UpsampleCausal3d}: T → 1 + f_t·(T − 1), H and W × f_s. */
        Grid upsampled(int timeFactor, int spaceFactor) {
            return new Grid(1 + timeFactor * (t - 1), h * spaceFactor, w * spaceFactor);
        }
    }

    /** Live and peak bytes while the decoder's allocations are replayed in the order the code makes them. */
    private static final class Replay {
        private final long bytesPerValue;
        private long live;
        private long peak;

        Replay(long bytesPerValue) {
            this.bytesPerValue = bytesPerValue;
        }

        /** Bytes of a [batch, channels, voxels] activation. */
        long values(long channels, long voxels) {
            return channels * voxels * bytesPerValue;
        }

        long alloc(long bytes) {
            live += bytes;
            peak = Math.max(peak, live);
            return bytes;
        }

        void free(long bytes) {
            live -= bytes;
        }

        /** {@code ResnetBlockCausal3d.forwardAll}: each resnet's input is freed once the next one has run. */
        long resnets(int in, int out, int count, Grid g) {
            long previous = 0;
            for (int i = 0; i < count; i++) {
                long next = resnet(i == 0 ? in : out, out, g);
                free(previous);
                previous = next;
            }
            return previous;
        }

        /** {@code ResnetBlockCausal3d.forward}; its input stays the caller's. */
        long resnet(int in, int out, Grid g) {
            long padded1 = alloc(values(in, g.padded()));
            long h1 = alloc(values(out, g.voxels()));
            long padded2 = alloc(values(out, g.padded()));
            free(h1);
            long y = alloc(values(out, g.voxels()));
            if (in != out) {
                free(alloc(values(out, g.voxels()))); // the shortcut, added in place
            }
            // the views GroupNorm wrote through keep both padded inputs until the resnet's scope closes
            free(padded1);
            free(padded2);
            return y;
        }

        /** {@code UNetMidBlock.forward}: resnet, attention, resnet; the attention's output lives until the end. */
        long midBlock(int channels, Grid g, boolean attention, long e) {
            long h = resnet(channels, channels, g);
            if (attention) {
                long a = attention(channels, g.voxels(), e);
                free(h);
                h = a;
            }
            long y = resnet(channels, channels, g);
            free(h);
            return y;
        }

        /**
         * {@code MidBlockAttention.forward} over n tokens: all but the token sequence lives until it returns (views
         * keep the closed tensors).
         */
        long attention(int channels, long n, long e) {
            long tokens = values(channels, n);
            long normed = alloc(tokens);
            long sequence = alloc(tokens);
            long qkv = alloc(3 * tokens);
            free(sequence);
            long mask = alloc(2 * 8 * n) + alloc(n * n); // int64 frame indices, then the boolean N × N mask
            long additive = alloc(n * n * e);            // SDPA's own copy of the mask, freed on return
            long attended = alloc(tokens);
            free(additive);
            long projected = alloc(tokens);
            long y = alloc(tokens);
            free(normed + qkv + mask + attended + projected);
            return y;
        }
    }

    private static long max(long[] values) {
        return Arrays.stream(values).max().orElseThrow();
    }

    private static void checkLatentShape(VaeConfig config, long[] shape) {
        if (shape.length != 5 || shape[1] != config.latentChannels() || Arrays.stream(shape).anyMatch(s -> s <= 0)) {
            throw new IllegalArgumentException("latent shape must be [B, " + config.latentChannels()
                    + ", T, h, w] with positive sizes, got " + Arrays.toString(shape));
        }
    }
}
