package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.nn.Cancellation;
import io.github.hunyuanvideo.nn.CancelledException;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.parallel.Communicator;
import io.github.hunyuanvideo.nn.StreamedWeights;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * HunyuanVideo's causal 3D VAE ({@code AutoencoderKLCausal3D}, {@code 884-16c-hy}): 4× temporal and 8× spatial
 * compression to 16 latent channels, with the official tiled encode and decode ({@code Tiler}; the repository's
 * {@code docs/vae.md} describes both).
 *
 * <p><b>Precision.</b> Convolutions, linears and attention run in the dtype the model was loaded in (fp16 on the GPU
 * as in the official inference); GroupNorm and its SiLU are computed in float32 like CUDA autocast does. Inputs are
 * moved to the model's device and dtype; outputs are in the model's dtype.
 *
 * <p><b>Memory.</b> Tiles are computed one at a time; each is blended with the kept edges of its neighbours and
 * written to the output (or handed to a {@link FrameSink}) at once, so decoding holds one tile's activations plus the
 * output, never all tiles.
 *
 * <p><b>Streaming.</b> Loaded {@code streamed}, the weights live in host memory and come to the device part by part
 * while they run, as the original's {@code --use-cpu-offload} does: the encoder and the decoder each bind their parts
 * (conv_in; every resnet, the attention, every resampler; the output norm with conv_out; and {@code quant_conv},
 * {@code post_quant_conv}) as the layers of one {@link StreamedWeights} with two device slots. Each part's forward
 * waits for its copy and lets the next part's copy start, so a tiled decode, which runs the decoder once per tile,
 * cycles through the slots. Results are bit-identical to the resident model's; the device holds
 * {@link VaeMemory#streamedWeightBytes} instead of {@link VaeMemory#weightBytes}. The slots are shared: a streamed VAE
 * runs one encode or decode at a time.
 *
 * <p><b>Ownership.</b> The weights live in the model's {@link Parameters} until {@link #close}. Returned tensors belong
 * to the caller's innermost {@link PointerScope} if there is one, else to the caller. They are created under
 * {@link InferenceMode}: update them in place only inside one.
 */
public final class CausalVideoVae implements AutoCloseable {
    /** Streamed parts copied ahead of the one computing: two device slots per coder. */
    static final int PREFETCH_DEPTH = 1;

    private static final Set<ScalarType> FLOATING = Set.of(ScalarType.Float, ScalarType.Half, ScalarType.BFloat16,
            ScalarType.Double);

    private final VaeConfig config;
    private final Parameters params;
    private final PartWeights partWeights;
    private final Encoder encoder;
    private final Decoder decoder;
    private final Part quantConv;
    private final Part postQuantConv;
    private volatile Tiler tiler;

    /**
     * Binds the encoder, the decoder, quant_conv and post_quant_conv, in the official order; quant_conv is the
     * encoder's last part and post_quant_conv the decoder's last (it runs first: the decoder's ring starts a tile at
     * its last layer and wraps to conv_in, still the cyclic order {@link StreamedWeights} prefetches for).
     */
    private CausalVideoVae(Parameters params, VaeConfig config, PartWeights partWeights) {
        this.config = config;
        this.params = params;
        this.partWeights = partWeights;
        this.encoder = Encoder.load(params, partWeights.encoderParts(), config);
        this.decoder = Decoder.load(params, partWeights.decoderParts(), config);
        int latent = config.latentChannels();
        this.quantConv = partWeights.encoderParts().bind(params,
                q -> CausalConv3d.load(q, "quant_conv", 2 * latent, 2 * latent, 1)::forward);
        this.postQuantConv = partWeights.decoderParts().bind(params,
                q -> CausalConv3d.load(q, "post_quant_conv", latent, latent, 1)::forward);
        this.tiler = new Tiler(TilingConfig.of(config), config);
    }

    /**
     * How the encoder's and the decoder's parts are bound, and the streamed weights that hold them ({@code null} when
     * the parts are resident, or only measured).
     */
    private record PartWeights(PartBinder encoderParts, PartBinder decoderParts, StreamedWeights encoderSlots,
                               StreamedWeights decoderSlots) {
        static final PartWeights RESIDENT = new PartWeights(PartBinder.RESIDENT, PartBinder.RESIDENT, null, null);

        /** Host copies and device slots for every part of a VAE of {@code config} in {@code p}'s dtype. */
        static PartWeights streamed(VaeConfig config, Parameters p) {
            long[][] bytes = partBytes(config, p.dtype());
            StreamedWeights encoderSlots = new StreamedWeights(p.device(), bytes[0], PREFETCH_DEPTH);
            try {
                StreamedWeights decoderSlots = new StreamedWeights(p.device(), bytes[1], PREFETCH_DEPTH);
                return new PartWeights(PartBinder.streaming(encoderSlots), PartBinder.streaming(decoderSlots),
                        encoderSlots, decoderSlots);
            } catch (RuntimeException e) {
                encoderSlots.close();
                throw e;
            }
        }

        boolean streamed() {
            return encoderSlots != null;
        }

        long deviceBytes() {
            return streamed() ? encoderSlots.deviceBytes() + decoderSlots.deviceBytes() : 0;
        }

        long bytesCopied() {
            return streamed() ? encoderSlots.bytesCopied() + decoderSlots.bytesCopied() : 0;
        }

        void close() {
            Scopes.closeAll(encoderSlots, decoderSlots);
        }
    }

    /**
     * The slot bytes of each part in {@code dtype} ({@link StreamedWeights#layerBytes}), in binding order:
     * {@code [0]} the encoder's (quant_conv last), {@code [1]} the decoder's (post_quant_conv last). Measured on the
     * meta device.
     */
    static long[][] partBytes(VaeConfig config, ScalarType dtype) {
        List<Long> encoderBytes = new ArrayList<>();
        List<Long> decoderBytes = new ArrayList<>();
        try (PointerScope scope = new PointerScope(); Parameters p = Parameters.meta(dtype)) {
            new CausalVideoVae(p, config, new PartWeights(PartBinder.measuring(dtype, encoderBytes),
                    PartBinder.measuring(dtype, decoderBytes), null, null)).closeBoxes();
        }
        return new long[][]{encoderBytes.stream().mapToLong(Long::longValue).toArray(),
                decoderBytes.stream().mapToLong(Long::longValue).toArray()};
    }

    /**
     * Binds the weights of {@code w} (official {@code AutoencoderKLCausal3D} or diffusers
     * {@code AutoencoderKLHunyuanVideo} names, which are identical; a {@code vae.} prefix is removed as the official
     * loader does) and copies them to {@code device} in {@code dtype}. The checkpoint may be closed afterwards.
     *
     * @throws IllegalArgumentException naming the first missing or wrongly shaped tensor, or the unexpected ones,
     *                                  before copying any
     */
    public static CausalVideoVae load(Weights w, VaeConfig config, Device device, ScalarType dtype) {
        return load(w, config, device, dtype, false);
    }

    /**
     * As {@link #load(Weights, VaeConfig, Device, ScalarType)}; {@code streamed} keeps the weights in host memory
     * (read there, never passing through the device) and streams them to {@code device} part by part as they run
     * (see the class comment).
     */
    public static CausalVideoVae load(Weights w, VaeConfig config, Device device, ScalarType dtype, boolean streamed) {
        return load(w, config, device, dtype, streamed, "VAE checkpoint");
    }

    private static CausalVideoVae load(Weights w, VaeConfig config, Device device, ScalarType dtype, boolean streamed,
                                       String what) {
        Objects.requireNonNull(w, "weights");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(device, "device");
        checkDevice(device, dtype);
        Weights canonical = canonicalNames(w);
        Parameters.checkExactly(canonical, expectedShapes(config), what);
        // streamed, every parameter goes to a host copy: read it there (the Device belongs to the binding's scope)
        Parameters p = streamed ? Parameters.of((name, shape, dev, dt) -> Parameters.copy(canonical, name, shape,
                new Device("cpu"), dt), device, dtype) : Parameters.of(canonical, device, dtype);
        return build(p, config, streamed);
    }

    /**
     * Loads a VAE folder: {@code config.json} plus {@code diffusion_pytorch_model.safetensors} (or its sharded index)
     * for the diffusers layout, or {@code pytorch_model.pt} for the official one.
     *
     * @throws NoSuchFileException naming the folder or file that is missing
     */
    public static CausalVideoVae fromPretrained(Path vaeDir, Device device, ScalarType dtype) throws IOException {
        return fromPretrained(vaeDir, device, dtype, false);
    }

    /**
     * As {@link #fromPretrained(Path, Device, ScalarType)}; {@code streamed} keeps the weights in host memory and
     * streams them to {@code device} part by part as they run (see the class comment).
     */
    public static CausalVideoVae fromPretrained(Path vaeDir, Device device, ScalarType dtype, boolean streamed)
            throws IOException {
        if (!Files.isDirectory(vaeDir)) {
            throw new NoSuchFileException(vaeDir.toString(), null, "VAE folder not found");
        }
        VaeConfig config = VaeConfig.fromJson(vaeDir.resolve("config.json"));
        List<Path> candidates = List.of(vaeDir.resolve("diffusion_pytorch_model.safetensors"),
                vaeDir.resolve("diffusion_pytorch_model.safetensors.index.json"),
                vaeDir.resolve("pytorch_model.pt"));
        Path checkpoint = candidates.stream().filter(Files::isRegularFile).findFirst()
                .orElseThrow(() -> new NoSuchFileException(vaeDir.toString(), null,
                        "no VAE weights: none of " + candidates + " exists"));
        try (Weights w = Weights.open(checkpoint)) {
            return load(w, config, device, dtype, streamed, "VAE checkpoint " + checkpoint);
        }
    }

    /**
     * A VAE of {@code config} with seeded random weights (benchmarks and smoke tests), drawn as
     * {@link Parameters#random} draws them (which seeds libtorch's default generators).
     */
    public static CausalVideoVae withRandomWeights(VaeConfig config, Device device, ScalarType dtype, long seed) {
        return withRandomWeights(config, device, dtype, seed, false);
    }

    /**
     * As {@link #withRandomWeights(VaeConfig, Device, ScalarType, long)} (the same values); {@code streamed} keeps
     * them in host memory and streams them to {@code device} part by part as they run (see the class comment).
     */
    public static CausalVideoVae withRandomWeights(VaeConfig config, Device device, ScalarType dtype, long seed,
                                                   boolean streamed) {
        checkDevice(device, dtype);
        return build(Parameters.random(device, dtype, seed), config, streamed);
    }

    /** The VAE owning {@code p}, which is closed, with any streamed weights, if building fails. */
    private static CausalVideoVae build(Parameters p, VaeConfig config, boolean streamed) {
        PartWeights parts = null;
        try {
            parts = streamed ? PartWeights.streamed(config, p) : PartWeights.RESIDENT;
            return new CausalVideoVae(p, config, parts);
        } catch (RuntimeException e) {
            if (parts != null) {
                parts.close();
            }
            p.close();
            throw e;
        }
    }

    /**
     * Every parameter name of a VAE of {@code config} with its shape, in module order, computed on the meta device
     * (nothing is allocated). The map is unmodifiable.
     */
    public static Map<String, long[]> expectedShapes(VaeConfig config) {
        // shapesOf closes the parameters itself, so only the boxes are closed here
        return Parameters.shapesOf(p -> new CausalVideoVae(p, config, PartWeights.RESIDENT).closeBoxes());
    }

    /**
     * The checkpoint's names as this class expects them: when keys carry a {@code vae.} prefix, only those keys are
     * kept, without it, as {@code hyvideo.vae.load_vae} does. (A {@code {"state_dict": …}} wrapper is already removed
     * by {@link Weights#open}.)
     */
    public static Weights canonicalNames(Weights w) {
        return w.names().stream().anyMatch(n -> n.startsWith("vae.")) ? w.stripPrefix("vae.") : w;
    }

    public VaeConfig config() {
        return config;
    }

    /** The device the weights live on. */
    public Device device() {
        return params.device();
    }

    /** The dtype of the weights and of the computation (GroupNorm aside). */
    public ScalarType dtype() {
        return params.dtype();
    }

    /** Whether the weights live in host memory and are streamed to the device part by part. */
    public boolean streamed() {
        return partWeights.streamed();
    }

    /** Device bytes of the streaming slots (0 when resident): {@link VaeMemory#streamedWeightBytes}. */
    public long streamingSlotBytes() {
        return partWeights.deviceBytes();
    }

    /** Bytes of streamed weights copied to the device so far (0 when resident). */
    public long streamedBytesCopied() {
        return partWeights.bytesCopied();
    }

    public TilingConfig tiling() {
        return tiler.tiling();
    }

    /** Sets the tiling used by later calls; the default is {@link TilingConfig#of(VaeConfig)} (the official one). */
    public void setTiling(TilingConfig tiling) {
        this.tiler = new Tiler(Objects.requireNonNull(tiling, "tiling"), config);
    }

    /**
     * Decodes latents to video ({@code AutoencoderKLCausal3D.decode}, including {@code post_quant_conv}).
     *
     * @param latents [B, latent, T, h, w], <b>already divided by {@link VaeConfig#scalingFactor()}</b> as the pipeline
     *                does before calling the VAE (the denoiser's latents are {@code z · scalingFactor})
     * @return [B, 3, 1 + 4(T−1), 8h, 8w], values roughly in [−1, 1], in the model's dtype
     */
    public Tensor decode(Tensor latents) {
        return decode(latents, Cancellation.NEVER);
    }

    /**
     * As {@link #decode(Tensor)}, asking {@code cancelled} before the first tile and after each one (an untiled
     * decode is one tile), so a cancelled decode stops within one tile.
     *
     * @throws CancelledException naming the tiles done ("after 3 of 12 tiles") once {@code cancelled} returns true;
     *                            nothing of the decode is left allocated
     */
    public Tensor decode(Tensor latents, BooleanSupplier cancelled) {
        checkVideo(latents, config.latentChannels(), "latents");
        Objects.requireNonNull(cancelled, "cancelled");
        Tiler t = tiler;
        try (InferenceMode ignored = new InferenceMode()) {
            return Scopes.scoped(() -> t.decode(toModel(latents), this::decodeTile, cancelled));
        }
    }

    /**
     * As {@link #decode(Tensor)}, but hands the frames to {@code sink} as soon as they are final: with temporal tiling,
     * one chunk per temporal tile (49, 48, 48, … frames for the official tiles); otherwise the whole video at once.
     * Nothing of the video is kept beyond the blend overlap.
     */
    public void decode(Tensor latents, FrameSink sink) {
        decode(latents, Cancellation.NEVER, sink);
    }

    /**
     * As {@link #decode(Tensor, FrameSink)}, asking {@code cancelled} before the first tile and after each one as
     * {@link #decode(Tensor, BooleanSupplier)} does, so a cancelled decode stops within one tile and hands no frames of
     * that tile to {@code sink}.
     *
     * @throws CancelledException naming the tiles done once {@code cancelled} returns true; nothing of the decode is
     *                            left allocated
     */
    public void decode(Tensor latents, BooleanSupplier cancelled, FrameSink sink) {
        decode(latents, cancelled, sink, Communicator.single());
    }

    /**
     * As {@link #decode(Tensor, BooleanSupplier, FrameSink)} shared by the ranks of {@code group}, every rank calling
     * it with the same latents and a VAE of the same weights: the tiles are decoded round-robin over the ranks, and
     * rank 0 blends them into exactly the one-rank video, handed to its {@code sink}; the other ranks' sinks get
     * nothing. Without tiling the decode is one tile, decoded by rank 0. {@code cancelled} is asked on rank 0.
     */
    public void decode(Tensor latents, BooleanSupplier cancelled, FrameSink sink, Communicator group) {
        checkVideo(latents, config.latentChannels(), "latents");
        Objects.requireNonNull(cancelled, "cancelled");
        Objects.requireNonNull(sink, "sink");
        Tiler t = tiler;
        try (InferenceMode ignored = new InferenceMode(); PointerScope scope = new PointerScope()) {
            t.decode(toModel(latents), this::decodeTile, cancelled, sink, group);
        }
    }

    /**
     * Encodes video ({@code AutoencoderKLCausal3D.encode}, including {@code quant_conv}) to its posterior.
     *
     * @param video [B, 3, T, H, W] in [−1, 1]; T = 1 + 4k frames gives 1 + k latent frames
     */
    public DiagonalGaussian encode(Tensor video) {
        checkVideo(video, config.inChannels(), "video");
        Tiler t = tiler;
        try (InferenceMode ignored = new InferenceMode()) {
            Tensor mean;
            Tensor logvar;
            try (PointerScope scope = new PointerScope()) {
                Tensor x = toModel(video);
                DiagonalGaussian posterior = DiagonalGaussian.fromMoments(t.encode(x, this::encodeTile));
                mean = Scopes.retained(posterior.mean());
                logvar = Scopes.retained(posterior.logvar());
            }
            return new DiagonalGaussian(Scopes.handOut(mean), Scopes.handOut(logvar));
        }
    }

    /**
     * Decodes {@code latents} (already divided by the scaling factor) in one piece, without tiling, showing
     * {@code probe} each decoder stage's output ({@code decoder.conv_in}, {@code decoder.mid_block},
     * {@code decoder.up_blocks.N}, {@code decoder}) as it is produced.
     */
    public Tensor decodeUntiled(Tensor latents, Probe probe) {
        checkVideo(latents, config.latentChannels(), "latents");
        try (InferenceMode ignored = new InferenceMode()) {
            return Scopes.scoped(() -> decodeTile(toModel(latents), probe));
        }
    }

    Encoder encoder() {
        return encoder;
    }

    Decoder decoder() {
        return decoder;
    }

    Part quantConv() {
        return quantConv;
    }

    Part postQuantConv() {
        return postQuantConv;
    }

    /** Releases the weights (and, streamed, their host copies and device slots). */
    @Override
    public void close() {
        closeBoxes();
        params.close();
        partWeights.close();
    }

    /** Closes what the boxes hold besides the parameters (the attention projections). */
    private void closeBoxes() {
        Scopes.closeAll(encoder, decoder);
    }

    /** {@code decoder(post_quant_conv(z))} of one tile. */
    private Tensor decodeTile(Tensor z) {
        return decodeTile(z, Probe.NONE);
    }

    private Tensor decodeTile(Tensor z, Probe probe) {
        return Scopes.scoped(() -> {
            Tensor h = postQuantConv.forward(z);
            Tensor y = decoder.forward(h, probe);
            h.close();
            return y;
        });
    }

    /** {@code quant_conv(encoder(x))} of one tile. */
    private Tensor encodeTile(Tensor x) {
        return Scopes.scoped(() -> {
            Tensor h = encoder.forward(x, Probe.NONE);
            Tensor m = quantConv.forward(h);
            h.close();
            return m;
        });
    }

    // ---- checks ---------------------------------------------------------------------------------------------------

    private Tensor toModel(Tensor t) {
        return t.to(params.device(), params.dtype());
    }

    private static void checkVideo(Tensor t, int channels, String what) {
        Objects.requireNonNull(t, what);
        long[] shape = Tensors.shape(t);
        if (shape.length != 5 || shape[1] != channels) {
            throw new IllegalArgumentException(what + " must be [B, " + channels + ", T, H, W], got "
                    + Arrays.toString(shape));
        }
        if (Arrays.stream(shape).anyMatch(s -> s == 0)) {
            throw new IllegalArgumentException(what + " must not be empty, got " + Arrays.toString(shape));
        }
        if (!FLOATING.contains(t.scalar_type().intern())) {
            throw new IllegalArgumentException(what + " must be floating point, got " + t.scalar_type().intern());
        }
    }

    /** Refuses dtypes that are no floating type, and combinations that would silently compute garbage. */
    private static void checkDevice(Device device, ScalarType dtype) {
        if (dtype == null || !FLOATING.contains(dtype.intern())) {
            throw new IllegalArgumentException("dtype must be a floating type (Float, Half, BFloat16), got " + dtype);
        }
        if (device.is_cpu() && dtype.intern() == ScalarType.BFloat16) {
            // measured with libtorch 2.10 (Bytedeco 1.5.13): CPU bf16 conv3d is off by ~33 % relative
            throw new IllegalArgumentException("bf16 on the CPU is not supported: libtorch's CPU bf16 conv3d gives "
                    + "wrong results; use fp32 (or fp16) on the CPU");
        }
    }
}
