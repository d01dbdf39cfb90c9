package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongUnaryOperator;
import io.github.hunyuanvideo.nn.Scopes;

/**
 * HunyuanVideo's causal 3D VAE ({@code AutoencoderKLCausal3D}, {@code 884-16c-hy}): 4× temporal and 8× spatial
 * compression to 16 latent channels, with the official tiled encode and decode (spec §10).
 *
 * <p><b>Precision.</b> Convolutions, linears and attention run in the dtype the model was loaded in (fp16 on the GPU
 * as in the official inference); GroupNorm and its SiLU are computed in float32 like CUDA autocast does. Inputs are
 * moved to the model's device and dtype; outputs are in the model's dtype.
 *
 * <p><b>Memory.</b> Tiles are computed one at a time; each is blended with the kept edges of its neighbours and
 * written to the output (or handed to a {@link FrameSink}) at once, so decoding holds one tile's activations plus the
 * output, never all tiles.
 *
 * <p><b>Ownership.</b> Returned tensors belong to the caller's innermost {@link PointerScope} if there is one, else
 * to the caller. They are created under {@link InferenceMode}: update them in place only inside one.
 */
public final class CausalVideoVae implements AutoCloseable {
    private static final Set<ScalarType> FLOATING = Set.of(ScalarType.Float, ScalarType.Half, ScalarType.BFloat16,
            ScalarType.Double);
    private static final int MAX_LISTED_PROBLEMS = 12;

    private final VaeConfig config;
    private final Params params;
    private final Encoder encoder;
    private final Decoder decoder;
    private final CausalConv3d quantConv;
    private final CausalConv3d postQuantConv;
    private volatile TilingConfig tiling;

    private CausalVideoVae(Params params, VaeConfig config) {
        this.config = config;
        this.params = params;
        this.encoder = Encoder.load(params, config);
        this.decoder = Decoder.load(params, config);
        int latent = config.latentChannels();
        this.quantConv = CausalConv3d.load(params, "quant_conv", 2 * latent, 2 * latent, 1);
        this.postQuantConv = CausalConv3d.load(params, "post_quant_conv", latent, latent, 1);
        this.tiling = TilingConfig.of(config);
    }

