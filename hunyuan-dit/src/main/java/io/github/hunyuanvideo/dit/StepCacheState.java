package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The state of a {@link StepCache} over one generation: what it keeps between steps (retained device tensors of the
 * image tokens' size, see {@link StepCache#storedBytes}) and the log of its decisions. Made by
 * {@link StepCache#start(int)}; each {@link HunyuanVideoTransformer#forward(DitInputs, StepCacheState)} call is the
 * next step. {@link #close()} frees the stored tensors. Not thread-safe, like the transformer.
 */
public final class StepCacheState implements AutoCloseable {
    /**
     * What the cache did at one step.
     *
     * @param computed    whether the blocks ran (else the stored residual replaced them)
     * @param distance    the relative L1 distance the decision measured: TeaCache's {@code rel} of the modulated
     *                    input, First-Block Cache's of block 0's residual; NaN where none was measured (TeaCache's
     *                    first and last step, First-Block Cache's first step, no cache)
     * @param accumulated TeaCache's accumulator after the decision (0 after a computed step); NaN for the others
     */
    public record Step(boolean computed, double distance, double accumulated) {
    }

    private final StepCache cache;
    private final int steps;
    private final List<Step> log = new ArrayList<>();
    private boolean closed;
    private long[] imageShape;
    private double accumulated;
    /** TeaCache: the previous step's modulated input. */
    private Tensor previousInput;
    /** First-Block Cache: block 0's residual at the last computed step ({@code r*}). */
    private Tensor firstResidual;
    /** What the skipped blocks add to the image tokens; before it is complete, their input ({@link #keepInput}). */
    private Tensor residual;

    StepCacheState(StepCache cache, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps: must be >= 1, got " + steps);
        }
        this.cache = cache;
        this.steps = steps;
    }

    /** The setting. */
    public StepCache cache() {
        return cache;
    }

    /** The number of steps of the generation. */
    public int steps() {
        return steps;
    }

    /** The decisions so far, one per forward, in step order. */
    public List<Step> decisions() {
        return List.copyOf(log);
    }

    /** Whether the forward of step {@code index} (0-based) skipped the blocks; false for a step not run yet. */
    public boolean skipped(int index) {
        return index < log.size() && !log.get(index).computed();
    }

    /** The cache the forward applies: {@link StepCache.Kind#NONE} also for one that can never skip. */
    StepCache.Kind method() {
        return cache.skipsAny() ? cache.kind() : StepCache.Kind.NONE;
    }

    /** Logs a step that ran every block without measuring anything ({@link #method()} NONE). */
    void recordComputed() {
        nextStep();
        log.add(new Step(true, Double.NaN, Double.NaN));
    }

    /**
     * TeaCache's decision on this step's modulated input {@code modulated} of double block 0, which it keeps for the
     * next step. The first and the last step compute and reset the accumulator; another adds
     * {@code poly(mean|m − m_prev| / mean|m_prev|)} and computes (resetting it) once the sum reaches the threshold.
     *
     * @return whether the blocks run
     */
    boolean teaCacheComputes(Tensor modulated) {
        int step = nextStep();
        checkShape(modulated);
        double distance = Double.NaN;
        boolean compute;
        if (step == 0 || step == steps - 1) {
            compute = true;
            accumulated = 0;
        } else {
            distance = relativeL1(modulated, previousInput);
            accumulated += polynomial(distance);
            compute = !(accumulated < cache.threshold());
            if (compute) {
                accumulated = 0;
            }
        }
        previousInput = replace(previousInput, modulated);
        log.add(new Step(compute, distance, accumulated));
        return compute;
    }

    /**
     * First-Block Cache's decision on block 0's residual {@code r} of this step: the first step computes; another
     * skips if {@code mean|r − r*| / mean|r*| < threshold}. A computed step keeps {@code r} as the new {@code r*}.
     *
     * @return whether the remaining blocks run
     */
    boolean firstBlockComputes(Tensor r) {
        nextStep();
        checkShape(r);
        double distance = firstResidual == null ? Double.NaN : relativeL1(r, firstResidual);
        boolean compute = !(distance < cache.threshold());
        if (compute) {
            firstResidual = replace(firstResidual, r);
        }
        log.add(new Step(compute, distance, Double.NaN));
        return compute;
    }

    /** Copies the image tokens before the blocks that the cache may skip later (a computed step). */
    void keepInput(Tensor image) {
        if (residual == null) {
            residual = image.clone();
            residual.retainReference();
        } else {
            residual.copy_(image);
        }
    }

    /** Turns the copy of {@link #keepInput} into the blocks' residual: {@code after − before}, in place. */
    void keepResidual(Tensor after) {
        torch.rsub_out(residual, residual, after);
    }

    /** A skipped step: adds the stored residual to the image tokens in place and returns them. */
    Tensor addResidual(Tensor image) {
        return image.add_(residual);
    }

    private int nextStep() {
        if (closed) {
            throw new IllegalStateException("the step cache state is closed");
        }
        if (log.size() == steps) {
            throw new IllegalStateException("the step cache state of " + steps + " steps is used up: start a new one "
                    + "for each generation");
        }
        return log.size();
    }

    /** One generation has one token shape; another shape means the state was reused by mistake. */
    private void checkShape(Tensor image) {
        long[] shape = Tensors.shape(image);
        if (imageShape == null) {
            imageShape = shape;
        } else if (!Arrays.equals(imageShape, shape)) {
            throw new IllegalArgumentException("latents: this step cache state holds tokens "
                    + Arrays.toString(imageShape) + ", got " + Arrays.toString(shape) + " (one state per generation)");
        }
    }

    /** {@code mean|a − b| / mean|b|}, both means accumulated and divided in float32, as the authors compute it. */
    private static double relativeL1(Tensor a, Tensor b) {
        try (PointerScope scope = new PointerScope()) {
            ScalarTypeOptional f32 = new ScalarTypeOptional(ScalarType.Float);
            return a.sub(b).abs().mean(f32).div(b.abs().mean(f32)).item_double();
        }
    }

    /** The rescale polynomial at {@code x} by Horner's rule, highest power first (as numpy's {@code poly1d}). */
    private double polynomial(double x) {
        double y = 0;
        for (double c : cache.coefficients()) {
            y = y * x + c;
        }
        return y;
    }

    /** Keeps {@code next} past the forward's scope in place of {@code old}, which is released. */
    private static Tensor replace(Tensor old, Tensor next) {
        next.retainReference();
        if (old != null) {
            old.releaseReference();
        }
        return next;
    }

    /** Releases the stored tensors; the decision log stays readable. */
    @Override
    public void close() {
        for (Tensor t : new Tensor[]{previousInput, firstResidual, residual}) {
            if (t != null) {
                t.releaseReference();
            }
        }
        previousInput = null;
        firstResidual = null;
        residual = null;
        closed = true;
    }
}
