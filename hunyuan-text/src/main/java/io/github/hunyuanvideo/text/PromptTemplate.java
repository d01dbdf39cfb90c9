package io.github.hunyuanvideo.text;

import java.util.Objects;

/**
 * A prompt template of the LLM text encoder: the text the prompt is placed into, and how many leading tokens
 * (the template's prefix <em>including</em> the BOS token) are cropped from the encoder output.
 *
 * <p>The two official templates are {@link #VIDEO} ({@code dit-llm-encode-video}, crop 95) and {@link #IMAGE}
 * ({@code dit-llm-encode}, crop 36). The placeholder {@code {}} is filled verbatim, like Python's {@code str.format}.
 *
 * @param name      a short name for logs and cache keys
 * @param template  the template text with exactly one {@code {}} placeholder and no other braces
 * @param cropStart tokens removed from the front of the encoder output (BOS + template prefix)
 */
public record PromptTemplate(String name, String template, int cropStart) {
    private static final String PLACEHOLDER = "{}";

    /** {@code dit-llm-encode}: the image template (one-frame generation), crop 36. */
    public static final PromptTemplate IMAGE = new PromptTemplate("dit-llm-encode",
            "<|start_header_id|>system<|end_header_id|>\n\nDescribe the image by detailing the color, shape, size, "
                    + "texture, quantity, text, spatial relationships of the objects and background:<|eot_id|>"
                    + "<|start_header_id|>user<|end_header_id|>\n\n{}<|eot_id|>",
            36);

    /** {@code dit-llm-encode-video}: the video template, crop 95. The numbered items are joined without spaces. */
    public static final PromptTemplate VIDEO = new PromptTemplate("dit-llm-encode-video",
            "<|start_header_id|>system<|end_header_id|>\n\nDescribe the video by detailing the following aspects: "
                    + "1. The main content and theme of the video."
                    + "2. The color, shape, size, texture, quantity, text, and spatial relationships of the objects."
                    + "3. Actions, events, behaviors temporal relationships, physical movement changes of the objects."
                    + "4. background environment, light, style and atmosphere."
                    + "5. camera angles, movements, and transitions used in the video:<|eot_id|>"
                    + "<|start_header_id|>user<|end_header_id|>\n\n{}<|eot_id|>",
            95);

    /**
     * @throws IllegalArgumentException if the template does not hold exactly one {@code {}} and no other brace, or
     *                                  {@code cropStart} is negative
     */
    public PromptTemplate {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(template, "template");
        int at = template.indexOf(PLACEHOLDER);
        String rest = at < 0 ? template : template.substring(0, at) + template.substring(at + PLACEHOLDER.length());
        if (at < 0 || rest.indexOf('{') >= 0 || rest.indexOf('}') >= 0) {
            throw new IllegalArgumentException("template '" + name + "' must contain exactly one {} placeholder "
                    + "and no other braces");
        }
        if (cropStart < 0) {
            throw new IllegalArgumentException("cropStart must be >= 0, got " + cropStart);
        }
    }

    /** The official choice: {@link #IMAGE} for a single frame, {@link #VIDEO} otherwise. */
    public static PromptTemplate forVideoLength(int videoLength) {
        if (videoLength < 1) {
            throw new IllegalArgumentException("videoLength must be >= 1, got " + videoLength);
        }
        return videoLength == 1 ? IMAGE : VIDEO;
    }

    /** The template with {@code prompt} in place of {@code {}} (inserted verbatim). */
    public String format(String prompt) {
        Objects.requireNonNull(prompt, "prompt");
        int at = template.indexOf(PLACEHOLDER);
        return template.substring(0, at) + prompt + template.substring(at + PLACEHOLDER.length());
    }

    /** The text before the placeholder; with BOS it tokenizes to {@link #cropStart()} tokens. */
    public String prefix() {
        return template.substring(0, template.indexOf(PLACEHOLDER));
    }
}
