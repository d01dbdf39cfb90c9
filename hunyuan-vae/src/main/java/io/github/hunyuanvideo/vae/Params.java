package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.nn.Linear;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the boxes get their parameters from: a checkpoint, seeded random values (benchmarks) or shape-only meta
 * tensors ({@link CausalVideoVae#expectedShapes}). Records every name and shape it hands out and owns the tensors.
 */
final class Params implements AutoCloseable {
    /** What a parameter is, which only random initialisation needs. */
    enum Role { WEIGHT, BIAS, NORM_WEIGHT, NORM_BIAS }

    @FunctionalInterface
    private interface Source {
        /** A tensor of {@code shape} on {@code device} in {@code dtype}. */
        Tensor create(String name, long[] shape, Role role, Device device, ScalarType dtype);
    }

    private final Source source;
    private final Device device;
    private final ScalarType dtype;
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final List<Tensor> owned = new ArrayList<>();
    private final List<Linear> linears = new ArrayList<>();
    private final Generator generator;

    private Params(Source source, Device device, ScalarType dtype, Generator generator) {
        this.source = source;
        this.device = device;
        this.dtype = dtype.intern();
        this.generator = generator;
        device.retainReference();
        if (generator != null) {
            generator.retainReference();
        }
    }

    /** Copies each tensor of {@code w} (after checking its shape) to {@code device} in {@code dtype}. */
    static Params of(Weights w, Device device, ScalarType dtype) {
        return new Params((name, shape, role, dev, dt) -> {
            Tensor view = w.get(name, shape);
            try {
                return view.to(dev, dt, false, true, new MemoryFormatOptional());
            } finally {
                view.close();
            }
        }, copy(device), dtype, null);
    }

    /** Shape-only tensors on the meta device: nothing is allocated. */
    static Params meta() {
        return new Params((name, shape, role, dev, dt) -> torch.empty(shape,
                new TensorOptions(dev).dtype(new ScalarTypeOptional(dt)), new MemoryFormatOptional()),
                new Device("meta"), ScalarType.Float, null);
    }

    /**
     * Seeded random values of a sensible scale (matrices {@code randn/√fan_in}, norm scales {@code 1 + 0.1·randn},
     * vectors {@code 0.05·randn}), drawn on the CPU in float32 and copied.
     */
    static Params random(Device device, ScalarType dtype, long seed) {
        Generator gen = torch.createCPUGenerator(seed);
        return new Params((name, shape, role, dev, dt) -> {
            Tensor r = torch.randn(shape, new GeneratorOptional(gen), new TensorOptions(ScalarType.Float));
            long fanIn = 1;
            for (int i = 1; i < shape.length; i++) {
                fanIn *= shape[i];
            }
            Tensor v = switch (role) {
                case WEIGHT -> r.mul(new Scalar(1.0 / Math.sqrt(fanIn)));
                case NORM_WEIGHT -> r.mul(new Scalar(0.1)).add(new Scalar(1.0));
                case NORM_BIAS -> r.mul(new Scalar(0.1));
                case BIAS -> r.mul(new Scalar(0.05));
            };
            return v.to(dev, dt, false, true, new MemoryFormatOptional());
        }, copy(device), dtype, gen);
    }

    /** A tensor in the model dtype. */
    Tensor tensor(String name, Role role, long... shape) {
        return own(name, shape, false, role);
    }

    /**
     * A float32 tensor holding the model-dtype values: fp16 models keep norm parameters in fp16 and autocast upcasts
     * them for the fp32 GroupNorm, so rounding through the model dtype first reproduces those values.
     */
    Tensor floatTensor(String name, Role role, long... shape) {
        return own(name, shape, true, role);
    }

    /** An attention projection {@code prefix.weight [out, in]}, {@code prefix.bias [out]}. */
    Linear linear(String prefix, long out, long in) {
        Linear l = new Linear(tensor(prefix + ".weight", Role.WEIGHT, out, in),
                tensor(prefix + ".bias", Role.BIAS, out));
        linears.add(l);
        return l;
    }

    Device device() {
        return device;
    }

    ScalarType dtype() {
        return dtype;
    }

    /** Every parameter handed out so far, by name, in creation order. */
    Map<String, long[]> shapes() {
        return Collections.unmodifiableMap(shapes);
    }

    /** Creates the tensor in a scope of its own (its temporaries die there) and keeps one reference to it. */
    private Tensor own(String name, long[] shape, boolean asFloat, Role role) {
        if (shapes.put(name, shape.clone()) != null) {
            throw new IllegalStateException("parameter '" + name + "' bound twice");
        }
        Tensor t;
        try (PointerScope ignored = new PointerScope()) {
            t = source.create(name, shape, role, device, dtype);
            if (asFloat && t.scalar_type().intern() != ScalarType.Float) {
                t = t.to(ScalarType.Float);
            }
            t.retainReference();
        }
        owned.add(t);
        return t;
    }

    private static Device copy(Device d) {
        return new Device(d.type(), d.index());
    }

    /** Releases every tensor handed out. */
    @Override
    public void close() {
        linears.forEach(Linear::close);
        owned.forEach(Tensor::releaseReference);
        linears.clear();
        owned.clear();
        device.releaseReference();
        if (generator != null) {
            generator.releaseReference();
        }
    }
}
