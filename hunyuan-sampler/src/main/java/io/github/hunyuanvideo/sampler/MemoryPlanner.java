package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.DitMemory;
import io.github.hunyuanvideo.nn.MemorySize;
import io.github.hunyuanvideo.nn.StreamedWeights;
import io.github.hunyuanvideo.text.ClipTextConfig;
import io.github.hunyuanvideo.text.ClipTextEncoder;
import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.text.LlamaConfig;
import io.github.hunyuanvideo.text.LlmEncoderOptions;
import io.github.hunyuanvideo.text.LlmMemory;
import io.github.hunyuanvideo.vae.TilingConfig;
import io.github.hunyuanvideo.vae.VaeConfig;
import io.github.hunyuanvideo.vae.VaeMemory;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * Turns a device-memory budget into a {@link MemoryPlan}, from the byte figures of the models ({@link Sizes}) alone.
 * A generation has three stages that share the device with what stays loaded throughout (the DiT's non-block weights,
 * its resident blocks and streaming slots, the VAE's weights): the prompt encoding (text encoder weights or their
 * streaming slots, and their activations), the denoising steps (the DiT's activations) and the VAE decode (its tiles'
 * working memory). What costs time is decided first, against the least that stays loaded (every DiT block
 * streamed): the largest VAE tiles that fit (the official ones when they do), then the fewest LLM layers to stream
 * (their copies show: the encoder computes little per layer); then as many DiT blocks stay resident as every stage
 * allows (streamed blocks cost almost no time, their copies hide behind the compute; resident ones save host
 * memory). A budget that even the smallest plan (every block and every LLM layer streamed, the smallest tiles)
 * exceeds is refused with the smallest budget that would work.
 */
final class MemoryPlanner {
    /** An LLM streaming option the configuration rules out: more bytes than any device has. */
    static final long UNAVAILABLE = Long.MAX_VALUE / 4;
    /**
     * CLIP-L's activations for its 77 tokens: a few MB (12 layers of [77, 768] states and [12, 77, 77] scores);
     * 64 MiB covers them and the pooled output many times over.
     */
    private static final long CLIP_ACTIVATION_BYTES = 64L << 20;
    /** Kept free of the budget for the allocator's block rounding and library workspaces (cuBLAS, cuDNN). */
    static final long MARGIN_BYTES = 256L << 20;
    /** ... plus this fraction of the budget. */
    static final double MARGIN_FRACTION = 0.03;

    private MemoryPlanner() {
    }

    /** The VAE decode's working memory beyond its weights, for the largest request's latents. */
    interface VaeDecodeMemory {
        /** The tiling used when it fits (the official one). */
        TilingConfig preferred();

        /** Working bytes of a decode with {@code tiling}. */
        long workingBytes(TilingConfig tiling);

        /** The largest tiling whose working bytes fit {@code bytes}, or {@code null} if none does. */
        TilingConfig fitting(long bytes);

        /** The working bytes of the smallest tiling. */
        long minimumBytes();
    }

    /**
     * The byte figures a plan is made from, for the largest request.
     *
     * @param ditNonBlock      DiT weights outside the blocks (always resident)
     * @param ditBlocks        each block's bytes, in execution order
     * @param ditActivation    one denoising forward's activations
     * @param llmDeviceBytes   the LLM's device weight bytes with {@code n} layers streamed, index {@code n} (empty when
     *                         the text encoders are not on the device; {@link #UNAVAILABLE} for counts the
     *                         configuration rules out)
     * @param textActivation   the text encoders' activations plus CLIP's weights (0 when not on the device)
     * @param vaeWeights       the VAE's weights on the device throughout (its streaming slots with CPU offload)
     * @param vae              the VAE decode's working memory
     */
    record Sizes(long ditNonBlock, long[] ditBlocks, long ditActivation, long[] llmDeviceBytes, long textActivation,
                 long vaeWeights, VaeDecodeMemory vae) {
        Sizes {
            Objects.requireNonNull(vae, "vae");
            ditBlocks = ditBlocks.clone();
            llmDeviceBytes = llmDeviceBytes.clone();
        }

        /** Whether the text encoders run on the device. */
        boolean textOnDevice() {
            return llmDeviceBytes.length > 0;
        }
    }

