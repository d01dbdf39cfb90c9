package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A batch of two prompts with different text lengths gives each sample what it gives alone, with and without the QK
 * RMSNorm: the joined q/k/v of the double blocks (written row block by row block, the text rows renormalised with
 * their own stream's norm) and the per-sample attention segments agree with the batch-1 path that drops the padding.
 */
class DitBatchConsistencyTest {
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void eachSampleOfABatchEqualsItsRunAlone(boolean qkNorm) {
        DitConfig cfg = new DitConfig(List.of(1, 2, 2), 16, 16, 64, 2, 4.0, 2, 2, List.of(8, 12, 12), 256.0, true,
                qkNorm, true, 32, 16, 1);
        try (PointerScope scope = new PointerScope();
             HunyuanVideoTransformer dit = HunyuanVideoTransformer.randomInit(cfg, new Device("cpu"),
                     ScalarType.Float, 11)) {
            torch.manual_seed(5);
            Tensor x = torch.randn(new long[]{2, 16, 3, 4, 4});
            Tensor t = torch.tensor(new float[]{900f, 250f});
            Tensor text = torch.randn(new long[]{2, 6, 32});
            Tensor mask = torch.zeros(new long[]{2, 6}, new TensorOptions(ScalarType.Long));
            mask.narrow(0, 0, 1).fill_(new Scalar(1));
            mask.narrow(0, 1, 1).narrow(1, 0, 3).fill_(new Scalar(1));
            Tensor text2 = torch.randn(new long[]{2, 16});
            Tensor guidance = torch.full(new long[]{2}, new Scalar(6016.0));
            DitInputs in = new DitInputs(x, t, text, mask, text2, guidance);
            Tensor batch = dit.forward(in);
            for (int b = 0; b < 2; b++) {
                Tensor alone = dit.forward(in.samples(b, 1));
                assertEquals(0, Tensors.relativeError(alone, batch.narrow(0, b, 1)), 1e-5, "sample " + b);
            }
        }
    }
}