    /**
     * Binds the weights of {@code w} (official {@code AutoencoderKLCausal3D} or diffusers
     * {@code AutoencoderKLHunyuanVideo} names, which are identical; a {@code vae.} prefix is removed as the official
     * loader does) and copies them to {@code device} in {@code dtype}. The checkpoint may be closed afterwards.
     *
     * @throws IllegalArgumentException listing missing, unexpected and wrongly shaped tensors, before copying any
     */
    public static CausalVideoVae load(Weights w, VaeConfig config, Device device, ScalarType dtype) {
        Objects.requireNonNull(w, "weights");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(device, "device");
        checkDevice(device, dtype);
        Weights canonical = canonicalNames(w);
        checkCheckpoint(canonical, config);
        Params p = Params.of(canonical, device, dtype);
        try {
            return new CausalVideoVae(p, config);
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /**
     * Loads a VAE folder: {@code config.json} plus {@code diffusion_pytorch_model.safetensors} (or its sharded index)
     * for the diffusers layout, or {@code pytorch_model.pt} for the official one.
     *
     * @throws NoSuchFileException naming the folder or file that is missing
     */
    public static CausalVideoVae fromPretrained(Path vaeDir, Device device, ScalarType dtype) throws IOException {
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
            return load(w, config, device, dtype);
        }
    }

    /** A VAE of {@code config} with seeded random weights (benchmarks and smoke tests). */
    public static CausalVideoVae withRandomWeights(VaeConfig config, Device device, ScalarType dtype, long seed) {
        checkDevice(device, dtype);
        Params p = Params.random(device, dtype, seed);
        try {
            return new CausalVideoVae(p, config);
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /**
     * Every parameter name of a VAE of {@code config} with its shape, in module order, computed on the meta device
     * (nothing is allocated).
     */
    public static Map<String, long[]> expectedShapes(VaeConfig config) {
        try (Params p = Params.meta()) {
            new CausalVideoVae(p, config);
            Map<String, long[]> out = new LinkedHashMap<>();
            p.shapes().forEach((k, v) -> out.put(k, v.clone()));
            return out;
        }
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

    public TilingConfig tiling() {
        return tiling;
    }

    /** Sets the tiling used by later calls; the default is {@link TilingConfig#of(VaeConfig)} (the official one). */
    public void setTiling(TilingConfig tiling) {
        this.tiling = Objects.requireNonNull(tiling, "tiling");
    }

    /**
     * Decodes latents to video ({@code AutoencoderKLCausal3D.decode}, including {@code post_quant_conv}).
     *
     * @param latents [B, latent, T, h, w], <b>already divided by {@link VaeConfig#scalingFactor()}</b> as the pipeline
     *                does before calling the VAE (the denoiser's latents are {@code z · scalingFactor})
     * @return [B, 3, 1 + 4(T−1), 8h, 8w], values roughly in [−1, 1], in the model's dtype
     */
    public Tensor decode(Tensor latents) {
        checkVideo(latents, config.latentChannels(), "latents");
        TilingConfig tc = tiling;
        try (InferenceMode ignored = new InferenceMode()) {
            return Scopes.scoped(() -> {
                Tensor z = toModel(latents);
                if (!temporalDecode(tc, z)) {
                    return decodeSpatially(tc, z);
                }
                Plan frames = decodeTemporalPlan(tc, z.size(2));
                boolean tiled = spatialDecode(tc, z.size(3), z.size(4));
                long[] shape = {z.size(0), config.outChannels(), frames.axis.total,
                        decodedSize(tc, tiled, z.size(3)), decodedSize(tc, tiled, z.size(4))};
                Tensor out = torch.empty(shape, z.options(), new MemoryFormatOptional());
                Tiler.temporal(z, frames.axis, frames.blend, tile -> decodeSpatially(tc, tile),
                        (chunk, first) -> out.narrow(2, first, chunk.size(2)).copy_(chunk));
                return out;
            });
        }
    }

    /**
     * As {@link #decode(Tensor)}, but hands the frames to {@code sink} as soon as they are final: with temporal tiling,
     * one chunk per temporal tile (49, 48, 48, … frames for the official tiles); otherwise the whole video at once.
     * Nothing of the video is kept beyond the blend overlap.
     */
    public void decode(Tensor latents, FrameSink sink) {
        checkVideo(latents, config.latentChannels(), "latents");
        Objects.requireNonNull(sink, "sink");
        TilingConfig tc = tiling;
        try (InferenceMode ignored = new InferenceMode(); PointerScope scope = new PointerScope()) {
            Tensor z = toModel(latents);
            if (temporalDecode(tc, z)) {
                Plan frames = decodeTemporalPlan(tc, z.size(2));
                Tiler.temporal(z, frames.axis, frames.blend, tile -> decodeSpatially(tc, tile), sink);
            } else {
                sink.accept(decodeSpatially(tc, z), 0);
            }
        }
    }

    /**
     * Encodes video ({@code AutoencoderKLCausal3D.encode}, including {@code quant_conv}) to its posterior.
     *
     * @param video [B, 3, T, H, W] in [−1, 1]; T = 1 + 4k frames gives 1 + k latent frames
     */
    public DiagonalGaussian encode(Tensor video) {
        checkVideo(video, config.inChannels(), "video");
        TilingConfig tc = tiling;
        try (InferenceMode ignored = new InferenceMode()) {
            Tensor mean;
            Tensor logvar;
            try (PointerScope scope = new PointerScope()) {
                Tensor x = toModel(video);
                DiagonalGaussian posterior = DiagonalGaussian.fromMoments(moments(tc, x));
                mean = Scopes.retained(posterior.mean());
                logvar = Scopes.retained(posterior.logvar());
            }
            return new DiagonalGaussian(Scopes.handOut(mean), Scopes.handOut(logvar));
        }
    }

    Encoder encoder() {
        return encoder;
    }

    Decoder decoder() {
        return decoder;
    }

    CausalConv3d quantConv() {
        return quantConv;
    }

    CausalConv3d postQuantConv() {
        return postQuantConv;
    }

    /** Releases the weights. */
    @Override
    public void close() {
        params.close();
    }

    // ---- decoding -------------------------------------------------------------------------------------------------

    /** {@code _decode}'s first branch: temporal tiling when the clip is longer than one latent tile. */
    private boolean temporalDecode(TilingConfig tc, Tensor z) {
        return tc.temporal() && z.size(2) > tc.latentTileFrames(config);
    }

    private boolean spatialDecode(TilingConfig tc, long h, long w) {
        int tile = tc.latentTileSize(config);
        return tc.spatial() && (w > tile || h > tile);
    }

    /** {@code spatial_tiled_decode} when the input exceeds one latent tile, else the plain decoder. */
    private Tensor decodeSpatially(TilingConfig tc, Tensor z) {
        if (!spatialDecode(tc, z.size(3), z.size(4))) {
            return decodeTile(z);
        }
        Plan rows = decodeSpatialPlan(tc, z.size(3));
        Plan cols = decodeSpatialPlan(tc, z.size(4));
        return Tiler.spatial(z, rows.axis, cols.axis, rows.blend, this::decodeTile);
    }

    private Tensor decodeTile(Tensor z) {
        return decodeTile(z, Probe.NONE);
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

    private Tensor decodeTile(Tensor z, Probe probe) {
        return Scopes.scoped(() -> {
            Tensor h = postQuantConv.forward(z);
            Tensor y = decoder.forward(h, probe);
            h.close();
            return y;
        });
    }

    /** Decoded pixels along H or W, tiled or not. */
    private long decodedSize(TilingConfig tc, boolean tiled, long latent) {
        return tiled ? decodeSpatialPlan(tc, latent).axis.total : config.decodedSize(latent);
    }

    private Plan decodeSpatialPlan(TilingConfig tc, long size) {
        int tile = tc.latentTileSize(config);
        int blend = (int) (tc.spatialTileSize() * tc.overlapFactor());
        int stride = (int) (tile * (1 - tc.overlapFactor()));
        return new Plan(TileAxis.spatial(size, tile, stride, tc.spatialTileSize() - blend, config::decodedSize),
                blend);
    }

    private Plan decodeTemporalPlan(TilingConfig tc, long frames) {
        int tile = tc.latentTileFrames(config);
        int blend = (int) (tc.temporalTileFrames() * tc.overlapFactor());
        int stride = (int) (tile * (1 - tc.overlapFactor()));
        return new Plan(TileAxis.temporal(frames, tile, stride, tc.temporalTileFrames() - blend,
                config::decodedFrames), blend);
    }

    // ---- encoding -------------------------------------------------------------------------------------------------

    /** {@code quant_conv(encoder(x))}, tiled like {@code encode} would. */
    private Tensor moments(TilingConfig tc, Tensor x) {
        if (!(tc.temporal() && x.size(2) > tc.temporalTileFrames())) {
            return encodeSpatially(tc, x);
        }
        Plan frames = encodeTemporalPlan(tc, x.size(2));
        boolean tiled = spatialEncode(tc, x.size(3), x.size(4));
        long[] shape = {x.size(0), 2L * config.latentChannels(), frames.axis.total,
                encodedSize(tc, tiled, x.size(3)), encodedSize(tc, tiled, x.size(4))};
        Tensor out = torch.empty(shape, x.options(), new MemoryFormatOptional());
        Tiler.temporal(x, frames.axis, frames.blend, tile -> encodeSpatially(tc, tile),
                (chunk, first) -> out.narrow(2, first, chunk.size(2)).copy_(chunk));
        return out;
    }

    private Tensor encodeSpatially(TilingConfig tc, Tensor x) {
        if (!spatialEncode(tc, x.size(3), x.size(4))) {
            return encodeTile(x);
        }
        Plan rows = encodeSpatialPlan(tc, x.size(3));
        Plan cols = encodeSpatialPlan(tc, x.size(4));
        return Tiler.spatial(x, rows.axis, cols.axis, rows.blend, this::encodeTile);
    }

    private Tensor encodeTile(Tensor x) {
        return Scopes.scoped(() -> {
            Tensor h = encoder.forward(x, Probe.NONE);
            Tensor m = quantConv.forward(h);
            h.close();
            return m;
        });
    }

    private static boolean spatialEncode(TilingConfig tc, long h, long w) {
        int tile = tc.spatialTileSize();
        return tc.spatial() && (w > tile || h > tile);
    }

    private long encodedSize(TilingConfig tc, boolean tiled, long pixels) {
        return tiled ? encodeSpatialPlan(tc, pixels).axis.total : config.latentSize(pixels);
    }

    private Plan encodeSpatialPlan(TilingConfig tc, long size) {
        int tile = tc.spatialTileSize();
        int latentTile = tc.latentTileSize(config);
        int blend = (int) (latentTile * tc.overlapFactor());
        int stride = (int) (tile * (1 - tc.overlapFactor()));
        return new Plan(TileAxis.spatial(size, tile, stride, latentTile - blend, config::latentSize), blend);
    }

    private Plan encodeTemporalPlan(TilingConfig tc, long frames) {
        int tile = tc.temporalTileFrames();
        int latentTile = tc.latentTileFrames(config);
        int blend = (int) (latentTile * tc.overlapFactor());
        int stride = (int) (tile * (1 - tc.overlapFactor()));
        return new Plan(TileAxis.temporal(frames, tile, stride, latentTile - blend, config::latentFrames), blend);
    }

    /** One tiled axis with the blend extent of its output. */
    private record Plan(TileAxis axis, int blend) {
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

    private static void checkCheckpoint(Weights w, VaeConfig config) {
        Map<String, long[]> expected = expectedShapes(config);
        List<String> problems = new ArrayList<>();
        expected.forEach((name, shape) -> {
            if (!w.contains(name)) {
                problems.add("missing " + name + " " + Arrays.toString(shape));
            } else if (!Arrays.equals(w.info(name).shape(), shape)) {
                problems.add(name + " has shape " + Arrays.toString(w.info(name).shape()) + ", expected "
                        + Arrays.toString(shape));
            }
        });
        for (String name : w.names()) {
            if (!expected.containsKey(name)) {
                problems.add("unexpected " + name);
            }
        }
        if (!problems.isEmpty()) {
            String listed = String.join("; ", problems.subList(0, Math.min(problems.size(), MAX_LISTED_PROBLEMS)));
            int more = problems.size() - MAX_LISTED_PROBLEMS;
            throw new IllegalArgumentException("VAE checkpoint does not match the config (" + problems.size()
                    + " problems): " + listed + (more > 0 ? "; and " + more + " more" : ""));
        }
    }
}