    /**
     * The plan for {@code budget}.
     *
     * @param budget        bytes, above 0
     * @param deviceFree    the device's free memory now (0 = unknown: the budget alone counts)
     * @param text          where the text encoders run
     * @param prefetchDepth streamed blocks copied ahead
     * @param vaeStreamed   whether {@code sizes} counts the VAE's streaming slots (CPU offload), for the plan's record
     * @throws IllegalArgumentException starting with {@code deviceMemoryBudget:}, naming the smallest budget that
     *                                  works, if none fits
     */
    static MemoryPlan plan(long budget, long deviceFree, RequestSize largest, Sizes sizes,
                           MemoryPlan.TextPlacement text, int prefetchDepth, boolean vaeStreamed) {
        long available = deviceFree > 0 ? Math.min(budget, deviceFree) : budget;
        long usable = usable(available);
        int blocks = sizes.ditBlocks().length;
        // What costs time is chosen first, against the least that stays loaded (every block streamed): the VAE's
        // tiles (smaller ones decode slower), then the LLM layers streamed (their copies show, the encoder computes
        // little); resident DiT blocks come last, as streamed ones cost almost nothing.
        long least = persistent(sizes, 0, blocks, prefetchDepth);
        TilingConfig preferred = sizes.vae().preferred();
        TilingConfig tiling = least + sizes.vae().workingBytes(preferred) <= usable ? preferred
                : sizes.vae().fitting(usable - least);
        int llmStreamed = sizes.textOnDevice() ? fewestStreamedLayers(sizes, usable - least) : 0;
        if (least + sizes.ditActivation() > usable || tiling == null || llmStreamed < 0) {
            throw tooSmall(budget, available, largest, sizes, prefetchDepth);
        }
        long encode = sizes.textOnDevice() ? sizes.llmDeviceBytes()[llmStreamed] + sizes.textActivation() : 0;
        long decode = sizes.vae().workingBytes(tiling);
        long working = Math.max(sizes.ditActivation(), Math.max(encode, decode));
        for (int resident = blocks; ; resident--) {
            int streamed = roundedStreamed(blocks, resident, prefetchDepth);
            long persistent = persistent(sizes, blocks - streamed, streamed, prefetchDepth);
            // every block streamed (resident 0) fits: that is the least checked above
            if (resident == 0 || blocks - streamed == resident && persistent + working <= usable) {
                long host = Arrays.stream(sizes.ditBlocks(), blocks - streamed, blocks).sum();
                return new MemoryPlan(budget, usable, largest, resident, streamed, prefetchDepth, text, llmStreamed,
                        tiling, vaeStreamed, persistent + encode, persistent + sizes.ditActivation(),
                        persistent + decode, host);
            }
        }
    }

    /** The refusal of a budget that not even the least plan fits, naming the smallest that works. */
    private static IllegalArgumentException tooSmall(long budget, long available, RequestSize largest, Sizes sizes,
                                                     int prefetchDepth) {
        return new IllegalArgumentException(String.format(Locale.ROOT, "deviceMemoryBudget: %s%s is too small for %s "
                        + "even with every DiT block%s streamed and the smallest VAE tiles; the smallest budget that "
                        + "works is %s", MemorySize.format(budget), available < budget
                        ? " (" + MemorySize.format(available) + " free on the device)" : "", largest,
                sizes.textOnDevice() ? " and LLM layer" : "",
                MemorySize.format(roundUp(smallestBudget(sizes, prefetchDepth)))));
    }

    /** The fewest LLM layers to stream for the text encoders to fit {@code bytes}, or -1 if none fits. */
    private static int fewestStreamedLayers(Sizes sizes, long bytes) {
        for (int n = 0; n < sizes.llmDeviceBytes().length; n++) {
            if (sizes.llmDeviceBytes()[n] + sizes.textActivation() <= bytes) {
                return n;
            }
        }
        return -1;
    }

    /**
     * The figures of the models {@code config} loads, for its largest request: the DiT's and the VAE's from their
     * configurations, the text encoders' from theirs ({@code llm} and {@code clip} {@code null} when they do not run
     * on the device).
     */
    static Sizes sizes(SamplerConfig config, DitConfig dit, VaeConfig vae, LlamaConfig llm, ClipTextConfig clip) {
        ScalarType ditDtype = config.precision().scalarType();
        ScalarType vaeDtype = config.vaePrecision().scalarType();
        long[] latents = config.largestRequest().latentShape(dit.inChannels(), 1 << (vae.blocks() - 1),
                vae.timeCompressionRatio());
        long[] llmBytes = new long[0];
        long textActivation = 0;
        if (llm != null) {
            LlmEncoderOptions options = TextEncoders.llmOptions(config);
            ScalarType llmDtype = config.textEncoderPrecision().scalarType();
            llmBytes = new long[options.layersToRun(llm.numLayers()) + 1];
            for (int n = 0; n < llmBytes.length; n++) {
                // CPU offload streams every layer: fewer streamed layers are no option then
                llmBytes[n] = config.useCpuOffload() && n < llmBytes.length - 1 ? UNAVAILABLE
                        : LlmMemory.deviceWeightBytes(llm, options, llmDtype, new LayerStreaming(n, 1));
            }
            textActivation = LlmMemory.activationPeakBytes(llm, llmDtype, 1, options.maxLength())
                    + clipBytes(clip, config.textEncoderPrecision2().scalarType()) + CLIP_ACTIVATION_BYTES;
        }
        long[] videoLatents = latents.clone();
        videoLatents[0] = Math.max(1, config.largestRequest().batch());
        return new Sizes(DitMemory.nonBlockBytes(dit, ditDtype, config.useFp8()),
                DitMemory.blockBytes(dit, ditDtype, config.useFp8()),
                // INT8 runs on at least the middle steps: its workspace bounds the plan
                DitMemory.activationBytes(dit, ditDtype, latents, config.textLen(), config.attention()), llmBytes,
                textActivation,
                config.useCpuOffload() ? VaeMemory.streamedWeightBytes(vae, vaeDtype)
                        : VaeMemory.weightBytes(vae, vaeDtype),
                vaeDecode(vae, vaeDtype, videoLatents, config.vaeTiling()));
    }

