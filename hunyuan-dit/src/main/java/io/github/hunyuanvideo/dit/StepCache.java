package io.github.hunyuanvideo.dit;

import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.List;

/**
 * Which step cache a denoising loop uses: the DiT skips its blocks at a step whose input changed little since the
 * last computed one and reuses that step's residual instead. An immutable setting; the per-generation state is a
 * {@link StepCacheState} made by {@link #start(int)} and passed to
 * {@link HunyuanVideoTransformer#forward(DitInputs, StepCacheState)} at every step.
 *
 * <ul>
 *   <li>{@link #none()}: every step runs every block.</li>
 *   <li>{@link #teaCache(double)} (TeaCache, as its authors' HunyuanVideo forward): each step measures how much the
 *       modulated, LayerNorm'ed image tokens of double block 0 moved, {@code rel = mean|m_i − m_{i−1}| /
 *       mean|m_{i−1}|}, and adds {@code poly(rel)} (the rescale polynomial {@link #coefficients()}) to an accumulator.
 *       The first and the last step always compute; another step skips every double and single block while the
 *       accumulator stays below the threshold, adding the last computed step's residual (image tokens after the
 *       blocks minus before) instead. A computed step resets the accumulator.</li>
 *   <li>{@link #firstBlock(double)} (First-Block Cache, as ParaAttention): double block 0 always runs; when the
 *       residual it adds to the image tokens differs from the one of the last fully computed step by less than the
 *       threshold ({@code mean|r − r*| / mean|r*|}), the remaining blocks are skipped and their stored residual is
 *       added instead. A threshold of 0 never skips (and stores nothing); the first step always computes.</li>
 * </ul>
 * The decision is taken on the whole batch (under CFG on both halves together), as the authors do.
 *
 * @param kind         the cache
 * @param threshold    the skip threshold, finite and ≥ 0 (0 for {@link Kind#NONE})
 * @param coefficients TeaCache's rescale polynomial, highest power first; empty for the other kinds
 */
public record StepCache(Kind kind, double threshold, List<Double> coefficients) {
    /** The step caches. */
    public enum Kind {
        /** No caching. */
        NONE,
        /** TeaCache: accumulated, rescaled change of double block 0's modulated input. */
        TEA_CACHE,
        /** First-Block Cache: change of double block 0's residual. */
        FIRST_BLOCK
    }

    /**
     * TeaCache's rescale polynomial for HunyuanVideo, highest power first, as its authors fitted it: maps the relative
     * change of the modulated input to the relative change of the output.
     */
    public static final List<Double> TEA_CACHE_HUNYUAN_COEFFICIENTS = List.of(7.33226126e+02, -4.01131952e+02,
            6.75869174e+01, -3.14987800e+00, 9.61237896e-02);

    private static final StepCache NONE = new StepCache(Kind.NONE, 0, List.of());

    /**
     * @throws IllegalArgumentException naming {@code threshold} or {@code coefficients} if a value is not finite, the
     *                                  threshold is negative, or the coefficients do not fit the kind
     */
    public StepCache {
        if (kind == null) {
            throw new IllegalArgumentException("kind: must not be null");
        }
        if (!(threshold >= 0) || Double.isInfinite(threshold)) {
            throw new IllegalArgumentException("threshold: must be a finite number >= 0, got " + threshold);
        }
        if (kind == Kind.NONE && threshold != 0) {
            throw new IllegalArgumentException("threshold: must be 0 without a cache, got " + threshold);
        }
        coefficients = List.copyOf(coefficients);
        if ((kind == Kind.TEA_CACHE) == coefficients.isEmpty()) {
            throw new IllegalArgumentException("coefficients: TeaCache needs its rescale polynomial, the other caches "
                    + "take none; got " + coefficients.size() + " for " + kind);
        }
        if (coefficients.stream().anyMatch(c -> !Double.isFinite(c))) {
            throw new IllegalArgumentException("coefficients: must be finite, got " + coefficients);
        }
    }

    /** No caching (the default). */
    public static StepCache none() {
        return NONE;
    }

    /**
     * TeaCache with the authors' HunyuanVideo polynomial; their script names 0.1 (1.6× faster) and 0.15 (2.1×) as
     * thresholds.
     */
    public static StepCache teaCache(double threshold) {
        return teaCache(threshold, TEA_CACHE_HUNYUAN_COEFFICIENTS);
    }

    /** TeaCache with another rescale polynomial ({@code coefficients} highest power first). */
    public static StepCache teaCache(double threshold, List<Double> coefficients) {
        return new StepCache(Kind.TEA_CACHE, threshold, coefficients);
    }

    /** First-Block Cache with a relative threshold such as 0.06 (higher skips more). */
    public static StepCache firstBlock(double threshold) {
        return new StepCache(Kind.FIRST_BLOCK, threshold, List.of());
    }

    /** The state of one generation of {@code steps} steps; close it when the generation ends. */
    public StepCacheState start(int steps) {
        return new StepCacheState(this, steps);
    }

    /**
     * Device memory the state keeps between steps for latents of {@code latentShape} {@code [B, C, T, H, W]}: two
     * tensors of the image tokens' size {@code B·L_img·hidden} (TeaCache: the previous modulated input and the
     * residual; First-Block Cache: block 0's reference residual and the remaining blocks' residual), none without a
     * cache. At 720×1280×129 one such tensor is 0.73 GB in bf16, twice that under CFG.
     */
    public long storedBytes(DitConfig cfg, long[] latentShape, ScalarType dtype) {
        if (!skipsAny()) {
            return 0;
        }
        long tokens = latentShape[0];
        for (int i = 0; i < 3; i++) {
            tokens *= latentShape[2 + i] / cfg.patchSize().get(i);
        }
        return 2 * tokens * cfg.hiddenSize() * torch.elementSize(dtype);
    }

    /** Whether this cache can skip a step at all (not for {@link #none()} and a First-Block threshold of 0). */
    boolean skipsAny() {
        return kind == Kind.TEA_CACHE || kind == Kind.FIRST_BLOCK && threshold > 0;
    }

    /** {@code none}, {@code teaCache(0.15)}, {@code firstBlock(0.06)}. */
    @Override
    public String toString() {
        return switch (kind) {
            case NONE -> "none";
            case TEA_CACHE -> "teaCache(" + threshold
                    + (coefficients.equals(TEA_CACHE_HUNYUAN_COEFFICIENTS) ? "" : ", " + coefficients) + ")";
            case FIRST_BLOCK -> "firstBlock(" + threshold + ")";
        };
    }
}
