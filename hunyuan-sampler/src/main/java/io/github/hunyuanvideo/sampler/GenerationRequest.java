package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.StepCache;
import io.github.hunyuanvideo.io.video.VideoFrames;

import java.util.List;

/**
 * The arguments of one {@link HunyuanVideoSampler#predict} call, named and defaulted as in the official
 * {@code HunyuanVideoSampler.predict} / {@code sample_video.py}. Build it with {@link #builder(String)} (official
 * defaults).
 * The compact constructor checks every argument on its own (each size and scale against the range in the
 * {@code MAX_…}/{@code MIN_…} constants) and names it and the limit in the error; checks that need the loaded
 * model (sizes that do not fit its latent grid) happen in {@code predict}.
 *
 * @param prompt the text; surrounding whitespace is stripped, as in the original
 * @param height frame height in pixels, 1 to {@link #MAX_SIDE}, rounded up to a multiple of 16
 * @param width frame width in pixels, 1 to {@link #MAX_SIDE}, rounded up to a multiple of 16; frames × rounded
 *              height × rounded width may not exceed {@link #MAX_VIDEO_PIXELS}
 * @param videoLength number of frames, at most {@link #MAX_VIDEO_LENGTH}; {@code videoLength − 1} must be divisible
 *                    by 4 (1 = a single image)
 * @param seed base seed: video {@code i} uses {@code seed + i}; {@code null} draws a random seed in [0, 1000000] per
 *             video, as the original
 * @param seeds explicit seeds instead of {@code seed}: one per prompt (video {@code i} uses {@code seeds[0] + i}) or
 *              one per video; {@code null} or empty to use {@code seed}
 * @param negativePrompt negative prompt for true CFG; {@code null} or blank means the default negative prompt
 *                       ({@link HunyuanVideoSampler#DEFAULT_NEGATIVE_PROMPT}). Ignored when {@code guidanceScale <= 1}
 * @param inferSteps number of Euler steps, 1 to {@link #MAX_INFER_STEPS}
 * @param guidanceScale true classifier-free guidance scale, at most {@link #MAX_GUIDANCE_SCALE} in magnitude;
 *                      above 1 the batch becomes [negative, positive]
 * @param numVideosPerPrompt videos generated for the prompt, 1 to {@link #MAX_VIDEOS_PER_PROMPT}, each with its own
 *                           seed and generator
 * @param flowShift shift of the flow schedule, {@link #MIN_FLOW_SHIFT} to {@link #MAX_FLOW_SHIFT}
 * @param batchSize the original's batch size: it only multiplies the seeds, and values above 1 break the original's
 *                  latent preparation, so only 1 is accepted
 * @param embeddedGuidanceScale distilled guidance fed to the DiT ({@code g}: the DiT sees
 *                              {@code round(round(g)·1000)} in its precision, 6016 for 6.0 in bf16), at most
 *                              {@link #MAX_EMBEDDED_GUIDANCE_SCALE} in magnitude
 * @param stepCache the DiT's step cache ({@link StepCache#teaCache}, {@link StepCache#firstBlock}), or
 *                  {@link StepCache#none()} (the default) to run every block at every step; not in the original
 */
