package io.github.hunyuanvideo.vae;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Hyperparameters of the causal 3D VAE: the fields of {@code AutoencoderKLCausal3D}'s {@code vae/config.json}.
 *
 * @param inChannels              video channels (3)
 * @param outChannels             decoded channels (3)
 * @param latentChannels          latent channels (16)
 * @param blockOutChannels        widths of the down blocks; the decoder uses them reversed
 * @param layersPerBlock          resnets per encoder block (the decoder uses one more)
 * @param normNumGroups           GroupNorm groups
 * @param sampleSize              spatial tile size in pixels (the official tiling derives its tiles from it)
 * @param sampleTsize             temporal tile size in frames
 * @param scalingFactor           latents are {@code z · scalingFactor}; the pipeline divides by it before decoding
 * @param timeCompressionRatio    temporal compression (only 4 exists in the official code)
 * @param spatialCompressionRatio spatial compression (8)
 * @param midBlockAddAttention    whether the mid blocks have their frame-causal attention
 */
public record VaeConfig(int inChannels, int outChannels, int latentChannels, List<Integer> blockOutChannels,
                        int layersPerBlock, int normNumGroups, int sampleSize, int sampleTsize,
                        double scalingFactor, int timeCompressionRatio, int spatialCompressionRatio,
                        boolean midBlockAddAttention) {

    private static final Set<String> DOWN_BLOCKS = Set.of("DownEncoderBlockCausal3D", "HunyuanVideoDownBlock3D");
    private static final Set<String> UP_BLOCKS = Set.of("UpDecoderBlockCausal3D", "HunyuanVideoUpBlock3D");
    private static final Set<String> ACTIVATIONS = Set.of("silu", "swish");

    /** Validates the values the official code would reject or that make no network. */
    public VaeConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        require(inChannels > 0, "in_channels must be positive, got " + inChannels);
        require(outChannels > 0, "out_channels must be positive, got " + outChannels);
        require(latentChannels > 0, "latent_channels must be positive, got " + latentChannels);
        require(!blockOutChannels.isEmpty(), "block_out_channels must not be empty");
        require(layersPerBlock > 0, "layers_per_block must be positive, got " + layersPerBlock);
        require(normNumGroups > 0, "norm_num_groups must be positive, got " + normNumGroups);
        for (int c : blockOutChannels) {
            require(c > 0 && c % normNumGroups == 0,
                    "block_out_channels " + blockOutChannels + " must be positive multiples of norm_num_groups "
                            + normNumGroups);
        }
        require(sampleSize > 0 && sampleTsize > 0,
                "sample_size and sample_tsize must be positive, got " + sampleSize + ", " + sampleTsize);
        require(scalingFactor > 0, "scaling_factor must be positive, got " + scalingFactor);
        // EncoderCausal3D/DecoderCausal3D raise for any other ratio.
        require(timeCompressionRatio == 4, "time_compression_ratio must be 4 (the only value the official code "
                + "supports), got " + timeCompressionRatio);
        require(spatialCompressionRatio > 0 && Integer.bitCount(spatialCompressionRatio) == 1,
                "spatial_compression_ratio must be a power of two, got " + spatialCompressionRatio);
    }

    /** The {@code 884-16c-hy} configuration of HunyuanVideo's {@code vae/config.json}. */
    public static VaeConfig official() {
        return new VaeConfig(3, 3, 16, List.of(128, 256, 512, 512), 2, 32, 256, 64, 0.476986, 4, 8, true);
    }

    /**
     * Reads a {@code config.json}: the official {@code AutoencoderKLCausal3D} one or the diffusers
     * {@code AutoencoderKLHunyuanVideo} one.
     *
     * @throws NoSuchFileException if the file does not exist
     */
    public static VaeConfig fromJson(Path configJson) throws IOException {
        if (!Files.isRegularFile(configJson)) {
            throw new NoSuchFileException(configJson.toString(), null, "VAE config.json not found");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(configJson.toFile());
        } catch (IOException e) {
            throw new IOException("VAE config " + configJson + " is not valid JSON: " + e.getMessage(), e);
        }
        try {
            return fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("VAE config " + configJson + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads a config object. Field names are the official ones ({@code time_compression_ratio}) or the diffusers ones
     * ({@code temporal_compression_ratio}); a field that is absent takes its {@link #official()} value (the official
     * file lacks {@code spatial_compression_ratio}, the diffusers one {@code sample_size}/{@code sample_tsize}).
     * Unknown fields are ignored.
     */
    public static VaeConfig fromJson(JsonNode c) {
        require(c != null && c.isObject(), "VAE config must be a JSON object");
        VaeConfig d = official();
        List<Integer> blocks = d.blockOutChannels();
        if (c.hasNonNull("block_out_channels")) {
            JsonNode arr = c.get("block_out_channels");
            require(arr.isArray(), "block_out_channels must be an array");
            blocks = new ArrayList<>();
            for (JsonNode n : arr) {
                blocks.add(intValue(n, "block_out_channels"));
            }
        }
        checkBlockTypes(c, "down_block_types", DOWN_BLOCKS, blocks.size());
        checkBlockTypes(c, "up_block_types", UP_BLOCKS, blocks.size());
        if (c.hasNonNull("act_fn")) {
            String act = c.get("act_fn").asText();
            require(ACTIVATIONS.contains(act), "act_fn must be silu, got '" + act + "'");
        }
        if (c.hasNonNull("shift_factor")) {
            require(c.get("shift_factor").asDouble() == 0.0,
                    "shift_factor " + c.get("shift_factor") + " is not supported (884-16c-hy has none)");
        }
        JsonNode sampleSize = c.get("sample_size");
        if (sampleSize != null && sampleSize.isArray()) {
            sampleSize = sampleSize.get(0); // the official code takes the first entry of a list
        }
        String timeKey = c.has("time_compression_ratio") ? "time_compression_ratio" : "temporal_compression_ratio";
        return new VaeConfig(
                intField(c, "in_channels", d.inChannels()),
                intField(c, "out_channels", d.outChannels()),
                intField(c, "latent_channels", d.latentChannels()),
                blocks,
                intField(c, "layers_per_block", d.layersPerBlock()),
                intField(c, "norm_num_groups", d.normNumGroups()),
                sampleSize == null || sampleSize.isNull() ? d.sampleSize() : intValue(sampleSize, "sample_size"),
                intField(c, "sample_tsize", d.sampleTsize()),
                c.hasNonNull("scaling_factor") ? c.get("scaling_factor").asDouble() : d.scalingFactor(),
                intField(c, timeKey, d.timeCompressionRatio()),
                intField(c, "spatial_compression_ratio", d.spatialCompressionRatio()),
                c.hasNonNull("mid_block_add_attention") ? c.get("mid_block_add_attention").asBoolean()
                        : d.midBlockAddAttention());
    }

    /** Number of down (and up) blocks. */
    public int blocks() {
        return blockOutChannels.size();
    }

    /** Whether encoder block {@code i} halves H and W, and decoder up block {@code i} doubles them. */
    public boolean scalesSpace(int i) {
        return i < Integer.numberOfTrailingZeros(spatialCompressionRatio);
    }

    /** Whether encoder block {@code i} halves T (causally), and decoder up block {@code i} doubles it. */
    public boolean scalesTime(int i) {
        int timeLayers = Integer.numberOfTrailingZeros(timeCompressionRatio);
        return i >= blocks() - 1 - timeLayers && i != blocks() - 1;
    }

    /** Latent frames the encoder makes of {@code frames} video frames: {@code (T−1)/2 + 1} per temporal stage. */
    public long latentFrames(long frames) {
        long t = frames;
        for (int i = 0; i < blocks(); i++) {
            if (scalesTime(i)) {
                t = (t - 1) / 2 + 1;
            }
        }
        return t;
    }

    /** Latent pixels the encoder makes of {@code pixels} (stride-2 convolutions with one pixel of padding). */
    public long latentSize(long pixels) {
        long s = pixels;
        for (int i = 0; i < blocks(); i++) {
            if (scalesSpace(i)) {
                s = (s - 1) / 2 + 1;
            }
        }
        return s;
    }

    /** Video frames the decoder makes of {@code latentFrames}: {@code 1 + 2(T−1)} per temporal stage. */
    public long decodedFrames(long latentFrames) {
        long t = latentFrames;
        for (int i = 0; i < blocks(); i++) {
            if (scalesTime(i)) {
                t = 1 + 2 * (t - 1);
            }
        }
        return t;
    }

    /** Pixels the decoder makes of {@code latentPixels}. */
    public long decodedSize(long latentPixels) {
        long s = latentPixels;
        for (int i = 0; i < blocks(); i++) {
            if (scalesSpace(i)) {
                s *= 2;
            }
        }
        return s;
    }

    private static void checkBlockTypes(JsonNode c, String key, Set<String> allowed, int blocks) {
        JsonNode arr = c.get(key);
        if (arr == null || arr.isNull()) {
            return;
        }
        require(arr.isArray() && arr.size() == blocks, key + " must list one type per block_out_channels entry ("
                + blocks + ")");
        for (JsonNode n : arr) {
            String type = n.asText();
            String bare = type.startsWith("UNetRes") ? type.substring(7) : type;
            require(allowed.contains(bare), key + " entry '" + type + "' is not one of " + allowed);
        }
    }

    private static int intField(JsonNode c, String key, int dflt) {
        return c.hasNonNull(key) ? intValue(c.get(key), key) : dflt;
    }

    private static int intValue(JsonNode n, String key) {
        require(n.canConvertToInt() && n.isIntegralNumber(), key + " must be an integer, got " + n);
        return n.asInt();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
