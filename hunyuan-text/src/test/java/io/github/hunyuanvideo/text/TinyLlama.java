package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A small random Llama with the real Llama-3 vocabulary, so that the real tokenizer's ids fit: end-to-end tests of
 * {@link LlmTextEncoder#encode} (the golden case's 512-token vocabulary cannot take them).
 */
final class TinyLlama {
    static final LlamaConfig CONFIG = new LlamaConfig(128256, 32, 3, 4, 2, 8, 64, 1e-5, 500000.0, null, false, false);

    private TinyLlama() {
    }

    /** An encoder with the real Llama-3 tokenizer and seeded random weights, the same again on every load. */
    static LlmTextEncoder encoder(LlmEncoderOptions options, long seed) {
        Device cpu = new Device("cpu");
        return LlmTextEncoder.create(CONFIG, () -> Parameters.random(cpu, ScalarType.Float, seed),
                LlmTokenizer.load(TokenizerDirs.llama3()), options, cpu);
    }
}
