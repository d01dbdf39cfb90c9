package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.nn.Cancellation;
import io.github.hunyuanvideo.nn.CancelledException;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * HunyuanVideo's first text encoder: the LLaVA-Llama-3-8B language tower read as a plain {@code LlamaModel}; the
 * prompt, placed in a {@link PromptTemplate}, is encoded and the hidden state {@code hidden_states[-(skip+1)]}
 * (after decoder layer 30 of 32 by default, no final norm) is returned without the template's tokens.
 *
 * <p>Only the layers that are needed are loaded: with the default skip of 2, layers 31 and 32 and the final norm
 * are never read. The model runs in the dtype it was loaded in (fp16 on the GPU, like the official code: no
 * autocast), under {@link InferenceMode}.
 *
 * <p>Memory: {@link #release()} frees the weights (and, on CUDA, returns cached blocks to the driver) so the
 * diffusion transformer can use the card; the next {@code encode} loads them again. {@link #close()} releases for
 * good. Under a {@link LayerStreaming} the last layers and the embedding table live in host memory and the layers
 * pass through a few device slots as they run; {@code release()} frees those host copies too (the next load reads
 * the checkpoint again, as a resident encoder does), so a released encoder holds no memory. {@link LlmMemory} gives
 * the figures. The encoder is thread-safe (calls are serialised).
 */
public final class LlmTextEncoder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LlmTextEncoder.class);
    private static final AtomicLong INSTANCES = new AtomicLong();
    private static final String[] PREFIXES = {"", "model.", "language_model.model.", "model.language_model."};

    private final String id;
    private final LlamaConfig config;
    private final LlmEncoderOptions options;
    private final LayerStreaming streaming;
    private final Device device;
    private final LlmTokenizer tokenizer;
    private final LoadedModel<LlamaModel> model;
    private final Set<PromptTemplate> checkedTemplates = new HashSet<>();

    private LlmTextEncoder(String id, LlamaConfig config, LlmEncoderOptions options, LayerStreaming streaming,
                           Device device, LlmTokenizer tokenizer, Supplier<LlamaModel> loader) {
        this.id = id;
        this.config = config;
        this.options = options;
        this.streaming = streaming;
        this.device = device;
        this.tokenizer = tokenizer;
        this.model = new LoadedModel<>(LOG, "LLM text encoder", id, device, tokenizer, loader);
    }

    /**
     * Loads the encoder from a Hugging Face folder ({@code text_encoder/}): {@code config.json},
     * {@code tokenizer.json} (+ optional {@code tokenizer_config.json}), and single or sharded safetensors
     * ({@code model.safetensors.index.json}). Tensor names may carry a {@code model.} (or LLaVA
     * {@code language_model.model.}) prefix; {@code lm_head} and anything else outside that prefix is ignored.
     * Before any weight is copied, the tensors under the prefix are checked to be exactly those of
     * {@link #expectedShapes} (all layers and the final norm, whichever of them the options use).
     *
     * @param dtype {@code Half} on the GPU as in the original, {@code Float} on the CPU
     * @throws IllegalArgumentException         for a missing folder, config, tokenizer, or an unsupported config
     * @throws java.io.UncheckedIOException     for unreadable or inconsistent checkpoint files
     */
    public static LlmTextEncoder fromPretrained(Path textEncoderDir, LlmEncoderOptions opts, Device device,
                                                ScalarType dtype) {
        return fromPretrained(textEncoderDir, textEncoderDir, opts, device, dtype);
    }

    /**
     * As {@link #fromPretrained(Path, LlmEncoderOptions, Device, ScalarType)} with the tokenizer files in their own
     * folder (the diffusers layout's {@code tokenizer/}).
     */
    public static LlmTextEncoder fromPretrained(Path textEncoderDir, Path tokenizerDir, LlmEncoderOptions opts,
                                                Device device, ScalarType dtype) {
        return fromPretrained(textEncoderDir, tokenizerDir, opts, device, dtype, LayerStreaming.none());
    }

    /**
     * As {@link #fromPretrained(Path, Path, LlmEncoderOptions, Device, ScalarType)} with the decoder layers
     * {@code streaming} names kept in host memory and streamed to the device as they run, and then the embedding
     * table looked up in host memory: bit-identical states with less device memory ({@link LlmMemory} gives the
     * figures). The host-kept tensors are read from the checkpoint straight into host memory, never through the
     * device. Each load (the first, and the first encoding after {@link #release()}) reads them again.
     */
    public static LlmTextEncoder fromPretrained(Path textEncoderDir, Path tokenizerDir, LlmEncoderOptions opts,
                                                Device device, ScalarType dtype, LayerStreaming streaming) {
        Checkpoints.requireModelDir(textEncoderDir, "text encoder");
        Objects.requireNonNull(tokenizerDir, "tokenizerDir");
        Objects.requireNonNull(opts, "opts");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(streaming, "streaming");
        LlamaConfig config = LlamaConfig.read(textEncoderDir.resolve("config.json"));
        int layers = opts.layersToRun(config.numLayers());
        boolean norm = opts.usesFinalNorm();
        Supplier<LlamaModel> loader = Checkpoints.checkedLoader(textEncoderDir, "text encoder", LlamaModel.EMBEDDING,
                PREFIXES, expectedShapes(config), device, dtype, LlamaModel.hostBound(layers, streaming),
                p -> LlamaModel.load(config, p, layers, norm, streaming));
        LlmTokenizer tokenizer = LlmTokenizer.load(tokenizerDir);
        String id = Checkpoints.id("llm", textEncoderDir, device, dtype);
        try {
            return new LlmTextEncoder(id, config, opts, streaming, device, tokenizer, loader);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /**
     * An encoder over the parameters {@code weights} gives, e.g. {@code () -> Parameters.random(device, dtype, seed)}
     * for a benchmark (names as in {@link #expectedShapes}; only the layers the options use are bound).
     *
     * @param weights   parameters on {@code device}, asked for at once and again after {@link #release()}; each one
     *                  is closed once the model is built
     * @param tokenizer the tokenizer, owned (closed) by the encoder, or {@code null} to use only {@link #encodeIds}
     */
    public static LlmTextEncoder create(LlamaConfig config, Supplier<Parameters> weights, LlmTokenizer tokenizer,
                                        LlmEncoderOptions opts, Device device) {
        return create(config, weights, tokenizer, opts, device, LayerStreaming.none());
    }

    /**
     * As {@link #create(LlamaConfig, Supplier, LlmTokenizer, LlmEncoderOptions, Device)} with the decoder layers
     * {@code streaming} names kept in host memory and streamed to the device as they run. {@code weights} makes
     * every value on {@code device} (so seeded random weights equal the resident encoder's) and loading then moves
     * the host-kept ones off it: the embedding table (1 GB for Llama-3-8B in fp16) passes through the device once.
     */
    public static LlmTextEncoder create(LlamaConfig config, Supplier<Parameters> weights, LlmTokenizer tokenizer,
                                        LlmEncoderOptions opts, Device device, LayerStreaming streaming) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(opts, "opts");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(streaming, "streaming");
        int layers = opts.layersToRun(config.numLayers());
        boolean norm = opts.usesFinalNorm();
        return new LlmTextEncoder("llm:instance-" + INSTANCES.incrementAndGet(), config, opts, streaming, device,
                tokenizer, () -> {
                    try (Parameters p = weights.get()) {
                        return LlamaModel.load(config, p, layers, norm, streaming);
                    }
                });
    }

    /**
     * Every tensor of a checkpoint of {@code config}, name → shape in binding order: the {@code LlamaModel} state
     * dict ({@code embed_tokens.weight}, {@code layers.N.*} of all layers, {@code norm.weight}), without a prefix and
     * without {@code lm_head}.
     */
    public static Map<String, long[]> expectedShapes(LlamaConfig config) {
        Objects.requireNonNull(config, "config");
        return Parameters.shapesOf(p -> LlamaModel.load(config, p, config.numLayers(), true).close());
    }

    /**
     * Encodes {@code prompts} (one batch) in {@code template}.
     *
     * @return states {@code [B, maxLength - cropStart, hidden]} ({@code [B, 256, 4096]} for the video template
     *         with the defaults; 315 rows for the image template, as in the original) and the mask
     * @throws IllegalArgumentException for an empty prompt list or a null prompt
     * @throws IllegalStateException    if the encoder has no tokenizer or is closed
     */
    public TextEncoding encode(List<String> prompts, PromptTemplate template) {
        return encode(prompts, template, Cancellation.NEVER);
    }

    /**
     * As {@link #encode(List, PromptTemplate)}, asking {@code cancelled} before the first decoder layer and after
     * each one.
     *
     * @throws CancelledException naming the layers done ("after 5 of 30 LLM layers") once {@code cancelled} returns
     *                            true; nothing of the encoding is left allocated
     */
    public synchronized TextEncoding encode(List<String> prompts, PromptTemplate template,
                                            BooleanSupplier cancelled) {
        Objects.requireNonNull(cancelled, "cancelled");
        TokenizedPrompts tokens = tokenize(prompts, template);
        try (PointerScope scope = new PointerScope()) {
            return encodeIds(tokens.inputIdsTensor(), tokens.attentionMaskTensor(), template.cropStart(), cancelled);
        }
    }

    /**
     * The ids and mask {@link #encode} feeds the model ({@code max_length = textLen + 95}); each row's
     * {@link TokenizedPrompts#truncatedTokens()} tells whether the prompt was cut (a warning is logged too).
     */
    public synchronized TokenizedPrompts tokenize(List<String> prompts, PromptTemplate template) {
        model.requireOpen();
        Objects.requireNonNull(template, "template");
        if (tokenizer == null) {
            throw new IllegalStateException("this encoder was created without a tokenizer; use encodeIds");
        }
        if (checkedTemplates.add(template)) {
            int prefix = tokenizer.prefixTokens(template);
            if (prefix != template.cropStart()) {
                LOG.warn("template {} tokenizes to {} prefix tokens with BOS but crops {}: the tokenizer does not "
                        + "match the one the template was made for", template.name(), prefix, template.cropStart());
            }
        }
        return tokenizer.tokenize(prompts, template, options.maxLength());
    }

    /**
     * Runs the model on given ids and returns the chosen hidden state and mask without the first {@code cropStart}
     * positions.
     *
     * @param inputIds      {@code [B, L]} integer token ids (any device)
     * @param attentionMask {@code [B, L]} 1 for real tokens then 0 for padding (right padding)
     * @throws IllegalArgumentException for bad shapes, ids outside the vocabulary, a mask that is not right padded,
     *                                  or {@code cropStart} outside {@code [0, L)}
     */
    public TextEncoding encodeIds(Tensor inputIds, Tensor attentionMask, int cropStart) {
        return encodeIds(inputIds, attentionMask, cropStart, Cancellation.NEVER);
    }

    private synchronized TextEncoding encodeIds(Tensor inputIds, Tensor attentionMask, int cropStart,
                                                BooleanSupplier cancelled) {
        model.requireOpen();
        long len = TextInputs.check(inputIds, attentionMask, config.vocabSize());
        if (cropStart < 0 || cropStart >= len) {
            throw new IllegalArgumentException("cropStart must be in [0, " + len + "), got " + cropStart);
        }
        LlamaModel m = model.get();
        int n = options.layersToRun(config.numLayers());
        try (InferenceMode guard = new InferenceMode(); PointerScope scope = new PointerScope()) {
            Tensor ids = inputIds.to(device, ScalarType.Long);
            Tensor mask = attentionMask.to(device, ScalarType.Long);
            Tensor h = m.forward(ids, mask, n, null, cancelled);
            Tensor chosen = options.usesFinalNorm() ? m.norm(h) : h;
            Tensor states = chosen.narrow(1, cropStart, len - cropStart).contiguous();
            Tensor outMask = mask.narrow(1, cropStart, len - cropStart).contiguous();
            states.retainReference();
            outMask.retainReference();
            h.releaseReference();
            return new TextEncoding(states, outMask);
        }
    }

    /**
     * Frees the weights; on CUDA, also returns the allocator's cached blocks to the driver. A later {@code encode}
     * loads them again. No-op when already released.
     */
    public synchronized void release() {
        model.release();
    }

    /** Whether the weights are in memory. */
    public synchronized boolean isLoaded() {
        return model.isLoaded();
    }

    /** Releases the weights and the tokenizer; the encoder cannot be used afterwards. */
    @Override
    public synchronized void close() {
        model.close();
    }

    public LlamaConfig config() {
        return config;
    }

    public LlmEncoderOptions options() {
        return options;
    }

    /** Which decoder layers are streamed from host memory. */
    public LayerStreaming streaming() {
        return streaming;
    }

    /** Device bytes of the streaming slots while the weights are loaded (0 when released or nothing is streamed). */
    public synchronized long streamingSlotBytes() {
        return model.isLoaded() ? model.get().streamingSlotBytes() : 0;
    }

    /**
     * Bytes of streamed layer weights copied to the device since the weights were last loaded (0 when released or
     * nothing is streamed).
     */
    public synchronized long streamedBytesCopied() {
        return model.isLoaded() ? model.get().streamedBytesCopied() : 0;
    }

    public Device device() {
        return device;
    }

    /** The tokenizer, or {@code null} when created without one. */
    public LlmTokenizer tokenizer() {
        return tokenizer;
    }

    /** Identifies the weights, dtype and device (not the options) for {@link PromptEncodingCache} keys. */
    public String id() {
        return id;
    }

    /** Hidden state rows the encoder returns for {@code template}: {@code maxLength - cropStart}. */
    public int outputLength(PromptTemplate template) {
        return options.maxLength() - template.cropStart();
    }

    @Override
    public String toString() {
        return "LlmTextEncoder[" + id + ", " + options + "]";
    }
}
