package io.github.hunyuanvideo.sampler;

import java.util.List;

/**
 * The arguments of one {@link HunyuanVideoSampler#predict} call, named and defaulted as in the official
 * {@code HunyuanVideoSampler.predict} / {@code sample_video.py}. Build it with {@link #builder(String)} (official
 * defaults).
 * The compact constructor checks every argument on its own and names it in the error; checks that need the loaded
 * model (sizes that do not fit its latent grid) happen in {@code predict}.
 *
 * @param prompt the text; surrounding whitespace is stripped, as in the original
 * @param height frame height in pixels, rounded up to a multiple of 16
 * @param width frame width in pixels, rounded up to a multiple of 16
 * @param videoLength number of frames; {@code videoLength − 1} must be divisible by 4 (1 = a single image)
 * @param seed base seed: video {@code i} uses {@code seed + i}; {@code null} draws a random seed in [0, 1000000] per
 *             video, as the original
 * @param seeds explicit seeds instead of {@code seed}: one per prompt (video {@code i} uses {@code seeds[0] + i}) or
 *              one per video; {@code null} or empty to use {@code seed}
 * @param negativePrompt negative prompt for true CFG; {@code null} or blank means the default negative prompt
 *                       ({@link HunyuanVideoSampler#DEFAULT_NEGATIVE_PROMPT}). Ignored when {@code guidanceScale <= 1}
 * @param inferSteps number of Euler steps (≥ 1)
 * @param guidanceScale true classifier-free guidance scale; above 1 the batch becomes [negative, positive]
 * @param numVideosPerPrompt videos generated for the prompt, each with its own seed and generator
 * @param flowShift shift of the flow schedule
 * @param batchSize the original's batch size: it only multiplies the seeds, and values above 1 break the original's
 *                  latent preparation, so only 1 is accepted
 * @param embeddedGuidanceScale distilled guidance fed to the DiT ({@code g}: the DiT sees
 *                              {@code round(round(g)·1000)} in its precision, 6016 for 6.0 in bf16)
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
        double embeddedGuidanceScale) {

    public GenerationRequest {
        if (prompt == null) {
            throw new IllegalArgumentException("prompt: must not be null");
        }
        if (height <= 0) {
            throw new IllegalArgumentException("height: must be > 0, got " + height);
        }
        if (width <= 0) {
            throw new IllegalArgumentException("width: must be > 0, got " + width);
        }
        if (videoLength <= 0) {
            throw new IllegalArgumentException("videoLength: must be > 0, got " + videoLength);
        }
        if ((videoLength - 1) % 4 != 0) {
            throw new IllegalArgumentException("videoLength: must be 4k+1 (1, 5, 9, …, 129) because the VAE "
                    + "compresses time by 4, got " + videoLength);
        }
        if (inferSteps < 1) {
            throw new IllegalArgumentException("inferSteps: must be >= 1, got " + inferSteps);
        }
        if (!Double.isFinite(guidanceScale)) {
            throw new IllegalArgumentException("guidanceScale: must be a finite number, got " + guidanceScale);
        }
        if (numVideosPerPrompt < 1) {
            throw new IllegalArgumentException("numVideosPerPrompt: must be >= 1, got " + numVideosPerPrompt);
        }
        if (!(flowShift > 0) || Double.isInfinite(flowShift)) {
            throw new IllegalArgumentException("flowShift: must be a finite number > 0, got " + flowShift);
        }
        if (batchSize != 1) {
            throw new IllegalArgumentException("batchSize: only 1 is supported (the original breaks for larger "
                    + "values; use numVideosPerPrompt for several videos), got " + batchSize);
        }
        if (!Double.isFinite(embeddedGuidanceScale)) {
            throw new IllegalArgumentException("embeddedGuidanceScale: must be a finite number, got "
                    + embeddedGuidanceScale);
        }
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

        /** Validates and builds; throws {@link IllegalArgumentException} naming the first bad argument. */
        public GenerationRequest build() {
            return new GenerationRequest(prompt, height, width, videoLength, seed, seeds, negativePrompt, inferSteps,
                    guidanceScale, numVideosPerPrompt, flowShift, batchSize, embeddedGuidanceScale);
        }
    }
}
