package io.github.hunyuanvideo.sampler.scheduler;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import java.util.Locale;

/**
 * The flow-matching Euler scheduler of HunyuanVideo (the original's {@code FlowMatchDiscreteScheduler}).
 *
 * <p>{@link #setTimesteps(int)} builds {@code σ = linspace(1, 0, N+1)} in float32, applies the shift
 * {@code σ ← sσ / (1 + (s−1)σ)} and, only when {@code reverse} is false, flips it to {@code 1 − σ}; the model is fed
 * {@code t = 1000·σ[i]} for {@code i < N}. All of it runs as float32 libtorch CPU ops in the original's order, so the
 * values are the original's bit for bit.
 *
 * <p><b>Direction.</b> The released checkpoint needs σ to run from 1 to 0 ({@code reverse = true}), which is this
 * class's default. The official command line defaults to {@code --flow-reverse} off, which runs the schedule from
 * 0 to 1 and produces garbage; {@code reverse = false} is kept only for parity with that flag.
 *
 * <p>{@link #step} is one Euler step {@code x ← fp32(x) + fp32(v)·(σ[i+1] − σ[i])}; the step index is found by
 * matching the first timestep against the schedule and then advances by one per call. An instance holds no native
 * memory beyond the call in progress and is not thread-safe.
 */
public final class FlowMatchDiscreteScheduler {
    /** The only solver the original implements. */
    public static final String EULER = "euler";

    private final int numTrainTimesteps;
    private final double shift;
    private final boolean reverse;
    private float[] sigmas;
    private float[] timesteps;
    private int stepIndex = -1;

    /**
     * @param numTrainTimesteps the training timestep count (1000 in the original): the model timestep is σ times it
     * @param shift the shift {@code s} of the schedule (the CLI's {@code --flow-shift}, 7.0 by default); must be > 0
     * @param reverse {@code true} for σ from 1 to 0, the direction the released checkpoint needs
     * @param solver only {@code "euler"} is accepted, as in the original
     * @throws IllegalArgumentException naming the argument that is out of range
     */
    public FlowMatchDiscreteScheduler(int numTrainTimesteps, double shift, boolean reverse, String solver) {
        if (numTrainTimesteps < 1) {
            throw new IllegalArgumentException("numTrainTimesteps must be >= 1, got " + numTrainTimesteps);
        }
        if (!(shift > 0) || Double.isInfinite(shift)) {
            throw new IllegalArgumentException("flowShift must be a finite number > 0, got " + shift);
        }
        if (solver == null || !EULER.equals(solver.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("flowSolver must be 'euler' (the only solver of the original), got '"
                    + solver + "'");
        }
        this.numTrainTimesteps = numTrainTimesteps;
        this.shift = shift;
        this.reverse = reverse;
    }

    /** The scheduler the pipeline uses: 1000 training timesteps, Euler, σ from 1 to 0, the given shift. */
    public static FlowMatchDiscreteScheduler of(double shift) {
        return new FlowMatchDiscreteScheduler(1000, shift, true, EULER);
    }

    /**
     * Builds the schedule for {@code numInferenceSteps} steps and resets the step index.
     *
     * @throws IllegalArgumentException if {@code numInferenceSteps < 1}
     */
    public void setTimesteps(int numInferenceSteps) {
        if (numInferenceSteps < 1) {
            throw new IllegalArgumentException("inferSteps must be >= 1, got " + numInferenceSteps);
        }
        Tensor s = torch.linspace(new Scalar(1.0), new Scalar(0.0), numInferenceSteps + 1,
                new TensorOptions(ScalarType.Float));
        // sd3 time shift, in the original's operation order: (s·σ) / (1 + (s−1)·σ), all float32
        s = s.mul(new Scalar(shift)).div(s.mul(new Scalar(shift - 1)).add(new Scalar(1.0)));
        if (!reverse) {
            s = torch.rsub(s, new Scalar(1.0));
        }
        Tensor t = s.slice(0, new org.bytedeco.pytorch.LongOptional(0),
                new org.bytedeco.pytorch.LongOptional(numInferenceSteps), 1).mul(new Scalar(numTrainTimesteps));
        this.sigmas = Tensors.toFloatArray(s);
        this.timesteps = Tensors.toFloatArray(t);
        this.stepIndex = -1;
    }

    /** The N+1 sigmas (a copy). */
    public float[] sigmas() {
        return requireSchedule().clone();
    }

    /** The N model timesteps {@code 1000·σ[i]} (a copy). */
    public float[] timesteps() {
        requireSchedule();
        return timesteps.clone();
    }

    /** Number of inference steps of the current schedule. */
    public int numSteps() {
        return requireSchedule().length - 1;
    }

    /** The index the next {@link #step} will use, or -1 before the first step. */
    public int stepIndex() {
        return stepIndex;
    }

    /** {@code σ[i+1] − σ[i]} in float32 (negative in the reverse direction). */
    public float dt(int i) {
        float[] s = requireSchedule();
        return s[i + 1] - s[i];
    }

    /**
     * One Euler step: returns {@code fp32(sample) + fp32(modelOutput)·(σ[i+1] − σ[i])} (a new float32 tensor on the
     * sample's device), then advances the step index.
     *
     * @param modelOutput the velocity predicted by the model, any float dtype
     * @param timestep the model timestep of this step; on the first call it locates the step index in the schedule
     * @param sample the current latents
     * @throws IllegalStateException if the schedule is not set, is already finished, or {@code timestep} is not in it
     */
    public Tensor step(Tensor modelOutput, float timestep, Tensor sample) {
        requireSchedule();
        if (stepIndex < 0) {
            stepIndex = indexForTimestep(timestep);
        }
        if (stepIndex >= timesteps.length) {
            throw new IllegalStateException("scheduler already ran all " + timesteps.length + " steps");
        }
        float dt = dt(stepIndex);
        Tensor x = asFloat(sample);
        Tensor v = asFloat(modelOutput);
        Tensor prev = x.add(v.mul(new Scalar(dt)));
        stepIndex++;
        return prev;
    }

    private int indexForTimestep(float timestep) {
        // Same rule as the original: when t occurs twice (possible with shift 1 and reverse off), take the second.
        int first = -1;
        for (int i = 0; i < timesteps.length; i++) {
            if (timesteps[i] == timestep) {
                if (first >= 0) {
                    return i;
                }
                first = i;
            }
        }
        if (first < 0) {
            throw new IllegalStateException("timestep " + timestep + " is not in the schedule "
                    + Arrays.toString(timesteps));
        }
        return first;
    }

    private static Tensor asFloat(Tensor t) {
        return t.scalar_type().intern() == ScalarType.Float ? t : t.to(ScalarType.Float);
    }

    private float[] requireSchedule() {
        if (sigmas == null) {
            throw new IllegalStateException("call setTimesteps(n) before using the schedule");
        }
        return sigmas;
    }

    public double shift() {
        return shift;
    }

    public boolean reverse() {
        return reverse;
    }

    public int numTrainTimesteps() {
        return numTrainTimesteps;
    }
}