public record GenerationRequest(
        String prompt,
        int height,
        int width,
        int videoLength,
        Long seed,
        List<Long> seeds,
        String negativePrompt,
        int inferSteps,
        double guidanceScale,
        int numVideosPerPrompt,
        double flowShift,
        int batchSize,
        double embeddedGuidanceScale,
        StepCache stepCache) {

    /** Most denoising steps: the schedule's 1000 training timesteps (the original's {@code num_train_timesteps}). */
    public static final int MAX_INFER_STEPS = 1000;
    /** Largest frame height or width in pixels: 3.2 times the official largest side (1280). */
    public static final int MAX_SIDE = 4096;
    /** Most frames: 256 latent frames (1025 = 4·256 + 1); the official length is 129. */
    public static final int MAX_VIDEO_LENGTH = 1025;
    /**
     * Most pixels of one video (frames × height × width, sizes rounded up to 16): the video writers hold a whole video
     * in one array ({@link VideoFrames#MAX_PIXELS}).
     */
    public static final long MAX_VIDEO_PIXELS = VideoFrames.MAX_PIXELS;
    /** Most videos per prompt: they are denoised together in one batch. */
    public static final int MAX_VIDEOS_PER_PROMPT = 64;
    /**
     * Largest {@code |guidanceScale|}: the guided velocity {@code u + g·(c − u)} is computed in the DiT's precision
     * (fp16 tops out at 65504), and the original's useful scales are about 1 to 10.
     */
    public static final double MAX_GUIDANCE_SCALE = 100;
    /**
     * Largest {@code |embeddedGuidanceScale|}: the DiT sees {@code g·1000} rounded to its precision, and fp16 tops out
     * at 65504.
     */
    public static final double MAX_EMBEDDED_GUIDANCE_SCALE = 60;
    /**
     * Smallest {@code flowShift}. Within [{@code MIN_FLOW_SHIFT}, {@link #MAX_FLOW_SHIFT}] the shifted float32 sigmas
     * {@code sσ / (1 + (s−1)σ)} stay finite, strictly monotone and distinct for up to {@link #MAX_INFER_STEPS}
     * steps; far outside it they collapse (1e-300 underflows to 0/0 = NaN).
     */
    public static final double MIN_FLOW_SHIFT = 1e-3;
    /** Largest {@code flowShift} (see {@link #MIN_FLOW_SHIFT}); the official default is 7. */
    public static final double MAX_FLOW_SHIFT = 1e3;

    public GenerationRequest {
        if (prompt == null) {
            throw new IllegalArgumentException("prompt: must not be null");
        }
        if (height <= 0) {
            throw new IllegalArgumentException("height: must be > 0, got " + height);
        }
        atMost("height", height, MAX_SIDE);
        if (width <= 0) {
            throw new IllegalArgumentException("width: must be > 0, got " + width);
        }
        atMost("width", width, MAX_SIDE);
        if (videoLength <= 0) {
            throw new IllegalArgumentException("videoLength: must be > 0, got " + videoLength);
        }
        atMost("videoLength", videoLength, MAX_VIDEO_LENGTH);
        if ((videoLength - 1) % 4 != 0) {
            throw new IllegalArgumentException("videoLength: must be 4k+1 (1, 5, 9, …, 129) because the VAE "
                    + "compresses time by 4, got " + videoLength);
        }
        long pixels = (long) videoLength * roundUp16(height) * roundUp16(width);
        if (pixels > MAX_VIDEO_PIXELS) {
            throw new IllegalArgumentException("height/width/videoLength: " + videoLength + " frames of "
                    + roundUp16(height) + "x" + roundUp16(width) + " are " + pixels + " pixels, more than the "
                    + MAX_VIDEO_PIXELS + " one video may have (its RGB bytes must fit one Java array)");
        }
        if (inferSteps < 1) {
            throw new IllegalArgumentException("inferSteps: must be >= 1, got " + inferSteps);
        }
        atMost("inferSteps", inferSteps, MAX_INFER_STEPS);
        within("guidanceScale", guidanceScale, -MAX_GUIDANCE_SCALE, MAX_GUIDANCE_SCALE,
                "the guided velocity is computed in the DiT's precision");
        if (numVideosPerPrompt < 1) {
            throw new IllegalArgumentException("numVideosPerPrompt: must be >= 1, got " + numVideosPerPrompt);
        }
        atMost("numVideosPerPrompt", numVideosPerPrompt, MAX_VIDEOS_PER_PROMPT);
        within("flowShift", flowShift, MIN_FLOW_SHIFT, MAX_FLOW_SHIFT,
                "outside it the shifted float32 schedule degenerates");
        if (batchSize != 1) {
            throw new IllegalArgumentException("batchSize: only 1 is supported (the original breaks for larger "
                    + "values; use numVideosPerPrompt for several videos), got " + batchSize);
        }
        within("embeddedGuidanceScale", embeddedGuidanceScale, -MAX_EMBEDDED_GUIDANCE_SCALE,
                MAX_EMBEDDED_GUIDANCE_SCALE, "the DiT sees it times 1000 in half precision, whose largest value is "
                        + "65504");
        if (seeds != null && !seeds.isEmpty()) {
            if (seed != null) {
                throw new IllegalArgumentException("seeds: give either seed or seeds, not both");
            }
            if (seeds.stream().anyMatch(java.util.Objects::isNull)) {
                throw new IllegalArgumentException("seeds: must not contain null");
            }
            if (seeds.size() != batchSize && seeds.size() != batchSize * numVideosPerPrompt) {
                throw new IllegalArgumentException("seeds: needs " + batchSize + " (one per prompt) or "
                        + batchSize * numVideosPerPrompt + " (one per video) values, got " + seeds.size());
            }
            seeds = List.copyOf(seeds);
        } else {
            seeds = List.of();
        }
        if (stepCache == null) {
            throw new IllegalArgumentException("stepCache: must not be null (StepCache.none() turns caching off)");
        }
    }

    /** Height rounded up to a multiple of 16, as the original does before anything else. */
    public int targetHeight() {
        return roundUp16(height);
    }

    /** Width rounded up to a multiple of 16. */
    public int targetWidth() {
        return roundUp16(width);
    }

    /** Whether true classifier-free guidance runs ({@code guidanceScale > 1}). */
    public boolean doClassifierFreeGuidance() {
        return guidanceScale > 1.0;
    }

    private static int roundUp16(int v) {
        return (int) ((v + 15L) / 16 * 16);
    }

    private static void atMost(String name, int v, int max) {
        if (v > max) {
            throw new IllegalArgumentException(name + ": must be <= " + max + ", got " + v);
        }
    }

    /** Rejects {@code v} outside [min, max], NaN and infinities included, giving {@code why} the range is. */
    private static void within(String name, double v, double min, double max, String why) {
        if (!(v >= min && v <= max)) {
            throw new IllegalArgumentException(name + ": must be a finite number within [" + min + ", " + max
                    + "] (" + why + "), got " + v);
        }
    }

    /** A builder with the official defaults (720×1280, 129 frames, 50 steps, shift 7, embedded guidance 6). */
    public static Builder builder(String prompt) {
        return new Builder(prompt);
    }

    /** Mutable builder of {@link GenerationRequest}. */
    public static final class Builder {
        private String prompt;
        private int height = 720;
        private int width = 1280;
        private int videoLength = 129;
        private Long seed;
        private List<Long> seeds;
        private String negativePrompt;
        private int inferSteps = 50;
        private double guidanceScale = 1.0;
        private int numVideosPerPrompt = 1;
        private double flowShift = 7.0;
        private int batchSize = 1;
        private double embeddedGuidanceScale = 6.0;
        private StepCache stepCache = StepCache.none();

        private Builder(String prompt) {
            this.prompt = prompt;
        }

        public Builder prompt(String v) {
            prompt = v;
            return this;
        }

        /** Frame size as (height, width), the order of the official {@code --video-size}. */
        public Builder size(int height, int width) {
            this.height = height;
            this.width = width;
            return this;
        }

        public Builder height(int v) {
            height = v;
            return this;
        }

        public Builder width(int v) {
            width = v;
            return this;
        }

        public Builder videoLength(int v) {
            videoLength = v;
            return this;
        }

        public Builder seed(Long v) {
            seed = v;
            return this;
        }

        public Builder seeds(List<Long> v) {
            seeds = v;
            return this;
        }

        public Builder negativePrompt(String v) {
            negativePrompt = v;
            return this;
        }

        public Builder inferSteps(int v) {
            inferSteps = v;
            return this;
        }

        public Builder guidanceScale(double v) {
            guidanceScale = v;
            return this;
        }

        public Builder numVideosPerPrompt(int v) {
            numVideosPerPrompt = v;
            return this;
        }

        public Builder flowShift(double v) {
            flowShift = v;
            return this;
        }

        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        public Builder embeddedGuidanceScale(double v) {
            embeddedGuidanceScale = v;
            return this;
        }

        /** The step cache, e.g. {@code StepCache.teaCache(0.15)}; default {@link StepCache#none()}. */
        public Builder stepCache(StepCache v) {
            stepCache = v;
            return this;
        }

        /** Validates and builds; throws {@link IllegalArgumentException} naming the first bad argument. */
        public GenerationRequest build() {
            return new GenerationRequest(prompt, height, width, videoLength, seed, seeds, negativePrompt, inferSteps,
                    guidanceScale, numVideosPerPrompt, flowShift, batchSize, embeddedGuidanceScale, stepCache);
        }
    }
}
