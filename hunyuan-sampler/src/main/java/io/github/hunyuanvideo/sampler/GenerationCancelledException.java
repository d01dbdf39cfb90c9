package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.nn.CancelledException;

/**
 * Thrown by {@link HunyuanVideoSampler#predict} when its {@link CancellationToken} was cancelled: {@link #stage()}
 * tells where the generation stopped, the message exactly where ("generation cancelled during VAE decoding, after 3
 * of 12 tiles"). Everything the generation had allocated is freed by then.
 */
public final class GenerationCancelledException extends RuntimeException {
    /** Where a generation can stop. */
    public enum Stage {
        /** Waiting for another generation on the same sampler to finish. */
        WAITING("waiting", "while waiting for another generation on this sampler"),
        TEXT_ENCODING("text-encoding", "during text encoding"),
        DENOISING("denoising", "during denoising"),
        VAE_DECODING("vae-decoding", "during VAE decoding");

        private final String id;
        private final String phrase;

        Stage(String id, String phrase) {
            this.id = id;
            this.phrase = phrase;
        }

        /** The stage's name as {@link ProgressListener#onStage} receives it ({@code "vae-decoding"}, …). */
        public String id() {
            return id;
        }
    }

    private final Stage stage;

    /**
     * @param where where in the stage it stopped ("before step 3 of 50"), or {@code null}
     */
    public GenerationCancelledException(Stage stage, String where) {
        super("generation cancelled " + stage.phrase + (where == null ? "" : ", " + where));
        this.stage = stage;
    }

    /** The model code's cancellation ({@code cause} says where) seen as the cancellation of {@code stage}. */
    GenerationCancelledException(Stage stage, CancelledException cause) {
        this(stage, cause.getMessage());
        initCause(cause);
    }

    /** The stage the generation stopped in. */
    public Stage stage() {
        return stage;
    }
}
