package io.github.hunyuanvideo.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The one way a model part gets its parameters: by checkpoint name, with the shape the model expects, on the model's
 * device in its dtype. Values come from a checkpoint ({@link #of(NamedTensors, Device, ScalarType)}), from a mapping
 * of another naming onto the model's ({@link #of(Source, Device, ScalarType)}), from seeded random values
 * ({@link #random}, for benchmarks) or from nothing at all ({@link #shapesOf}: the names and shapes a model binds,
 * computed on the meta device).
 *
 * <p>Every tensor handed out is owned by this object until {@link #close}; a part that keeps a tensor longer retains
 * it. A model therefore either keeps its {@code Parameters} open for its own lifetime, or closes them once its boxes
 * have retained what they hold (then a tensor reordered at load time, see {@link #tensor(String, long[],
 * UnaryOperator)}, occupies the device once).
 */
public final class Parameters implements AutoCloseable {
    /** Where values come from: a new tensor of {@code shape} for {@code name} on {@code device} in {@code dtype}. */
    @FunctionalInterface
    public interface Source {
        /**
         * The value of parameter {@code name}.
         *
         * @throws IllegalArgumentException naming the tensor if the source has no such tensor of that shape
         */
        Tensor create(String name, long[] shape, Device device, ScalarType dtype);
    }

    /**
     * Where a bound value is kept: the tensor the model part gets for {@code value}, for instance a view of a device
     * buffer that {@link StreamedWeights} refills. {@code value} is a temporary of the binding (freed after it).
     */
    @FunctionalInterface
    public interface Placement {
        Tensor place(String name, Tensor value);
    }

    private final Source source;
    private final Device device;
    private final ScalarType dtype;
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final List<Tensor> owned = new ArrayList<>();
    /** Where values bound now go; {@code null} = the source's tensor itself. */
    private Placement placement;

    private Parameters(Source source, Device device, ScalarType dtype) {
        this.source = source;
        this.device = new Device(device.type(), device.index());
        this.dtype = dtype.intern();
        this.device.retainReference();
    }

    /**
     * Copies each parameter from {@code checkpoint} (the same names) to {@code device} in {@code dtype}, after
     * checking its shape. The caller keeps ownership of {@code checkpoint}; see {@link #checkExactly} for the
     * whole-checkpoint check that should run before any copy.
     */
    public static Parameters of(NamedTensors checkpoint, Device device, ScalarType dtype) {
        return of((name, shape, dev, dt) -> copy(checkpoint, name, shape, dev, dt), device, dtype);
    }

    /** Parameters from {@code source}: for checkpoints whose names or layout differ from the model's. */
    public static Parameters of(Source source, Device device, ScalarType dtype) {
        return new Parameters(source, device, dtype);
    }

    /**
     * Tensor {@code name} of {@code checkpoint}, checked against {@code shape}, copied to {@code device} in
     * {@code dtype}: the building block of a {@link Source} that maps names.
     *
     * @throws IllegalArgumentException naming the tensor if it is missing or of another shape
     */
    public static Tensor copy(NamedTensors checkpoint, String name, long[] shape, Device device, ScalarType dtype) {
        long[] stored = checkpoint.shape(name);
        if (stored == null) {
            throw new IllegalArgumentException("checkpoint lacks tensor '" + name + "' (expected shape "
                    + Arrays.toString(shape) + ")");
        }
        if (!Arrays.equals(stored, shape)) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(stored)
                    + ", expected " + Arrays.toString(shape));
        }
        return checkpoint.view(name).to(device, dtype, false, true, new MemoryFormatOptional());
    }

    /**
     * Seeded random values of a sensible scale, drawn in float32 directly on {@code device} (a 13B model needs no host
     * copy) and rounded to {@code dtype}: matrices and kernels {@code N(0, 1/fan_in)}, norm weights
     * {@code 1 + 0.1·N(0, 1)}, norm biases {@code 0.1·N(0, 1)}, other vectors {@code 0.05·N(0, 1)} (a name holding
     * {@code norm} is a norm parameter). Seeds libtorch's default generators ({@code torch.manual_seed}); values depend
     * on the order of binding. For benchmarks and tests.
     */
    public static Parameters random(Device device, ScalarType dtype, long seed) {
        torch.manual_seed(seed);
        return new Parameters(randomValues(), device, dtype);
    }

    /**
     * The values of {@link #random}, drawn from libtorch's default generators as they stand (seed them first), as a
     * {@link Source}: for benchmarks that wrap random weights in another source.
     */
    public static Source randomValues() {
        return (name, shape, dev, dt) -> {
            Tensor v = torch.randn(shape, new TensorOptions(dev).dtype(new ScalarTypeOptional(ScalarType.Float)));
            // in-place ops: the value stays in v's storage
            if (shape.length >= 2) {
                long fanIn = Arrays.stream(shape).skip(1).reduce(1, Math::multiplyExact);
                v.mul_(new Scalar(1.0 / Math.sqrt(fanIn)));
            } else if (name.contains("norm")) {
                v.mul_(new Scalar(0.1));
                if (name.endsWith(".weight")) {
                    v.add_(new Scalar(1.0));
                }
            } else {
                v.mul_(new Scalar(0.05));
            }
            return v.to(dt);
        };
    }

    /**
     * Every parameter {@code build} binds, name → shape in binding order, computed on the meta device (nothing is
     * allocated). {@code build} constructs the model from the parameters it is given and closes it.
     */
    public static Map<String, long[]> shapesOf(Consumer<Parameters> build) {
        try (PointerScope ignored = new PointerScope(); Parameters p = meta(ScalarType.Float)) {
            build.accept(p);
            return Collections.unmodifiableMap(new LinkedHashMap<>(p.shapes));
        }
    }

    /**
     * Parameters of {@code dtype} on the meta device: shapes and dtypes without any storage, for measuring what a
     * model part binds (close them afterwards).
     */
    public static Parameters meta(ScalarType dtype) {
        return new Parameters((name, shape, dev, dt) -> torch.empty(shape,
                new TensorOptions(dev).dtype(new ScalarTypeOptional(dt)), new MemoryFormatOptional()),
                new Device("meta"), dtype);
    }

    /**
     * Checks that {@code checkpoint} holds exactly the tensors of {@code expected} (name → shape), before anything is
     * copied.
     *
     * @param what the checkpoint in words, for the message (e.g. {@code "VAE checkpoint /ckpts/vae"})
     * @throws IllegalArgumentException naming the first missing or misshapen tensor, or the unexpected ones
     */
    public static void checkExactly(NamedTensors checkpoint, Map<String, long[]> expected, String what) {
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            long[] stored = checkpoint.shape(e.getKey());
            if (stored == null) {
                throw new IllegalArgumentException(what + " lacks tensor '" + e.getKey() + "' (expected shape "
                        + Arrays.toString(e.getValue()) + ")");
            }
            if (!Arrays.equals(stored, e.getValue())) {
                throw new IllegalArgumentException(what + ": tensor '" + e.getKey() + "' has shape "
                        + Arrays.toString(stored) + ", expected " + Arrays.toString(e.getValue()));
            }
        }
        List<String> unexpected = checkpoint.names().stream().filter(n -> !expected.containsKey(n)).toList();
        if (!unexpected.isEmpty()) {
            throw new IllegalArgumentException(what + " has " + unexpected.size() + " unexpected tensor(s): "
                    + String.join(", ", unexpected.subList(0, Math.min(5, unexpected.size())))
                    + (unexpected.size() > 5 ? ", ..." : ""));
        }
    }

    /** Parameter {@code name} of {@code shape} in the model dtype. */
    public Tensor tensor(String name, long... shape) {
        return own(name, shape, false, null);
    }

    /**
     * Parameter {@code name} of {@code shape}, stored as {@code layout} makes it (e.g. rows reordered for a fused
     * kernel); only the result is kept.
     */
    public Tensor tensor(String name, long[] shape, UnaryOperator<Tensor> layout) {
        return own(name, shape, false, layout);
    }

    /**
     * Parameter {@code name} as float32 holding the model-dtype values: half-precision models keep norm parameters in
     * their dtype and autocast upcasts them for float32 arithmetic, so rounding through the model dtype first
     * reproduces those values.
     */
    public Tensor floatTensor(String name, long... shape) {
        return own(name, shape, true, null);
    }

    /** A linear layer (closed by its owner) {@code prefix.weight [out, in]}, with {@code prefix.bias [out]} if {@code bias}. */
    public Linear linear(String prefix, long out, long in, boolean bias) {
        return new Linear(tensor(prefix + ".weight", out, in), bias ? tensor(prefix + ".bias", out) : null);
    }

    /** An RMSNorm of weight {@code name [dim]}. */
    public RmsNorm rmsNorm(String name, long dim, double eps) {
        return new RmsNorm(tensor(name, dim), eps);
    }

    /** A LayerNorm with {@code prefix.weight} and {@code prefix.bias} {@code [dim]}. */
    public LayerNorm layerNorm(String prefix, long dim, double eps) {
        return new LayerNorm(tensor(prefix + ".weight", dim), tensor(prefix + ".bias", dim), eps);
    }

    /**
     * Binds what {@code bind} asks for with every value handed to {@code where}, which decides what the model part
     * keeps (see {@link Placement}); bindings outside this call are unaffected.
     */
    public <T> T placing(Placement where, Supplier<T> bind) {
        if (placement != null) {
            throw new IllegalStateException("placements do not nest");
        }
        placement = where;
        try {
            return bind.get();
        } finally {
            placement = null;
        }
    }

    /** The device parameters are put on. */
    public Device device() {
        return device;
    }

    /** The model dtype. */
    public ScalarType dtype() {
        return dtype;
    }

    /** Every parameter handed out so far, name → shape, in binding order. */
    public Map<String, long[]> shapes() {
        return Collections.unmodifiableMap(shapes);
    }

    /** Creates the tensor in a scope of its own (its temporaries die there) and keeps one reference to it. */
    private Tensor own(String name, long[] shape, boolean asFloat, UnaryOperator<Tensor> layout) {
        if (shapes.put(name, shape.clone()) != null) {
            throw new IllegalStateException("parameter '" + name + "' bound twice");
        }
        Tensor t;
        try (PointerScope ignored = new PointerScope()) {
            t = source.create(name, shape, device, dtype);
            if (layout != null) {
                t = layout.apply(t);
            }
            if (asFloat && t.scalar_type().intern() != ScalarType.Float) {
                t = t.to(ScalarType.Float);
            }
            if (placement != null) {
                t = placement.place(name, t);
            }
            t.retainReference();
        }
        owned.add(t);
        return t;
    }

    /**
     * Releases this object's reference to every tensor handed out; parts that retained one (every {@link Linear},
     * {@link RmsNorm} and {@link LayerNorm} does) keep it until they are closed themselves.
     */
    @Override
    public void close() {
        owned.forEach(Tensor::releaseReference);
        owned.clear();
        device.releaseReference();
    }
}
