package io.github.hunyuanvideo.vae;

import org.bytedeco.pytorch.Tensor;

/**
 * Sees the output of named modules during a forward: tests compare them with the reference intermediates, profilers
 * time the stages.
 */
@FunctionalInterface
public interface Probe {
    Probe NONE = (module, output) -> {
    };

    /**
     * Called with the official module path ({@code encoder.down_blocks.1}) and its output, which may be freed after the
     * call: clone it to keep it.
     */
    void record(String module, Tensor output);
}
