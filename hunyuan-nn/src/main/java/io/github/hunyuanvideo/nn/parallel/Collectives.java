package io.github.hunyuanvideo.nn.parallel;

import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;

/** The argument checks every {@link Communicator} makes before a collective, with messages naming the operation. */
final class Collectives {
    private Collectives() {
    }

    /** {@link Communicator#allToAll}: output and input of one shape and dtype, dimension 0 a multiple of W. */
    static void checkAllToAll(Tensor output, Tensor input, int worldSize) {
        checkDense("allToAll", output);
        checkDense("allToAll", input);
        long[] shape = input.sizes().vec().get();
        if (!Arrays.equals(shape, output.sizes().vec().get()) || !sameType(output, input)) {
            throw new IllegalArgumentException("allToAll: output " + describe(output) + " must match input "
                    + describe(input));
        }
        if (shape.length == 0 || shape[0] % worldSize != 0) {
            throw new IllegalArgumentException("allToAll: dimension 0 of " + describe(input)
                    + " must be a multiple of the world size " + worldSize);
        }
    }

    /** {@link Communicator#allGather}: output {@code [W·n, …]} of the dtype of input {@code [n, …]}. */
    static void checkAllGather(Tensor output, Tensor input, int worldSize) {
        checkDense("allGather", output);
        checkDense("allGather", input);
        long[] expected = input.sizes().vec().get();
        if (expected.length == 0) {
            throw new IllegalArgumentException("allGather: input must have a dimension 0, got a scalar");
        }
        expected[0] *= worldSize;
        if (!Arrays.equals(expected, output.sizes().vec().get()) || !sameType(output, input)) {
            throw new IllegalArgumentException("allGather: output " + describe(output) + " must be "
                    + Arrays.toString(expected) + " " + input.scalar_type() + " for input " + describe(input));
        }
    }

    /** {@link Communicator#broadcast}: a root inside the group. */
    static void checkBroadcast(Tensor tensor, int root, int worldSize) {
        checkDense("broadcast", tensor);
        if (root < 0 || root >= worldSize) {
            throw new IllegalArgumentException("broadcast: root " + root + " outside a group of " + worldSize);
        }
    }

    /** {@link Communicator#split}: a color that names a sub-group. */
    static void checkColor(int color) {
        if (color < 0) {
            throw new IllegalArgumentException("split: color must be >= 0, got " + color);
        }
    }

    /** A contiguous tensor, which the transports read and write as one flat buffer. */
    static void checkDense(String op, Tensor t) {
        if (!t.is_contiguous()) {
            throw new IllegalArgumentException(op + ": tensors must be contiguous, got a strided " + describe(t));
        }
    }

    /**
     * Whether the two (contiguous) tensors' bytes overlap: then the input is read from a copy, since the transports
     * write the output while still reading the input.
     */
    static boolean overlap(Tensor a, Tensor b) {
        long aStart = a.data_ptr().address();
        long bStart = b.data_ptr().address();
        return aStart < bStart + b.nbytes() && bStart < aStart + a.nbytes();
    }

    /** Same dtype ({@code intern()}: a native call returns a copy of the enum constant). */
    private static boolean sameType(Tensor a, Tensor b) {
        return a.scalar_type().intern() == b.scalar_type().intern();
    }

    static String describe(Tensor t) {
        return Arrays.toString(t.sizes().vec().get()) + " " + t.scalar_type() + " on " + t.device().str().getString();
    }
}
