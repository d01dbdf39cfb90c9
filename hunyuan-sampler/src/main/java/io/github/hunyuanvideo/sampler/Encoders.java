package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.DitConfig;
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

/**
 * The LLM and CLIP text encoders as the sampler's {@link ModelComponents.TextEncoders} (spec §5, §9.3). Each prompt
 * is encoded on its own, as the original does for the prompt and the negative prompt.
 *
 * <p>Memory: on the compute device the encoders' weights are released after every encoding (the DiT needs the card)
 * and reloaded for the next call; with {@link SamplerConfig#useCpuOffload()} they live and run on the CPU in float32
 * and stay loaded, and only their outputs, cast to the configured precisions, move to the device.
 */
final class Encoders implements ModelComponents.TextEncoders {
    private static final Logger LOG = LoggerFactory.getLogger(Encoders.class);

    private final LlmTextEncoder llm;
    private final ClipTextEncoder clip;
    private final SamplerConfig config;
    private final Device device;

    private Encoders(LlmTextEncoder llm, ClipTextEncoder clip, SamplerConfig config, Device device) {
        this.llm = llm;
        this.clip = clip;
        this.config = config;
        this.device = device;
    }

    static Encoders load(CheckpointLayout layout, SamplerConfig config, DitConfig ditConfig, Device device) {
        // The encoders keep this Device without a reference of their own: hold one until close().
        Device at = config.useCpuOffload() ? new Device("cpu") : device;
        at.retainReference();
        ScalarType llmDtype = config.useCpuOffload() ? ScalarType.Float : config.textEncoderPrecision().scalarType();
        ScalarType clipDtype = config.useCpuOffload() ? ScalarType.Float
                : config.textEncoderPrecision2().scalarType();
        LlmTextEncoder llm = null;
        ClipTextEncoder clip = null;
        try {
            long t0 = System.nanoTime();
            llm = LlmTextEncoder.fromPretrained(layout.textEncoderDir(), layout.tokenizerDir(),
                    new LlmEncoderOptions(config.textLen(),
                    config.hiddenStateSkipLayer(), config.applyFinalNorm()), at, llmDtype);
            if (llm.config().hiddenSize() != ditConfig.textStatesDim()) {
                throw new IllegalArgumentException("textStatesDim: the LLM in " + layout.textEncoderDir()
                        + " has width " + llm.config().hiddenSize() + " but the DiT reads "
                        + ditConfig.textStatesDim());
            }
            clip = ClipTextEncoder.fromPretrained(layout.textEncoder2Dir(), layout.tokenizer2Dir(), at, clipDtype);
            if (clip.config().hiddenSize() != ditConfig.textStatesDim2()) {
                throw new IllegalArgumentException("textStatesDim2: the CLIP model in " + layout.textEncoder2Dir()
                        + " has width " + clip.config().hiddenSize() + " but the DiT reads "
                        + ditConfig.textStatesDim2());
            }
            LOG.info("text encoders loaded on {} in {} ms", at.str().getString(), (System.nanoTime() - t0) / 1_000_000);
            return new Encoders(llm, clip, config, at);
        } catch (RuntimeException e) {
            if (clip != null) {
                clip.close();
            }
            if (llm != null) {
                llm.close();
            }
            at.releaseReference();
            throw e;
        }
    }

    @Override
    public List<PromptEmbeddings> encode(List<String> texts, int videoLength) {
        PromptTemplate template = template(videoLength == 1 ? config.promptTemplate()
                : config.promptTemplateVideo());
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
                // The states' dtype is also the noise dtype (spec §9.4): always the configured precision.
                out.add(new PromptEmbeddings(cast(te.states(), config.textEncoderPrecision().scalarType()),
                        te.mask(), cast(pooled, config.textEncoderPrecision2().scalarType())));
            }
            return out;
        } catch (RuntimeException e) {
            out.forEach(ModelComponents::release);
            throw e;
        } finally {
            if (!config.useCpuOffload()) {
                llm.release();
                clip.release();
            }
        }
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

    @Override
    public void close() {
        try {
            llm.close();
            clip.close();
        } finally {
            device.releaseReference();
        }
    }
}