    private static long clipBytes(ClipTextConfig clip, ScalarType dtype) {
        long values = ClipTextEncoder.expectedShapes(clip).values().stream()
                .mapToLong(shape -> Arrays.stream(shape).reduce(1, Math::multiplyExact)).sum();
        return values * torch.elementSize(dtype);
    }

    /** The VAE decode's working memory for {@code latents}, preferring the official tiling (or none). */
    private static VaeDecodeMemory vaeDecode(VaeConfig vae, ScalarType dtype, long[] latents, boolean tiled) {
        TilingConfig preferred = tiled ? TilingConfig.of(vae) : TilingConfig.disabled();
        long minimum = VaeMemory.minimumDecodeBytes(vae, dtype, latents);
        return new VaeDecodeMemory() {
            @Override
            public TilingConfig preferred() {
                return preferred;
            }

            @Override
            public long workingBytes(TilingConfig tiling) {
                return VaeMemory.decodeBytes(vae, dtype, latents, tiling);
            }

            @Override
            public TilingConfig fitting(long bytes) {
                return bytes < minimum ? null : TilingConfig.fitting(vae, dtype, latents, bytes, "deviceMemoryBudget");
            }

            @Override
            public long minimumBytes() {
                return minimum;
            }
        };
    }

    /** The budget less the margin. */
    static long usable(long budget) {
        return budget - Math.max(MARGIN_BYTES, (long) (budget * MARGIN_FRACTION));
    }

    /**
     * The streamed block count for {@code resident} resident blocks, rounded up to a multiple of the slots so that
     * the ring of {@link StreamedWeights} prefetches every block (one more streamed block costs host memory only).
     */
    static int roundedStreamed(int blocks, int resident, int prefetchDepth) {
        int streamed = blocks - resident;
        if (streamed == 0) {
            return 0;
        }
        int slots = StreamedWeights.slotsFor(streamed, prefetchDepth);
        return Math.min(blocks, (streamed + slots - 1) / slots * slots);
    }

    /** Device bytes held through a whole generation: non-block weights, resident blocks, slots, the VAE's weights. */
    private static long persistent(Sizes sizes, int resident, int streamed, int prefetchDepth) {
        long[] b = sizes.ditBlocks();
        long residentBytes = Arrays.stream(b, 0, resident).sum();
        long slotBytes = 0;
        if (streamed > 0) {
            long largest = Arrays.stream(b, b.length - streamed, b.length).max().orElse(0);
            slotBytes = StreamedWeights.slotsFor(streamed, prefetchDepth) * largest;
        }
        return sizes.ditNonBlock() + residentBytes + slotBytes + sizes.vaeWeights();
    }

    /** The smallest budget whose usable part holds the smallest plan. */
    static long smallestBudget(Sizes sizes, int prefetchDepth) {
        int blocks = sizes.ditBlocks().length;
        long persistent = persistent(sizes, 0, blocks, prefetchDepth);
        long need = persistent + sizes.ditActivation();
        if (sizes.textOnDevice()) {
            long[] llm = sizes.llmDeviceBytes();
            need = Math.max(need, persistent + Arrays.stream(llm).min().orElse(0) + sizes.textActivation());
        }
        need = Math.max(need, persistent + sizes.vae().minimumBytes());
        // usable(b) = b - max(MARGIN_BYTES, b * MARGIN_FRACTION) >= need
        return Math.max(need + MARGIN_BYTES, (long) Math.ceil(need / (1 - MARGIN_FRACTION)));
    }

    /** {@code bytes} rounded up to a tenth of a GiB, for messages. */
    private static long roundUp(long bytes) {
        long tenth = (1L << 30) / 10;
        return (bytes + tenth - 1) / tenth * tenth;
    }
}
