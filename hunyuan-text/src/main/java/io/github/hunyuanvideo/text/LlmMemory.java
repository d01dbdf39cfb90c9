package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.nn.StreamedWeights;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Objects;

/**
 * What the LLM text encoder needs in memory, for a planner that chooses a {@link LayerStreaming} before any weight
 * loads. Weight figures are measured by binding the model parts on the meta device (nothing is allocated), each
 * tensor rounded up to {@link StreamedWeights#ALIGNMENT} as the caching allocator and the streaming slots place it.
 * For Llama-3-8B in fp16: a decoder layer 436,224,000 bytes, the embedding table 1,050,673,152, the final norm 8,192.
 */
public final class LlmMemory {
    private LlmMemory() {
    }

    /** Bytes of one decoder layer (all layers are the same size): what one layer takes on the device or in a slot. */
    public static long layerBytes(LlamaConfig config, ScalarType dtype) {
        Objects.requireNonNull(config, "config");
        return LlamaModel.layerBytes(config, dtype);
    }

    /** Bytes of the token embedding table {@code [vocab, hidden]}. */
    public static long embeddingBytes(LlamaConfig config, ScalarType dtype) {
        Objects.requireNonNull(config, "config");
        return StreamedWeights.layerBytes(dtype, p -> p.tensor(LlamaModel.EMBEDDING, config.vocabSize(),
                config.hiddenSize()));
    }

    /** Bytes of the final RMSNorm's weight (on the device only when the options use it). */
    public static long normBytes(LlamaConfig config, ScalarType dtype) {
        Objects.requireNonNull(config, "config");
        return StreamedWeights.layerBytes(dtype, p -> p.rmsNorm(LlamaModel.NORM, config.hiddenSize(),
                config.rmsNormEps()).close());
    }

    /**
     * Device bytes of the weights of a loaded encoder with every layer resident: the embedding table, the layers
     * {@code options} runs and, when it uses it, the final norm. Same as {@link #deviceWeightBytes} with
     * {@link LayerStreaming#none()}.
     */
    public static long residentBytes(LlamaConfig config, LlmEncoderOptions options, ScalarType dtype) {
        return deviceWeightBytes(config, options, dtype, LayerStreaming.none());
    }

    /**
     * Device bytes of the weights of a loaded encoder under {@code streaming}: the resident layers, the streaming
     * slots ({@link StreamedWeights#slotsFor} layers), the final norm when used, and the embedding table only when no
     * layer is streamed.
     */
    public static long deviceWeightBytes(LlamaConfig config, LlmEncoderOptions options, ScalarType dtype,
                                         LayerStreaming streaming) {
        Objects.requireNonNull(options, "options");
        int layers = options.layersToRun(config.numLayers());
        int streamed = streaming.streamedOf(layers);
        long layer = layerBytes(config, dtype);
        long slots = streamed == 0 ? 0 : StreamedWeights.slotsFor(streamed, streaming.prefetchDepth());
        return (streamed == 0 ? embeddingBytes(config, dtype) : 0) + (layers - streamed + slots) * layer
                + (options.usesFinalNorm() ? normBytes(config, dtype) : 0);
    }

    /**
     * Host bytes a loaded encoder keeps under {@code streaming}: the streamed layers' copies (page-locked on CUDA)
     * and the embedding table (0 when nothing is streamed). {@link LlmTextEncoder#release()} frees them with the
     * device weights.
     */
    public static long hostWeightBytes(LlamaConfig config, LlmEncoderOptions options, ScalarType dtype,
                                       LayerStreaming streaming) {
        Objects.requireNonNull(options, "options");
        int streamed = streaming.streamedOf(options.layersToRun(config.numLayers()));
        return streamed == 0 ? 0 : embeddingBytes(config, dtype) + streamed * layerBytes(config, dtype);
    }

    /**
     * A conservative bound on the device bytes one encoding allocates besides the weights, for {@code batch} prompts
     * of {@code tokens} tokens each ({@link LlmEncoderOptions#maxLength()}: 351 by default) in {@code dtype}. Every
     * temporary of a decoder layer stays allocated until the layer returns (they belong to its pointer scope), so the
     * peak is one layer's temporaries all at once. With {@code s} the dtype's bytes, {@code H} the hidden size,
     * {@code I} the MLP width, {@code Q = heads·headDim}, {@code K = kvHeads·headDim}, {@code B} the batch and
     * {@code L} the tokens, the bound is
     * <pre>
     *   B·L·(H·(24 + 9s) + s·(10Q + 7K + 4I))   per-token tensors of one layer
     * + B·heads·L²·12                           attention scores, bias and softmax (unfused path; fused kernels
     *                                           need none of it)
     * + L²·(3 + 5B)                             causal and padding masks, and attention's float copy of the mask
     * + L·headDim·(16 + 2s)                     RoPE tables
     * + B·L·32                                  ids and mask
     * </pre>
     * where the per-token term counts the layer's input, two RMSNorms with their float32 temporaries
     * ({@code 12 + 2s} bytes per element each), q with RoPE ({@code 6Q}), k with RoPE ({@code 6K}), v, k and v
     * repeated to the query heads ({@code 2Q}), the attention output and its reshape ({@code 2Q}), the o and down
     * projections with the two residual sums ({@code 4H}) and the MLP's gate, SiLU, up and product ({@code 4I}).
     * The final norm and the crop run after the layers' temporaries are freed and need less. Not included: cuBLAS
     * workspaces and the caching allocator's rounding and fragmentation. For Llama-3-8B in fp16, one prompt of 351
     * tokens: 183,629,160 bytes (175 MiB).
     *
     * @throws IllegalArgumentException if {@code batch} or {@code tokens} is below 1
     */
    public static long activationPeakBytes(LlamaConfig config, ScalarType dtype, int batch, long tokens) {
        Objects.requireNonNull(config, "config");
        if (batch < 1 || tokens < 1) {
            throw new IllegalArgumentException("batch and tokens must be >= 1, got " + batch + " and " + tokens);
        }
        long s = torch.elementSize(dtype);
        long h = config.hiddenSize();
        long q = (long) config.numHeads() * config.headDim();
        long k = (long) config.numKvHeads() * config.headDim();
        long perToken = h * (24 + 9 * s) + s * (10 * q + 7 * k + 4L * config.intermediateSize());
        long squares = tokens * tokens;
        return batch * tokens * perToken
                + batch * config.numHeads() * squares * 12
                + squares * (3 + 5L * batch)
                + tokens * config.headDim() * (16 + 2 * s)
                + batch * tokens * 32;
    }
}
