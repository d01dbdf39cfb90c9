package io.github.hunyuanvideo.text;

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
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * HunyuanVideo's second text encoder: CLIP-L's text transformer, contributing only its pooled output
 * ({@code pooler_output}, 768 wide for CLIP-L, no text projection).
 *
 * <p>The model runs in the dtype it was loaded in (fp16 on the GPU, like the original), under
 * {@link InferenceMode}. {@link #release()} frees the weights, the next call loads them again; {@link #close()}
 * releases for good. Thread-safe (calls are serialised).
 */
public final class ClipTextEncoder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClipTextEncoder.class);
    private static final String[] PREFIXES = {"text_model.", ""};
    private static final AtomicLong INSTANCES = new AtomicLong();

    private final String id;
    private final ClipTextConfig config;
    private final Device device;
    private final ClipTokenizer tokenizer;
    private final int maxLength;
    private final LoadedModel<ClipTextModel> model;

    private ClipTextEncoder(String id, ClipTextConfig config, int maxLength, Device device, ClipTokenizer tokenizer,
                            Supplier<ClipTextModel> loader) {
        if (maxLength < 2 || maxLength > config.maxPositions()) {
            throw new IllegalArgumentException("maxLength: must be 2 to the model's max_position_embeddings "
                    + config.maxPositions() + ", got " + maxLength);
        }
        this.id = id;
        this.config = config;
        this.maxLength = maxLength;
        this.device = device;
        this.tokenizer = tokenizer;
        this.model = new LoadedModel<>(LOG, "CLIP text encoder", id, device, tokenizer, loader);
    }

    /**
     * Loads the encoder from a Hugging Face CLIP folder ({@code text_encoder_2/}, e.g. a snapshot of
     * openai/clip-vit-large-patch14): {@code config.json} (a {@code CLIPConfig} with {@code text_config} or a
     * {@code CLIPTextConfig}), {@code tokenizer.json} (DJL cannot use {@code vocab.json}/{@code merges.txt}
     * alone; the hub snapshot has {@code tokenizer.json}), optional {@code tokenizer_config.json}, and single or
     * sharded safetensors. Names may carry the {@code text_model.} prefix or not; the vision tower and projections
     * are ignored. Before any weight is copied, the text model's tensors are checked to be exactly those of
     * {@link #expectedShapes}.
     *
     * @param dtype {@code Half} on the GPU as in the original, {@code Float} on the CPU
     * @throws IllegalArgumentException     for a missing folder, config or tokenizer, or an unsupported config
     * @throws java.io.UncheckedIOException for unreadable or inconsistent checkpoint files
     */
    public static ClipTextEncoder fromPretrained(Path textEncoder2Dir, Device device, ScalarType dtype) {
        return fromPretrained(textEncoder2Dir, textEncoder2Dir, device, dtype);
    }

    /**
     * As {@link #fromPretrained(Path, Device, ScalarType)} with the tokenizer files in their own folder (the
     * diffusers layout's {@code tokenizer_2/}).
     */
    public static ClipTextEncoder fromPretrained(Path textEncoder2Dir, Path tokenizerDir, Device device,
                                                 ScalarType dtype) {
        return fromPretrained(textEncoder2Dir, tokenizerDir, 0, device, dtype);
    }

    /**
     * As {@link #fromPretrained(Path, Path, Device, ScalarType)}, tokenizing to {@code maxLength} tokens (the
     * original's {@code text_len_2}; 0 = the model's max_position_embeddings, 77 for CLIP-L).
     *
     * @throws IllegalArgumentException also if {@code maxLength} is not 0 or 2 to max_position_embeddings
     */
    public static ClipTextEncoder fromPretrained(Path textEncoder2Dir, Path tokenizerDir, int maxLength, Device device,
                                                 ScalarType dtype) {
        Checkpoints.requireModelDir(textEncoder2Dir, "CLIP text encoder");
        Objects.requireNonNull(tokenizerDir, "tokenizerDir");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(dtype, "dtype");
        ClipTextConfig config = ClipTextConfig.read(textEncoder2Dir.resolve("config.json"));
        Supplier<ClipTextModel> loader = Checkpoints.checkedLoader(textEncoder2Dir, "CLIP text encoder",
                "embeddings.token_embedding.weight", PREFIXES, expectedShapes(config), device, dtype,
                p -> ClipTextModel.load(config, p));
        ClipTokenizer tokenizer = ClipTokenizer.load(tokenizerDir);
        String id = Checkpoints.id("clip", textEncoder2Dir, device, dtype);
        try {
            return new ClipTextEncoder(id, config, maxLength == 0 ? config.maxPositions() : maxLength, device,
                    tokenizer, loader);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /**
     * An encoder over the parameters {@code weights} gives, e.g. {@code () -> Parameters.random(device, dtype, seed)}
     * for a benchmark (names as in {@link #expectedShapes}, without the {@code text_model.} prefix).
     *
     * @param weights   parameters on {@code device}, asked for at once and again after {@link #release()}; each one
     *                  is closed once the model is built
     * @param tokenizer the tokenizer, owned (closed) by the encoder, or {@code null} to use only {@link #encodeIds}
     */
    public static ClipTextEncoder create(ClipTextConfig config, Supplier<Parameters> weights, ClipTokenizer tokenizer,
                                         Device device) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(device, "device");
        return new ClipTextEncoder("clip:instance-" + INSTANCES.incrementAndGet(), config, config.maxPositions(),
                device, tokenizer,
                () -> {
                    try (Parameters p = weights.get()) {
                        return ClipTextModel.load(config, p);
                    }
                });
    }

    /**
     * Every tensor of a checkpoint of {@code config}, name → shape in binding order: CLIP's text transformer
     * ({@code embeddings.*}, {@code encoder.layers.N.*}, {@code final_layer_norm.*}) under the names the encoder
     * binds: without the {@code text_model.} prefix that {@code CLIPModel} checkpoints (and {@code CLIPTextModel}
     * ones saved by transformers 4) put before them.
     */
    public static Map<String, long[]> expectedShapes(ClipTextConfig config) {
        Objects.requireNonNull(config, "config");
        return Parameters.shapesOf(p -> ClipTextModel.load(config, p).close());
    }

    /**
     * The pooled outputs of {@code prompts}, {@code [B, hidden]} in the encoder's dtype on its device (owned by
     * the caller).
     *
     * @throws IllegalArgumentException for an empty prompt list or a null prompt
     */
    public Tensor encode(List<String> prompts) {
        return encode(prompts, Cancellation.NEVER);
    }

    /**
     * As {@link #encode(List)}, asking {@code cancelled} before the first encoder layer and after each one.
     *
     * @throws CancelledException naming the layers done ("after 5 of 12 CLIP layers") once {@code cancelled} returns
     *                            true; nothing of the encoding is left allocated
     */
    public synchronized Tensor encode(List<String> prompts, BooleanSupplier cancelled) {
        Objects.requireNonNull(cancelled, "cancelled");
        TokenizedPrompts tokens = tokenize(prompts);
        try (PointerScope scope = new PointerScope()) {
            ClipOutput out = encodeIds(tokens.inputIdsTensor(), tokens.attentionMaskTensor(), cancelled);
            out.lastHiddenState().releaseReference();
            return out.pooled();
        }
    }

    /**
     * The ids and mask {@link #encode} feeds the model: padded and truncated to the encoder's max length (by default
     * max_position_embeddings, 77).
     */
    public synchronized TokenizedPrompts tokenize(List<String> prompts) {
        model.requireOpen();
        if (tokenizer == null) {
            throw new IllegalStateException("this encoder was created without a tokenizer; use encodeIds");
        }
        return tokenizer.tokenize(prompts, maxLength);
    }

    /**
     * Runs the model on given ids.
     *
     * @param inputIds      {@code [B, L]} integer ids, {@code L ≤ max_position_embeddings}
     * @param attentionMask {@code [B, L]} 1 for BOS..EOS then 0 (right padding)
     * @return pooled {@code [B, hidden]} and last hidden state {@code [B, L, hidden]}, owned by the caller
     * @throws IllegalArgumentException for bad shapes, ids outside the vocabulary, a mask that is not right padded
     *                                  or a sequence longer than the position table
     */
    public ClipOutput encodeIds(Tensor inputIds, Tensor attentionMask) {
        return encodeIds(inputIds, attentionMask, Cancellation.NEVER);
    }

    private synchronized ClipOutput encodeIds(Tensor inputIds, Tensor attentionMask, BooleanSupplier cancelled) {
        model.requireOpen();
        long len = TextInputs.check(inputIds, attentionMask, config.vocabSize());
        if (len > config.maxPositions()) {
            throw new IllegalArgumentException("inputIds has " + len + " positions, the model has "
                    + config.maxPositions());
        }
        ClipTextModel m = model.get();
        try (InferenceMode guard = new InferenceMode(); PointerScope scope = new PointerScope()) {
            return m.forward(inputIds.to(device, ScalarType.Long), attentionMask.to(device, ScalarType.Long),
                    cancelled);
        }
    }

    /** Frees the weights (on CUDA also the allocator's cached blocks); a later call loads them again. */
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

    public ClipTextConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /** The tokenizer, or {@code null} when created without one. */
    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    /** Identifies the weights, dtype and device for {@link PromptEncodingCache} keys. */
    public String id() {
        return id;
    }

    @Override
    public String toString() {
        return "ClipTextEncoder[" + id + "]";
    }
}
