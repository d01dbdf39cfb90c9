package io.github.hunyuanvideo.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Function;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TorchScriptTest {
    @Test
    void theResultOutlivesTheCallsIValues() {
        Function f = TorchScript.compile("""
                def axpy(a: float, x: Tensor, y: Tensor) -> Tensor:
                    return a * x + y
                """, "axpy");
        try (PointerScope outer = new PointerScope()) {
            Tensor x = torch.arange(new org.bytedeco.pytorch.Scalar(4)).to(torch.ScalarType.Float);
            Tensor y = torch.ones(new long[]{4});
            Tensor out;
            try (PointerScope call = new PointerScope()) {
                out = Scopes.retained(TorchScript.call(f, new IValue(2.0), new IValue(x), new IValue(y)));
            }
            // The IValues and the call's scope are gone; the result is still ours.
            float[] values = new float[4];
            out.contiguous().data_ptr_float().get(values);
            assertArrayEquals(new float[]{1, 3, 5, 7}, values);
            Scopes.release(out);
        }
    }

    @Test
    void aCompiledFunctionSurvivesGarbageCollection() throws InterruptedException {
        Function f = TorchScript.compile("""
                def twice(x: Tensor) -> Tensor:
                    return x + x
                """, "twice");
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(50);
        }
        try (PointerScope scope = new PointerScope()) {
            float[] values = new float[2];
            TorchScript.call(f, new IValue(torch.ones(new long[]{2}))).contiguous().data_ptr_float().get(values);
            assertArrayEquals(new float[]{2, 2}, values);
        }
    }

    @Test
    void aCompileErrorNamesTheProblem() {
        assertThrows(RuntimeException.class, () -> TorchScript.compile("def f(x: Tensor) -> Tensor:\n    return y\n",
                "f"));
    }
}
