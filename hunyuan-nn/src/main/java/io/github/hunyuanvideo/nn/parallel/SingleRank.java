package io.github.hunyuanvideo.nn.parallel;

import org.bytedeco.pytorch.Tensor;

/** {@link Communicator#single()}: world size 1, with the argument checks of the real groups. */
final class SingleRank implements Communicator {
    static final SingleRank INSTANCE = new SingleRank();

    private SingleRank() {
    }

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int worldSize() {
        return 1;
    }

    @Override
    public void allToAll(Tensor output, Tensor input) {
        Collectives.checkAllToAll(output, input, 1);
        copy(output, input);
    }

    @Override
    public void allGather(Tensor output, Tensor input) {
        Collectives.checkAllGather(output, input, 1);
        copy(output, input);
    }

    @Override
    public void broadcast(Tensor tensor, int root) {
        Collectives.checkBroadcast(tensor, root, 1);
    }

    @Override
    public void allReduceSum(Tensor tensor) {
        Collectives.checkDense("allReduceSum", tensor);
    }

    @Override
    public void barrier() {
    }

    /** The only rank forms a group of one again: this one. */
    @Override
    public Communicator split(int color) {
        Collectives.checkColor(color);
        return this;
    }

    @Override
    public void close() {
    }

    private static void copy(Tensor output, Tensor input) {
        output.copy_(input);  // a no-op when both are the same tensor
    }
}
