package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.nn.MemorySize;
import io.github.hunyuanvideo.vae.TilingConfig;

import java.util.Locale;

/**
 * How a sampler fits its device-memory budget, decided by {@code fromPretrained} before any weight loads: which DiT
 * blocks stay on the device and which are streamed from host memory, how many LLM layers are streamed, the VAE's
 * tiles, and the device memory each stage of a generation is expected to peak at for the largest request. Without a
 * budget the plan is {@link #unbudgeted}: everything resident, the official tiling.
 *
 * @param budget             the budget asked for, bytes (0 = none)
 * @param usable             what the plan fills: the budget (or the device's free memory, if smaller) less a margin
 *                           for the allocator's rounding and library workspaces; 0 without a budget
 * @param largestRequest     the request size the plan was made for
 * @param residentBlocks     DiT blocks kept on the device (the first ones in execution order)
 * @param streamedBlocks     DiT blocks streamed from host memory (the last ones)
 * @param prefetchDepth      streamed blocks copied ahead of the one computing
 * @param textEncoders       where the text encoders run
 * @param streamedLlmLayers  LLM decoder layers streamed from host memory (with {@link TextPlacement#DEVICE})
 * @param vaeTiling          the VAE decode's tiling
 * @param vaeStreamed        whether the VAE's weights stay in host memory and are streamed while it decodes
 * @param textPeak           expected device peak while encoding the prompt, bytes (0 without a budget)
 * @param denoisePeak        expected device peak of a denoising step, bytes (0 without a budget)
 * @param decodePeak         expected device peak of the VAE decode, bytes (0 without a budget)
 * @param hostBytes          page-locked host memory the streamed DiT blocks hold, bytes
 */
public record MemoryPlan(long budget, long usable, RequestSize largestRequest, int residentBlocks,
                         int streamedBlocks, int prefetchDepth, TextPlacement textEncoders, int streamedLlmLayers,
                         TilingConfig vaeTiling, boolean vaeStreamed, long textPeak, long denoisePeak, long decodePeak, long hostBytes) {

    /** Where the text encoders compute. */
    public enum TextPlacement {
        /** On the compute device, weights loaded for each encoding and released after it (LLM layers maybe streamed). */
        DEVICE,
        /** On the CPU in float32, weights kept loaded in host memory. */
        CPU,
        /** Not loaded: the sampler generates from precomputed embeddings only. */
        NONE
    }

    /**
     * The plan without a budget: every DiT block resident, {@code streamedLlmLayers} LLM layers streamed (all of them
     * with CPU offload, else none), {@code vaeTiling} as configured, the VAE streamed with CPU offload.
     */
    public static MemoryPlan unbudgeted(int blocks, TextPlacement text, int streamedLlmLayers,
                                        TilingConfig vaeTiling, boolean vaeStreamed) {
        return new MemoryPlan(0, 0, null, blocks, 0, 1, text, streamedLlmLayers, vaeTiling, vaeStreamed, 0, 0, 0, 0);
    }

    /** Whether a budget made this plan. */
    public boolean budgeted() {
        return budget > 0;
    }

    /** The expected peak of a whole generation of the largest request: the largest stage peak. */
    public long peak() {
        return Math.max(textPeak, Math.max(denoisePeak, decodePeak));
    }

    /** The plan in one line, as {@code fromPretrained} logs it. */
    public String describe() {
        String tiles = (vaeStreamed ? "streamed, " : "") + (!vaeTiling.spatial() && !vaeTiling.temporal()
                ? "untiled" : String.format(Locale.ROOT, "tiles %d px × %d frames", vaeTiling.spatialTileSize(),
                vaeTiling.temporalTileFrames()));
        String text = switch (textEncoders) {
            case DEVICE -> streamedLlmLayers > 0 ? "text encoders on the device, " + streamedLlmLayers
                    + " LLM layers streamed" : "text encoders on the device";
            case CPU -> "text encoders on the CPU";
            case NONE -> "no text encoders";
        };
        String dit = streamedBlocks == 0 ? "DiT resident (" + residentBlocks + " blocks)"
                : String.format(Locale.ROOT, "DiT %d blocks resident, %d streamed (prefetch %d, %s of host memory)",
                residentBlocks, streamedBlocks, prefetchDepth, MemorySize.format(hostBytes));
        if (!budgeted()) {
            return "memory plan: no budget; " + dit + "; " + text + "; VAE " + tiles;
        }
        return String.format(Locale.ROOT, "memory plan for %s (%s usable) up to %s: %s; %s; VAE %s; expected peaks: "
                        + "text %s, denoising %s, decoding %s", MemorySize.format(budget), MemorySize.format(usable),
                largestRequest, dit, text, tiles, MemorySize.format(textPeak), MemorySize.format(denoisePeak),
                MemorySize.format(decodePeak));
    }

    @Override
    public String toString() {
        return describe();
    }
}
