package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.io.DType;
import io.github.hunyuanvideo.io.TensorInfo;
import io.github.hunyuanvideo.io.TensorSource;
import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** A test checkpoint held in memory (the tensors are retained until {@link #close}). */
final class MemorySource implements TensorSource {
    private static final Path FILE = Path.of("<memory>");
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    /** Adds {@code t} (contiguous copy) under {@code name}. */
    MemorySource put(String name, Tensor t) {
        Tensor c = t.contiguous().clone();
        c.retainReference();
        if (tensors.put(name, c) != null) {
            throw new IllegalArgumentException("duplicate tensor " + name);
        }
        return this;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            return null;
        }
        DType dtype = Arrays.stream(DType.values()).filter(d -> d.scalarType() == t.scalar_type().intern())
                .findFirst().orElseThrow();
        return new TensorInfo(name, dtype, Tensors.shape(t), FILE);
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        return t;
    }

    @Override
    public void close() {
        tensors.values().forEach(Tensor::releaseReference);
        tensors.clear();
    }
}
