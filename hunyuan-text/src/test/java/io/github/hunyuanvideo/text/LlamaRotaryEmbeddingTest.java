package io.github.hunyuanvideo.text;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LlamaRotaryEmbeddingTest {
    private static LlamaConfig config(LlamaConfig.Llama3RopeScaling scaling) {
        return new LlamaConfig(1000, 256, 1, 2, 1, 128, 64, 1e-5, 500000.0, scaling, false, false);
    }

    @Test
    void plainFrequenciesAreThetaPowers() {
        LlamaConfig c = config(null);
        try (PointerScope scope = new PointerScope()) {
            float[] inv = Tensors.toFloatArray(LlamaRotaryEmbedding.inverseFrequencies(c));
            assertEquals(c.headDim() / 2, inv.length);
            for (int i = 0; i < inv.length; i++) {
                double expected = 1.0 / Math.pow(c.ropeTheta(), 2.0 * i / c.headDim());
                assertEquals(expected, inv[i], expected * 1e-6);
            }
        }
    }

    /** The Llama-3.1 rule: high frequencies kept, low ones divided by the factor, a linear blend in between. */
    @Test
    void llama3ScalingKeepsHighDividesLowAndBlendsTheMiddle() {
        LlamaConfig.Llama3RopeScaling s = new LlamaConfig.Llama3RopeScaling(8.0, 1.0, 4.0, 8192);
        try (PointerScope scope = new PointerScope()) {
            float[] plain = Tensors.toFloatArray(LlamaRotaryEmbedding.inverseFrequencies(config(null)));
            float[] scaled = Tensors.toFloatArray(LlamaRotaryEmbedding.inverseFrequencies(config(s)));
            int kept = 0;
            int divided = 0;
            int blended = 0;
            for (int i = 0; i < plain.length; i++) {
                double wavelen = 2 * Math.PI / plain[i];
                double expected;
                if (wavelen < s.originalMaxPositionEmbeddings() / s.highFreqFactor()) {
                    expected = plain[i];
                    kept++;
                } else if (wavelen > s.originalMaxPositionEmbeddings() / s.lowFreqFactor()) {
                    expected = plain[i] / s.factor();
                    divided++;
                } else {
                    double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                            / (s.highFreqFactor() - s.lowFreqFactor());
                    expected = (1 - smooth) * plain[i] / s.factor() + smooth * plain[i];
                    blended++;
                }
                assertEquals(expected, scaled[i], expected * 1e-5, "frequency " + i);
                if (i > 0) {
                    assertTrue(scaled[i] < scaled[i - 1], "still decreasing at " + i);
                }
            }
            assertTrue(kept > 0 && divided > 0 && blended > 0, kept + "/" + divided + "/" + blended);
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void rotationKeepsEachPairsNormAndPositionZeroIsIdentity(long seed) {
        LlamaConfig c = config(null);
        try (PointerScope scope = new PointerScope(); LlamaRotaryEmbedding rope = new LlamaRotaryEmbedding(c)) {
            torch.manual_seed(seed);
            long len = 17;
            long half = c.headDim() / 2;
            Tensor x = torch.randn(2, 3, len, c.headDim());
            Tensor[] cs = rope.cosSin(len, new Device("cpu"), ScalarType.Float);
            Tensor y = LlamaRotaryEmbedding.apply(x, cs[0], cs[1]);
            Tensor pairNormX = x.narrow(-1, 0, half).pow(new org.bytedeco.pytorch.Scalar(2))
                    .add(x.narrow(-1, half, half).pow(new org.bytedeco.pytorch.Scalar(2)));
            Tensor pairNormY = y.narrow(-1, 0, half).pow(new org.bytedeco.pytorch.Scalar(2))
                    .add(y.narrow(-1, half, half).pow(new org.bytedeco.pytorch.Scalar(2)));
            assertEquals(0.0, Tensors.relativeError(pairNormY, pairNormX), 1e-5);
            assertEquals(0.0, Tensors.relativeError(y.narrow(2, 0, 1), x.narrow(2, 0, 1)), 0.0);
        }
    }
}
