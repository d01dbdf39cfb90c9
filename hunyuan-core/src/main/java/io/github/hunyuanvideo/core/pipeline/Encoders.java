package io.github.hunyuanvideo.core.pipeline;

import io.github.hunyuanvideo.core.dit.DitConfig;
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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The LLM and CLIP text encoders as the sampler's {@link ModelComponents.TextEncoders} (spec §5, §9.3). Each prompt
 * is encoded on its own, as the original does for the prompt and the negative prompt.
 *
 * <p>Memory: on the compute device the encoders' weights are released after every encoding (the DiT needs the card)
 * and reloaded for the next call; with {@link SamplerConfig#useCpuOffload()} they live and run on the CPU and stay
 * loaded, and only their outputs move to the device.
 */
final class Encoders implements ModelComponents.TextEncoders {
    private static final Logger LOG = LoggerFactory.getLogger(Encoders.class);

    private final LlmTextEncoder llm;
    private final ClipTextEncoder clip;
    private final SamplerConfig config;
    private final List<Path> tempFolders;

    private Encoders(LlmTextEncoder llm, ClipTextEncoder clip, SamplerConfig config, List<Path> tempFolders) {
        this.llm = llm;
        this.clip = clip;
        this.config = config;
        this.tempFolders = tempFolders;
    }

    static Encoders load(CheckpointLayout layout, SamplerConfig config, DitConfig ditConfig, Device device)
            throws IOException {
        Device at = config.useCpuOffload() ? new Device("cpu") : device;
        List<Path> temps = new ArrayList<>();
        LlmTextEncoder llm = null;
        ClipTextEncoder clip = null;
        try {
            Path llmDir = withTokenizer(layout.textEncoderDir(), layout.tokenizerDir(), temps);
            Path clipDir = withTokenizer(layout.textEncoder2Dir(), layout.tokenizer2Dir(), temps);
            long t0 = System.nanoTime();
            llm = LlmTextEncoder.fromPretrained(llmDir, new LlmEncoderOptions(config.textLen(),
                    config.hiddenStateSkipLayer(), config.applyFinalNorm()), at,
                    config.textEncoderPrecision().scalarType());
            if (llm.config().hiddenSize() != ditConfig.textStatesDim()) {
                throw new IllegalArgumentException("textStatesDim: the LLM in " + layout.textEncoderDir()
                        + " has width " + llm.config().hiddenSize() + " but the DiT reads "
                        + ditConfig.textStatesDim());
            }
            clip = ClipTextEncoder.fromPretrained(clipDir, at, config.textEncoderPrecision2().scalarType());
            if (clip.config().hiddenSize() != ditConfig.textStatesDim2()) {
                throw new IllegalArgumentException("textStatesDim2: the CLIP model in " + layout.textEncoder2Dir()
                        + " has width " + clip.config().hiddenSize() + " but the DiT reads "
                        + ditConfig.textStatesDim2());
            }
            LOG.info("text encoders loaded on {} in {} ms", at.str().getString(), (System.nanoTime() - t0) / 1_000_000);
            return new Encoders(llm, clip, config, temps);
        } catch (IOException | RuntimeException e) {
            if (clip != null) {
                clip.close();
            }
            if (llm != null) {
                llm.close();
            }
            deleteAll(temps);
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
                out.add(new PromptEmbeddings(te.states(), te.mask(), pooled));
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

    /**
     * The text module reads the tokenizer from the model folder; the diffusers layout keeps it in a folder of its own,
     * so a temporary folder of links to both is made.
     */
    private static Path withTokenizer(Path model, Path tokenizer, List<Path> temps) throws IOException {
        if (tokenizer == null || tokenizer.equals(model)) {
            return model;
        }
        Path merged = Files.createTempDirectory("hunyuan-text-");
        temps.add(merged);
        for (Path dir : List.of(model, tokenizer)) {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path f : s.toList()) {
                    Path link = merged.resolve(f.getFileName().toString());
                    if (!Files.exists(link)) {
                        Files.createSymbolicLink(link, f.toAbsolutePath());
                    }
                }
            }
        }
        return merged;
    }

    private static void deleteAll(List<Path> folders) {
        for (Path d : folders) {
            try (Stream<Path> s = Files.walk(d)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete temporary folder " + d, e);
            }
        }
    }

    @Override
    public void close() {
        try {
            llm.close();
            clip.close();
        } finally {
            deleteAll(tempFolders);
        }
    }
}
