package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.text.ClipTextEncoder;
import io.github.hunyuanvideo.text.LlmEncoderOptions;
import io.github.hunyuanvideo.text.LlmTextEncoder;
import io.github.hunyuanvideo.text.PromptTemplate;
import io.github.hunyuanvideo.text.TextEncoding;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * every encoding, because the DiT needs the card, and reloaded for the next call; with {@link SamplerConfig#useCpuOffload()}
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

    /** Loads both encoders of {@code layout} as {@code config} says, on {@code device} (or the CPU when offloading). */
    static TextEncoders load(CheckpointLayout layout, SamplerConfig config, Device device) {
        Device at = config.useCpuOffload() ? new Device("cpu") : new Device(device.type(), device.index());
        at.retainReference();
        ScalarType llmDtype = config.useCpuOffload() ? ScalarType.Float : config.textEncoderPrecision().scalarType();
        ScalarType clipDtype = config.useCpuOffload() ? ScalarType.Float
                : config.textEncoderPrecision2().scalarType();
        long t0 = System.nanoTime();
        LlmTextEncoder llm = null;
        try {
            llm = LlmTextEncoder.fromPretrained(layout.textEncoderDir(), layout.tokenizerDir(),
                    new LlmEncoderOptions(config.textLen(), config.hiddenStateSkipLayer(), config.applyFinalNorm()),
                    at, llmDtype);
            ClipTextEncoder clip = ClipTextEncoder.fromPretrained(layout.textEncoder2Dir(), layout.tokenizer2Dir(), at,
                    clipDtype);
            LOG.info("text encoders loaded on {} in {} ms", at.str().getString(), (System.nanoTime() - t0) / 1_000_000);
            return new TextEncoders(llm, clip, template(config.promptTemplate()),
                    template(config.promptTemplateVideo()), config.textEncoderPrecision().scalarType(),
                    config.textEncoderPrecision2().scalarType(), config.useCpuOffload(), at);
        } catch (RuntimeException e) {
            if (llm != null) {
                llm.close();
            }
            at.releaseReference();
            throw e;
        }
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
     */
    public List<PromptEmbeddings> encode(List<String> texts, int videoLength) {
        PromptTemplate template = videoLength == 1 ? imageTemplate : videoTemplate;
        List<PromptEmbeddings> out = new ArrayList<>();
        try {
            for (String text : texts) {
                TextEncoding te = llm.encode(List.of(text), template);
                Tensor pooled;
                try {
                    pooled = clip.encode(List.of(text));
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
