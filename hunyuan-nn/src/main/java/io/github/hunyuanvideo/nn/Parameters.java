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
 * <p>Parameters may keep some weights in float8_e4m3fn with a per-tensor scale ({@link Float8Weights}, e.g. the
 * block Linears of an FP8 checkpoint): such a weight is bound in float8 as the source holds it, and {@link #scale}
 * gives its scale, which {@link #linear} passes on to the {@link Linear} (which dequantises per call).
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

    /**
     * Which weights are kept in float8_e4m3fn with a per-tensor scale, and those scales. The source is asked for such
     * a weight in float8_e4m3fn; the scale is rounded to the model dtype (as the original's
     * {@code fp8_scale.to(dtype)}) and kept on the device next to the weight.
     */
    public interface Float8Weights {
        /** No weight in float8. */
        Float8Weights NONE = new Float8Weights() {
            @Override
            public boolean isFloat8(String name, long[] shape) {
                return false;
            }

            @Override
            public Tensor scale(String name) {
                throw new IllegalStateException("no float8 weights");
            }
        };

        /** Whether weight {@code name} of {@code shape} is kept in float8. */
        boolean isFloat8(String name, long[] shape);

        /**
         * The per-tensor scale of float8 weight {@code name}: a single value on any device in any dtype. Asked only
         * when the weight is bound with values (never on the meta device).
         */
        Tensor scale(String name);
    }

    private static final ScalarType FLOAT8 = ScalarType.Float8_e4m3fn;

    private final Source source;
    private final Float8Weights float8;
    private final Device device;
    private final ScalarType dtype;
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final List<Tensor> owned = new ArrayList<>();
    /** Float8 weight name → its bound scale. */
    private final Map<String, Tensor> scales = new LinkedHashMap<>();
    /** Where values bound now go; {@code null} = the source's tensor itself. */
    private Placement placement;

    private Parameters(Source source, Float8Weights float8, Device device, ScalarType dtype) {
        this.source = source;
        this.float8 = float8;
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
        return of(source, Float8Weights.NONE, device, dtype);
    }

    /**
     * Parameters from {@code source}, the weights {@code float8} names kept in float8_e4m3fn with their scales (the
     * source is asked for them in float8_e4m3fn).
     */
    public static Parameters of(Source source, Float8Weights float8, Device device, ScalarType dtype) {
        return new Parameters(source, float8, device, dtype);
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
        return of(randomValues(), device, dtype);
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
        return meta(dtype, Float8Weights.NONE);
    }

    /**
     * {@link #meta(ScalarType)} with the weights {@code float8} names in float8_e4m3fn and their (meta) scales: what a
     * model part binds with those weights kept in float8. {@code float8}'s scales are not asked for.
     */
    public static Parameters meta(ScalarType dtype, Float8Weights float8) {
        return new Parameters(Parameters::metaTensor, float8, new Device("meta"), dtype);
    }

    private static Tensor metaTensor(String name, long[] shape, Device device, ScalarType dtype) {
        return torch.empty(shape, new TensorOptions(device).dtype(new ScalarTypeOptional(dtype)),
                new MemoryFormatOptional());
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

    /**
     * Parameter {@code name} of {@code shape} in the model dtype, or in float8_e4m3fn for a weight kept in float8
     * (see {@link #scale}).
     */
    public Tensor tensor(String name, long... shape) {
        return own(name, shape, false, null);
    }

    /**
     * Parameter {@code name} of {@code shape}, stored as {@code layout} makes it (e.g. rows reordered for a fused
     * kernel); only the result is kept. A weight kept in float8 reaches {@code layout} in float8_e4m3fn.
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

    /**
     * A linear layer (closed by its owner) {@code prefix.weight [out, in]}, with {@code prefix.bias [out]} if
     * {@code bias}; an FP8 layer if the weight is kept in float8.
     */
    public Linear linear(String prefix, long out, long in, boolean bias) {
        String weight = prefix + ".weight";
        Tensor w = tensor(weight, out, in);
        return new Linear(w, bias ? tensor(prefix + ".bias", out) : null, scale(weight));
    }

    /**
     * The scale of weight {@code name}, bound with it, if it is kept in float8_e4m3fn: a 0-d tensor in the model dtype
     * on the device (or in the weight's placement); {@code null} for a weight in the model dtype.
     */
    public Tensor scale(String name) {
        return scales.get(name);
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

    /** Which weights these parameters keep in float8 ({@link Float8Weights#NONE} for none). */
    public Float8Weights float8Weights() {
        return float8;
    }

    /** Every parameter handed out so far, name → shape, in binding order. */
    public Map<String, long[]> shapes() {
        return Collections.unmodifiableMap(shapes);
    }

    /**
     * Creates the tensor (and a float8 weight's scale, placed right after it) in a scope of its own (its temporaries
     * die there) and keeps one reference to each.
     */
    private Tensor own(String name, long[] shape, boolean asFloat, UnaryOperator<Tensor> layout) {
        if (shapes.put(name, shape.clone()) != null) {
            throw new IllegalStateException("parameter '" + name + "' bound twice");
        }
        boolean isFloat8 = float8.isFloat8(name, shape);
        if (isFloat8 && asFloat) {
            throw new IllegalStateException("parameter '" + name + "' is kept in float8, not float32");
        }
        Tensor t;
        try (PointerScope ignored = new PointerScope()) {
            t = source.create(name, shape, device, isFloat8 ? FLOAT8 : dtype);
            if (isFloat8 && t.scalar_type().intern() != FLOAT8) {
                throw new IllegalStateException("source gave '" + name + "' in " + t.scalar_type().intern()
                        + ", not in float8_e4m3fn");
            }
            if (layout != null) {
                t = layout.apply(t);
            }
            if (asFloat && t.scalar_type().intern() != ScalarType.Float) {
                t = t.to(ScalarType.Float);
            }
            t = placed(name, t);
            if (isFloat8) {
                Tensor s = placed(name + " (scale)", device.is_meta() ? metaTensor(name, new long[0], device, dtype)
                        : float8.scale(name).reshape().to(device, dtype));
                scales.put(name, s);
                owned.add(s);
            }
        }
        owned.add(t);
        return t;
    }

    /** {@code t} where the current placement puts it, holding one reference for this object. */
    private Tensor placed(String name, Tensor t) {
        Tensor kept = placement == null ? t : placement.place(name, t);
        kept.retainReference();
        return kept;
    }

    /**
     * Releases this object's reference to every tensor handed out; parts that retained one (every {@link Linear},
     * {@link RmsNorm} and {@link LayerNorm} does) keep it until they are closed themselves.
     */
    @Override
    public void close() {
        owned.forEach(Tensor::releaseReference);
        owned.clear();
        scales.clear();
        device.releaseReference();
    }
}
