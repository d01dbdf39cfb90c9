package io.github.hunyuanvideo.text;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch;

/**
 * A small random Llama with the real Llama-3 vocabulary, so that the real tokenizer's ids fit: end-to-end tests of
 * {@link LlmTextEncoder#encode} (the golden case's 512-token vocabulary cannot take them).
 */
final class TinyLlama {
    static final LlamaConfig CONFIG = new LlamaConfig(128256, 32, 3, 4, 2, 8, 64, 1e-5, 500000.0, null, false, false);

    private TinyLlama() {
    }

    /** Random weights on the CPU, the same for each name on every load: matrices N(0, 1/fan_in), norms 1. */
    static TensorLoader randomWeights(long seed) {
        return (name, shape) -> {
            if (shape.length == 1) {
                return torch.ones(shape);
            }
            torch.manual_seed(seed * 31 + name.hashCode());
            return torch.randn(shape).div(new Scalar(Math.sqrt(shape[1])));
        };
    }

    /** An encoder with the real Llama-3 tokenizer. */
    static LlmTextEncoder encoder(LlmEncoderOptions options, long seed) {
        return LlmTextEncoder.create(CONFIG, randomWeights(seed), LlmTokenizer.load(TokenizerDirs.llama3()), options,
                new Device("cpu"));
    }
}
