package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.StreamedWeights;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.List;
import java.util.function.Function;

/**
 * How the encoder or the decoder binds its {@link Part}s: on the device as loaded ({@link #RESIDENT}), or as the
 * layers of one {@link StreamedWeights}, numbered in binding order ({@link #streaming}).
 */
@FunctionalInterface
interface PartBinder {
    /** Each part's weights stay where {@code p} puts them. */
    PartBinder RESIDENT = (p, load) -> load.apply(p);

    /**
     * Binds the part {@code load} builds from {@code p}; {@code load} binds all of the part's parameters, in a fixed
     * order.
     */
    Part bind(Parameters p, Function<Parameters, ? extends Part> load);

    /**
     * Binds each part into the slot of the next layer of {@code streamed} (its values copied to host memory) and
     * runs its forward through {@link StreamedWeights#with}.
     */
    static PartBinder streaming(StreamedWeights streamed) {
        int[] next = {0};
        return (p, load) -> {
            int layer = next[0]++;
            Part part = p.placing(streamed.placement(layer), () -> load.apply(p));
            return new Part() {
                @Override
                public Tensor forward(Tensor x) {
                    return streamed.with(layer, () -> part.forward(x));
                }

                @Override
                public void close() {
                    part.close();
                }
            };
        };
    }

    /**
     * Binds resident and appends each part's slot bytes in {@code dtype} ({@link StreamedWeights#layerBytes}) to
     * {@code bytes}: on meta parameters, what {@link #streaming} needs to allocate its slots.
     */
    static PartBinder measuring(ScalarType dtype, List<Long> bytes) {
        return (p, load) -> {
            bytes.add(StreamedWeights.layerBytes(dtype, q -> load.apply(q).close()));
            return load.apply(p);
        };
    }
}
