package io.github.hunyuanvideo.nn.parallel;

import io.github.hunyuanvideo.nn.Tensors;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;

/** A tensor only one rank has, copied to every rank of a group without the others knowing its shape or dtype. */
public final class TensorBroadcast {
    private TensorBroadcast() {
    }

    /**
     * Rank {@code root}'s {@code tensor} on every rank: its dtype and shape go first (a small long tensor), then its
     * values. Every rank calls it with the same {@code root}, {@code dims} and {@code device}.
     *
     * @param tensor the tensor on {@code root} ({@code dims} dimensions, on {@code device}); ignored elsewhere
     *               (may be {@code null})
     * @return on {@code root} its tensor made contiguous, elsewhere a new tensor holding the same values
     */
    public static Tensor fromRank(Communicator group, int root, Tensor tensor, int dims, Device device) {
        boolean sender = group.rank() == root;
        long[] header = new long[dims + 1];
        if (sender) {
            if (tensor.dim() != dims) {
                throw new IllegalArgumentException("expected a tensor of " + dims + " dimensions, got "
                        + Arrays.toString(Tensors.shape(tensor)));
            }
            header[0] = tensor.scalar_type().value;
            System.arraycopy(Tensors.shape(tensor), 0, header, 1, dims);
        }
        Tensor head = Tensors.fromLongs(header, header.length).to(device, ScalarType.Long);
        group.broadcast(head, root);
        long[] got = Tensors.toLongArray(head.cpu());
        Tensor out = sender ? tensor.contiguous() : torch.empty(Arrays.copyOfRange(got, 1, got.length),
                new TensorOptions(device).dtype(new ScalarTypeOptional(scalarType(got[0]))),
                new MemoryFormatOptional());
        group.broadcast(out, root);
        return out;
    }

    private static ScalarType scalarType(long code) {
        for (ScalarType t : ScalarType.values()) {
            if (t.value == code) {
                return t;
            }
        }
        throw new IllegalStateException("unknown scalar type code " + code);
    }
}
