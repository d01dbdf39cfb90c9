package io.github.hunyuanvideo.dit;

import org.bytedeco.pytorch.Tensor;

/**
 * Receives the DiT's intermediate tensors during {@link HunyuanVideoTransformer#forward}, under the names of the
 * golden case's {@code mid.*} tensors ({@code time_in}, {@code vec}, {@code double_blocks.N.img}, ...), for tests
 * and debugging. A tensor is valid only during the call (the residual streams are updated in place later): copy what
 * you keep.
 */
@FunctionalInterface
public interface DitProbe {
    /** Called once per intermediate, in forward order. */
    void accept(String name, Tensor value);

    /** Calls {@code probe} if it is not {@code null}. */
    static void emit(DitProbe probe, String name, Tensor value) {
        if (probe != null) {
            probe.accept(name, value);
        }
    }
}
