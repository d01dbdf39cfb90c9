package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.nn.CancelledException;
import io.github.hunyuanvideo.text.ClipTextConfig;
import io.github.hunyuanvideo.text.ClipTextEncoder;
import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.text.LlamaConfig;
import io.github.hunyuanvideo.text.LlmEncoderOptions;
import io.github.hunyuanvideo.text.LlmTextEncoder;
import io.github.hunyuanvideo.text.PromptTemplate;
import io.github.hunyuanvideo.text.TextEncoding;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The LLM and CLIP text encoders of HunyuanVideo, as the sampler encodes a prompt with them (the original's
 * {@code encode_prompt}): the LLM's hidden states through the prompt template (image or video) and CLIP's pooled
 * output, cast to the DiT's text dtypes. Each prompt is encoded on its own, as the original does for the prompt and
 * the negative prompt. Owns both encoders.
 *
 * <p>Memory: with {@code keepLoaded} off (the default on the compute device) the encoders' weights are released after
 * every encoding, because the DiT needs the card, and reloaded for the next call (the LLM's layers maybe streamed from
 * host memory, see {@link io.github.hunyuanvideo.nn.LayerStreaming}); with {@link SamplerConfig#textEncodersOnCpu()}
 * they live and run on the CPU in float32 and stay loaded, and only their outputs, cast to the configured
 * precisions, move to the device.
 */
public final class TextEncoders implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TextEncoders.class);

    private final LlmTextEncoder llm;
    private final ClipTextEncoder clip;
    private final PromptTemplate imageTemplate;
    private final PromptTemplate videoTemplate;
    private final ScalarType statesDtype;
    private final ScalarType pooledDtype;
    private final boolean keepLoaded;
    /** The device {@link #load} made for the encoders, which keep it without a reference of their own. */
    private final Device heldDevice;

    /**
     * Takes ownership of both encoders.
     *
     * @param imageTemplate template of single-frame requests (the original's {@code dit-llm-encode})
     * @param videoTemplate template of videos ({@code dit-llm-encode-video})
     * @param statesDtype   dtype of the LLM states handed to the DiT (also the initial noise's dtype)
     * @param pooledDtype   dtype of the CLIP pooled output handed to the DiT
     * @param keepLoaded    keep the weights loaded between calls instead of releasing them after each encoding
     */
    public TextEncoders(LlmTextEncoder llm, ClipTextEncoder clip, PromptTemplate imageTemplate,
                        PromptTemplate videoTemplate, ScalarType statesDtype, ScalarType pooledDtype,
                        boolean keepLoaded) {
        this(llm, clip, imageTemplate, videoTemplate, statesDtype, pooledDtype, keepLoaded, null);
    }

    private TextEncoders(LlmTextEncoder llm, ClipTextEncoder clip, PromptTemplate imageTemplate,
                         PromptTemplate videoTemplate, ScalarType statesDtype, ScalarType pooledDtype,
                         boolean keepLoaded, Device heldDevice) {
        this.heldDevice = heldDevice;
        this.llm = Objects.requireNonNull(llm, "llm");
        this.clip = Objects.requireNonNull(clip, "clip");
        this.imageTemplate = Objects.requireNonNull(imageTemplate, "imageTemplate");
        this.videoTemplate = Objects.requireNonNull(videoTemplate, "videoTemplate");
        this.statesDtype = statesDtype.intern();
        this.pooledDtype = pooledDtype.intern();
        this.keepLoaded = keepLoaded;
    }

    /**
     * Loads both encoders of {@code layout} as {@code config} says, on {@code device} (or the CPU with
     * {@link SamplerConfig#textEncodersOnCpu()}), the LLM's layers streamed as {@code llmStreaming} says (ignored on
     * the CPU).
     */
    static TextEncoders load(CheckpointLayout layout, SamplerConfig config, Device device,
                             LayerStreaming llmStreaming) {
        Device at = config.textEncodersOnCpu() ? new Device("cpu") : new Device(device.type(), device.index());
        at.retainReference();
        ScalarType llmDtype = config.textEncodersOnCpu() ? ScalarType.Float
                : config.textEncoderPrecision().scalarType();
        ScalarType clipDtype = config.textEncodersOnCpu() ? ScalarType.Float
                : config.textEncoderPrecision2().scalarType();
        long t0 = System.nanoTime();
        LlmTextEncoder llm = null;
        try {
            llm = LlmTextEncoder.fromPretrained(layout.textEncoderDir(), layout.tokenizerDir(), llmOptions(config),
                    at, llmDtype, config.textEncodersOnCpu() ? LayerStreaming.none() : llmStreaming);
            ClipTextEncoder clip = ClipTextEncoder.fromPretrained(layout.textEncoder2Dir(), layout.tokenizer2Dir(),
                    config.textLen2(), at, clipDtype);
            LOG.info("text encoders loaded on {} in {} ms", at.str().getString(), (System.nanoTime() - t0) / 1_000_000);
            return new TextEncoders(llm, clip, template(config.promptTemplate()),
                    template(config.promptTemplateVideo()), config.textEncoderPrecision().scalarType(),
                    config.textEncoderPrecision2().scalarType(), config.textEncodersOnCpu(), at);
        } catch (RuntimeException e) {
            if (llm != null) {
                llm.close();
            }
            at.releaseReference();
            throw e;
        }
    }

    /**
     * Checks {@code config}'s text lengths and skip layer against the two encoders' {@code config.json} of
     * {@code layout}, reading nothing else, so that they fail before any weight loads.
     *
     * @throws IllegalArgumentException naming {@code textLen}, {@code textLen2} or {@code hiddenStateSkipLayer} and
     *                                  the model's limit
     */
    static void checkFits(CheckpointLayout layout, SamplerConfig config) {
        Path llmConfig = layout.textEncoderDir().resolve("config.json");
        LlamaConfig llm = LlamaConfig.read(llmConfig);
        LlmEncoderOptions options = llmOptions(config);
        int crop = options.maxLength() - options.textLen();
        if (options.maxLength() > llm.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("textLen: " + config.textLen() + " tokens plus the template's " + crop
                    + " make " + options.maxLength() + ", more than the LLM's max_position_embeddings "
                    + llm.maxPositionEmbeddings() + " (" + llmConfig + "); the largest textLen for this LLM is "
                    + (llm.maxPositionEmbeddings() - crop));
        }
        if (config.hiddenStateSkipLayer() > llm.numLayers()) {
            throw new IllegalArgumentException("hiddenStateSkipLayer: must be <= the LLM's " + llm.numLayers()
                    + " layers (" + llmConfig + "), got " + config.hiddenStateSkipLayer());
        }
        Path clipConfig = layout.textEncoder2Dir().resolve("config.json");
        ClipTextConfig clip = ClipTextConfig.read(clipConfig);
        if (config.textLen2() > clip.maxPositions()) {
            throw new IllegalArgumentException("textLen2: must be <= CLIP's max_position_embeddings "
                    + clip.maxPositions() + " (" + clipConfig + "), got " + config.textLen2());
        }
    }

    /** The LLM encoder settings of {@code config}. */
    static LlmEncoderOptions llmOptions(SamplerConfig config) {
        return new LlmEncoderOptions(config.textLen(), config.hiddenStateSkipLayer(), config.applyFinalNorm());
    }

    /** Width of the LLM states (the DiT's {@code text_states_dim}). */
    public int statesDim() {
        return llm.config().hiddenSize();
    }

    /** Width of the CLIP pooled output (the DiT's {@code text_states_dim_2}). */
    public int pooledDim() {
        return clip.config().hiddenSize();
    }

    /**
     * One {@link PromptEmbeddings} per text, each tensor holding one reference owned by the caller (free them with
     * {@link #release}).
     *
     * @param videoLength frames of the request: 1 takes the image template, more the video template
     * @param cancel      asked before each encoder layer and after the last
     * @throws GenerationCancelledException with {@link GenerationCancelledException.Stage#TEXT_ENCODING}, naming
     *                                      the encoder layer, once {@code cancel} is cancelled; nothing is kept
     */
    public List<PromptEmbeddings> encode(List<String> texts, int videoLength, CancellationToken cancel) {
        PromptTemplate template = videoLength == 1 ? imageTemplate : videoTemplate;
        List<PromptEmbeddings> out = new ArrayList<>();
        try {
            for (String text : texts) {
                TextEncoding te = llm.encode(List.of(text), template, cancel::isCancelled);
                Tensor pooled;
                try {
                    pooled = clip.encode(List.of(text), cancel::isCancelled);
                } catch (RuntimeException e) {
                    te.close();
                    throw e;
                }
                // The states' dtype is also the noise dtype, as in the original: always the configured precision.
                out.add(new PromptEmbeddings(cast(te.states(), statesDtype), te.mask(), cast(pooled, pooledDtype)));
            }
            return out;
        } catch (RuntimeException e) {
            out.forEach(TextEncoders::release);
            if (e instanceof CancelledException cancelled) {
                throw new GenerationCancelledException(GenerationCancelledException.Stage.TEXT_ENCODING, cancelled);
            }
            throw e;
        } finally {
            if (!keepLoaded) {
                llm.release();
                clip.release();
            }
        }
    }

    /** Frees embeddings made by {@link #encode}. */
    public static void release(PromptEmbeddings e) {
        e.states().releaseReference();
        e.mask().releaseReference();
        e.pooled().releaseReference();
    }

    /** {@code t} in {@code dtype}; the caller's reference moves to the result. */
    private static Tensor cast(Tensor t, ScalarType dtype) {
        if (t.scalar_type().intern() == dtype) {
            return t;
        }
        Tensor c = t.to(dtype);
        c.retainReference();
        t.releaseReference();
        return c;
    }

    /** The template named as in the original's {@code PROMPT_TEMPLATE}. */
    static PromptTemplate template(String name) {
        if (name.equals(PromptTemplate.VIDEO.name())) {
            return PromptTemplate.VIDEO;
        }
        if (name.equals(PromptTemplate.IMAGE.name())) {
            return PromptTemplate.IMAGE;
        }
        throw new IllegalArgumentException("promptTemplate: unknown template '" + name + "'");
    }

    /** Frees both encoders. */
    @Override
    public void close() {
        try {
            llm.close();
            clip.close();
        } finally {
            if (heldDevice != null) {
                heldDevice.releaseReference();
            }
        }
    }
}
