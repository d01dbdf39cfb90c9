package io.github.hunyuanvideo.nn;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.cuda.CUDAEvent;
import org.bytedeco.pytorch.cuda.CUDAStream;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch_cuda;

import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The weights of a sequence of layers (say the DiT's blocks, or the LLM's decoder layers) kept in host memory and
 * brought to the device one layer at a time, just before the layer runs: the layers' parameters are bound as views of
 * a ring of {@code prefetchDepth + 1} device slots (layer {@code i} always in slot {@code i mod slots}), and
 * {@link #acquire} / {@link #release} around each layer's forward copy the next layers into the slots that finished.
 * The layer objects do not know: they compute on the same tensors, with the same kernels, as when resident, so results
 * are bit-identical; only the device memory changes, from every layer's bytes to {@code slots} times the largest.
 *
 * <p>On CUDA the host copies are page-locked ({@code cudaHostRegister} on the host tensors, which avoids the caching
 * host allocator's rounding to a power of two) and each layer is one {@code cudaMemcpyAsync} on a copy stream of its
 * own, ordered with CUDA events: a slot is refilled once the compute stream has passed the layer that used it, and the
 * compute stream waits for a layer's copy before its first kernel. The host never waits, so copies hide behind the
 * compute of the layers before. On the CPU the copies are plain synchronous copies through the same bookkeeping (what
 * the CPU tests check).
 *
 * <p>Use it in order: bind every layer with {@link #placement(int)} (through {@link Parameters#placing}), then around
 * each forward of layer {@code i} call {@link #acquire(int) acquire(i)} and {@link #release(int) release(i)} (or run
 * it through {@link #with}). Layers may run in any order and any number of times (each acquire makes sure the slot holds the right layer); the ring is
 * prefetched for cyclic order (0, 1, …, n − 1, 0, …), the order of a denoising loop. Prefetching is complete when the
 * number of layers is a multiple of the slots; otherwise, at the wrap, the first layer shares a slot with the last one
 * and its copy cannot start early (callers choose the layer count, see {@link #slotsFor}). Not thread-safe.
 */
public final class StreamedWeights implements AutoCloseable {
    /** Every tensor starts at a multiple of this in its slot, as the caching allocator aligns its blocks. */
    public static final long ALIGNMENT = 512;

    private final Device device;
    private final boolean cuda;
    private final long[] layerBytes;
    private final Tensor[] host;
    private final Tensor[] slots;
    private final int[] occupant;
    private final boolean[] inUse;
    private final CUDAStream copyStream;
    private final CUDAEvent[] copied;
    private final CUDAEvent[] freed;
    private final boolean[] freedRecorded;
    private long bytesCopied;
    private long copies;
    private boolean closed;

    /**
     * Allocates the host copies and the device slots.
     *
     * @param device        where the layers compute
     * @param layerBytes    each layer's bytes as {@link #layerBytes(ScalarType, Consumer)} measures them
     * @param prefetchDepth layers copied ahead of the one computing, at least 1
     */
    public StreamedWeights(Device device, long[] layerBytes, int prefetchDepth) {
        if (layerBytes.length == 0) {
            throw new IllegalArgumentException("no layers to stream");
        }
        if (prefetchDepth < 1) {
            throw new IllegalArgumentException("prefetchDepth must be >= 1, got " + prefetchDepth);
        }
        this.device = new Device(device.type(), device.index());
        this.device.retainReference();
        this.cuda = device.is_cuda();
        this.layerBytes = layerBytes.clone();
        int n = layerBytes.length;
        int slotCount = slotsFor(n, prefetchDepth);
        long slotBytes = Arrays.stream(layerBytes).max().orElseThrow();
        host = new Tensor[n];
        slots = new Tensor[slotCount];
        occupant = new int[slotCount];
        inUse = new boolean[slotCount];
        Arrays.fill(occupant, -1);
        copied = new CUDAEvent[slotCount];
        freed = new CUDAEvent[slotCount];
        freedRecorded = new boolean[slotCount];
        try (PointerScope scope = new PointerScope()) {
            for (int i = 0; i < n; i++) {
                host[i] = bytes(layerBytes[i], new Device("cpu"));
                if (cuda) {
                    check(cudart.cudaHostRegister(host[i].data_ptr(), layerBytes[i], cudart.cudaHostRegisterDefault),
                            "cudaHostRegister of " + layerBytes[i] + " bytes");
                }
            }
            for (int s = 0; s < slotCount; s++) {
                slots[s] = bytes(slotBytes, device);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        if (cuda) {
            copyStream = torch_cuda.getStreamFromPool(false, deviceIndex());
            for (int s = 0; s < slotCount; s++) {
                copied[s] = new CUDAEvent();
                freed[s] = new CUDAEvent();
            }
        } else {
            copyStream = null;
        }
    }

    private static Tensor bytes(long n, Device device) {
        Tensor t = torch.empty(new long[]{n}, new TensorOptions(device).dtype(new ScalarTypeOptional(ScalarType.Byte)),
                new MemoryFormatOptional());
        t.retainReference();
        return t;
    }

    /**
     * The bytes one layer takes in a slot: what {@code bind} binds in {@code dtype} (as the model keeps it, after
     * any layout change), each tensor aligned to {@link #ALIGNMENT}. Measured on the meta device: nothing is
     * allocated. {@code bind} builds the layer from the parameters it is given and closes it.
     */
    public static long layerBytes(ScalarType dtype, Consumer<Parameters> bind) {
        return layerBytes(Parameters.meta(dtype), bind);
    }

    /**
     * {@link #layerBytes(ScalarType, Consumer)} binding through {@code meta}, fresh parameters on the meta device
     * (say {@link Parameters#meta(ScalarType, Parameters.Float8Weights)}: weights kept in float8 count as such),
     * which this closes.
     */
    public static long layerBytes(Parameters meta, Consumer<Parameters> bind) {
        long[] total = {0};
        try (PointerScope scope = new PointerScope(); Parameters p = meta) {
            if (!p.device().is_meta()) {
                throw new IllegalArgumentException("layer bytes are measured with parameters on the meta device");
            }
            p.placing((name, value) -> {
                total[0] = align(total[0]) + value.nbytes();
                return value;
            }, () -> {
                bind.accept(p);
                return null;
            });
        }
        return align(total[0]);
    }

    private static long align(long offset) {
        return (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /**
     * Where layer {@code layer}'s parameters go: each value is copied into the layer's host copy, and the model part
     * gets the view of its slot at the same offset. Bind the layer's parameters in one go, in a fixed order.
     *
     * @throws IllegalStateException if the layer binds more bytes than it was measured with
     */
    public Parameters.Placement placement(int layer) {
        checkLayer(layer);
        long[] offset = {0};
        Tensor slot = slots[layer % slots.length];
        return (name, value) -> {
            long at = align(offset[0]);
            long n = value.nbytes();
            if (at + n > layerBytes[layer]) {
                throw new IllegalStateException("layer " + layer + " binds more than its " + layerBytes[layer]
                        + " measured bytes at '" + name + "'");
            }
            offset[0] = at + n;
            long[] shape = Tensors.shape(value);
            ScalarType dtype = value.scalar_type().intern();
            host[layer].narrow(0, at, n).view(dtype).view(shape).copy_(value);
            return slot.narrow(0, at, n).view(dtype).view(shape);
        };
    }

    /**
     * {@code work} (layer {@code layer}'s forward) between {@link #acquire} and {@link #release}: the layer's
     * weights are on the device while its kernels are queued, and its slot is released even when {@code work} fails.
     */
    public <T> T with(int layer, Supplier<T> work) {
        acquire(layer);
        try {
            return work.get();
        } finally {
            release(layer);
        }
    }

    /**
     * Makes layer {@code layer}'s weights ready for the kernels queued next: on CUDA the compute stream waits for its
     * copy (the host does not), on the CPU the copy is done.
     */
    public void acquire(int layer) {
        checkLayer(layer);
        int s = layer % slots.length;
        if (inUse[s] && occupant[s] != layer) {
            throw new IllegalStateException("layer " + layer + " needs slot " + s + ", held by layer " + occupant[s]);
        }
        if (occupant[s] != layer) {
            load(layer);
        }
        inUse[s] = true;
        if (cuda) {
            copied[s].block(torch_cuda.getCurrentCUDAStream(deviceIndex()));
        }
    }

    /**
     * Marks layer {@code layer}'s kernels as queued: its slot may be refilled once the compute stream has passed
     * them. Starts the copies of the layers that follow, in cyclic order.
     */
    public void release(int layer) {
        checkLayer(layer);
        int s = layer % slots.length;
        if (!inUse[s] || occupant[s] != layer) {
            throw new IllegalStateException("layer " + layer + " was not acquired");
        }
        inUse[s] = false;
        if (cuda) {
            freed[s].record(torch_cuda.getCurrentCUDAStream(deviceIndex()));
            freedRecorded[s] = true;
        }
        prefetchAfter(layer);
    }

    /**
     * Copies the layers after {@code layer} (cyclically) into their slots, as far as slots are free: never over a
     * layer in use or one that comes earlier in that order (which would be evicted before it ran).
     */
    private void prefetchAfter(int layer) {
        int n = host.length;
        boolean[] upcoming = new boolean[n];
        for (int k = 1; k <= slots.length && k < n; k++) {
            int next = (layer + k) % n;
            int s = next % slots.length;
            if (occupant[s] != next) {
                if (inUse[s] || occupant[s] >= 0 && upcoming[occupant[s]]) {
                    return;
                }
                load(next);
            }
            upcoming[next] = true;
        }
    }

    /** Copies {@code layer} from its host copy into its slot, after the slot's last user. */
    private void load(int layer) {
        int s = layer % slots.length;
        long n = layerBytes[layer];
        if (cuda) {
            if (freedRecorded[s]) {
                freed[s].block(copyStream);
            }
            check(cudart.cudaMemcpyAsync(slots[s].data_ptr(), host[layer].data_ptr(), n,
                    cudart.cudaMemcpyHostToDevice, copyStream.stream()), "cudaMemcpyAsync of layer " + layer);
            copied[s].record(copyStream);
        } else {
            try (PointerScope scope = new PointerScope()) {
                slots[s].narrow(0, 0, n).copy_(host[layer]);
            }
        }
        occupant[s] = layer;
        bytesCopied += n;
        copies++;
    }

    private byte deviceIndex() {
        return (byte) (device.index() < 0 ? 0 : device.index());
    }

    private void checkLayer(int layer) {
        if (closed) {
            throw new IllegalStateException("streamed weights are closed");
        }
        if (layer < 0 || layer >= host.length) {
            throw new IndexOutOfBoundsException("layer " + layer + " of " + host.length);
        }
    }

    private static void check(int status, String what) {
        if (status != 0) {
            throw new IllegalStateException(what + " failed: " + cudart.cudaGetErrorString(status).getString());
        }
    }

    /** The device slots {@code layers} streamed layers use at {@code prefetchDepth}. */
    public static int slotsFor(int layers, int prefetchDepth) {
        return Math.min(prefetchDepth + 1, layers);
    }

    /** Number of layers. */
    public int layers() {
        return host.length;
    }

    /** Number of device slots. */
    public int slots() {
        return slots.length;
    }

    /** Device bytes of the slots (what streaming costs on the device). */
    public long deviceBytes() {
        return slots.length * slots[0].nbytes();
    }

    /** Host bytes of the layers' copies. */
    public long hostBytes() {
        return Arrays.stream(layerBytes).sum();
    }

    /** Bytes copied to the device so far. */
    public long bytesCopied() {
        return bytesCopied;
    }

    /** Layer copies made so far. */
    public long copies() {
        return copies;
    }

    /** Frees the slots and the host copies, after the copies in flight. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (copyStream != null) {
            copyStream.synchronize();
            torch.cuda_synchronize();
        }
        for (Tensor t : slots) {
            if (t != null) {
                t.releaseReference();
            }
        }
        for (Tensor t : host) {
            if (t != null) {
                if (cuda) {
                    cudart.cudaHostUnregister(t.data_ptr());
                }
                t.releaseReference();
            }
        }
        for (CUDAEvent e : copied) {
            if (e != null) {
                e.close();
            }
        }
        for (CUDAEvent e : freed) {
            if (e != null) {
                e.close();
            }
        }
        device.releaseReference();
    }
}
