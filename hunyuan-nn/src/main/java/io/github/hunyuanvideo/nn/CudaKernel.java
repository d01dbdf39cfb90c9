package io.github.hunyuanvideo.nn;

import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;

import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch_cuda;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static org.bytedeco.cuda.global.cudart.CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES;
import static org.bytedeco.cuda.global.cudart.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES;
import static org.bytedeco.cuda.global.cudart.CU_FUNC_ATTRIBUTE_NUM_REGS;
import static org.bytedeco.cuda.global.cudart.cuDeviceGet;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetAttribute;
import static org.bytedeco.cuda.global.cudart.cuFuncGetAttribute;
import static org.bytedeco.cuda.global.cudart.cuFuncSetAttribute;
import static org.bytedeco.cuda.global.cudart.cuGetErrorString;
import static org.bytedeco.cuda.global.cudart.cuCtxSetCurrent;
import static org.bytedeco.cuda.global.cudart.cuDevicePrimaryCtxRetain;
import static org.bytedeco.cuda.global.cudart.cuInit;
import static org.bytedeco.cuda.global.cudart.cuLaunchKernel;
import static org.bytedeco.cuda.global.cudart.cuModuleGetFunction;
import static org.bytedeco.cuda.global.cudart.cuModuleLoadData;
import static org.bytedeco.cuda.global.nvrtc.nvrtcCompileProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcCreateProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcDestroyProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetCUBIN;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetCUBINSize;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetErrorString;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetProgramLog;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetProgramLogSize;

/**
 * A CUDA kernel of our own, compiled from source at run time with NVRTC into a cubin, loaded with the driver API
 * ({@code cuModuleLoadData}) and launched on libtorch's current stream on libtorch-allocated tensors. No JNI of our
 * own: Bytedeco's CUDA presets bind NVRTC and the driver API.
 *
 * <p>This class touches {@code torch_cuda} and {@code org.bytedeco.cuda.*}, whose natives CPU-only builds lack: load
 * it only after {@link CudaMemory#available()} said yes. The module is loaded into the context current on the calling
 * thread, libtorch's primary context of the device the caller has used; modules live until the process ends.
 */
public final class CudaKernel {
    private final CUfunc_st function;
    private final byte device;
    private final String compileLog;
    private final int sharedBytes;

    private CudaKernel(CUfunc_st function, byte device, String compileLog, int sharedBytes) {
        this.function = function;
        this.device = device;
        this.compileLog = compileLog;
        this.sharedBytes = sharedBytes;
    }

    /**
     * This kernel, launched with {@code bytes} of dynamic shared memory ({@code extern __shared__}); the driver is told
     * that the kernel may use that much (above 48 KiB it refuses a launch otherwise).
     *
     * @throws IllegalStateException if the device cannot give a block that much
     */
    public CudaKernel withSharedMemory(int bytes) {
        usePrimaryContext(device);
        driver(cuFuncSetAttribute(function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
                "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES, " + bytes + ")");
        return new CudaKernel(function, device, compileLog, bytes);
    }

    /** Registers per thread of the loaded kernel (the driver's figure, what occupancy is computed from). */
    public int registers() {
        return attribute(CU_FUNC_ATTRIBUTE_NUM_REGS, "NUM_REGS");
    }

    /** Local memory per thread of the loaded kernel in bytes: its stack frame, register spills included. */
    public int localBytes() {
        return attribute(CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, "LOCAL_SIZE_BYTES");
    }

    private int attribute(int attribute, String name) {
        int[] value = new int[1];
        usePrimaryContext(device);
        driver(cuFuncGetAttribute(value, attribute, function), "cuFuncGetAttribute(" + name + ")");
        return value[0];
    }

    /**
     * NVRTC's log of the compilation: warnings, and with {@code --ptxas-options=-v} ptxas's figures (seen missing on
     * the lent GPU for sources compiled before with the same options; {@link #registers()} always answers).
     */
    public String compileLog() {
        return compileLog;
    }

    /**
     * Compiles {@code source} once with NVRTC and loads each of {@code kernelNames} ({@code extern "C"} functions)
     * from it.
     *
     * @param fileName the name NVRTC's messages give the source
     * @param device   the CUDA device index the kernels will run on (its current stream is used)
     * @param options  NVRTC options, e.g. {@code --gpu-architecture=sm_90a}
     * @return the kernels by name, in the order given
     * @throws IllegalStateException on a compile error (with NVRTC's log) or a driver error (with its message)
     */
    public static Map<String, CudaKernel> compileAll(String source, String fileName, List<String> kernelNames,
                                                     int device, String... options) {
        try (PointerScope scope = new PointerScope()) {
            _nvrtcProgram program = new _nvrtcProgram();
            nvrtc(nvrtcCreateProgram(program, new BytePointer(source), new BytePointer(fileName), 0,
                    (PointerPointer) null, (PointerPointer) null), "nvrtcCreateProgram");
            try {
                PointerPointer opts = new PointerPointer(options.length);
                for (int i = 0; i < options.length; i++) {
                    opts.put(i, new BytePointer(options[i]));
                }
                int rc = nvrtcCompileProgram(program, options.length, opts);
                if (rc != 0) {
                    throw new IllegalStateException("NVRTC could not compile " + fileName + " ("
                            + nvrtcGetErrorString(rc).getString() + "):\n" + log(program).strip());
                }
                SizeTPointer size = new SizeTPointer(1);
                nvrtc(nvrtcGetCUBINSize(program, size), "nvrtcGetCUBINSize");
                BytePointer cubin = new BytePointer(size.get());
                nvrtc(nvrtcGetCUBIN(program, cubin), "nvrtcGetCUBIN");
                CUmod_st module = new CUmod_st();
                usePrimaryContext(device);
                driver(cuModuleLoadData(module, cubin), "cuModuleLoadData(" + fileName + ")");
                // Handles of a module that lives as long as the process: outside any scope.
                module.retainReference();
                String compileLog = log(program);
                Map<String, CudaKernel> kernels = new LinkedHashMap<>();
                for (String name : kernelNames) {
                    CUfunc_st function = new CUfunc_st();
                    driver(cuModuleGetFunction(function, module, name), "cuModuleGetFunction(" + name + ")");
                    function.retainReference();
                    kernels.put(name, new CudaKernel(function, (byte) device, compileLog, 0));
                }
                return kernels;
            } finally {
                nvrtcDestroyProgram(program);
            }
        }
    }

    /** Each device's primary context, retained once (it lives as long as the process). */
    private static final Map<Integer, CUctx_st> PRIMARY_CONTEXTS = new ConcurrentHashMap<>();

    /**
     * Makes the device's primary context, the one libtorch's runtime-API calls use, current on this thread: the driver
     * API (module loads, launches) has no context on a thread until one is set, even where libtorch has run kernels.
     */
    private static void usePrimaryContext(int device) {
        CUctx_st context = PRIMARY_CONTEXTS.computeIfAbsent(device, d -> {
            try (PointerScope scope = new PointerScope()) {
                driver(cuInit(0), "cuInit");
                IntPointer handle = new IntPointer(1);
                driver(cuDeviceGet(handle, d), "cuDeviceGet");
                CUctx_st retained = new CUctx_st();
                driver(cuDevicePrimaryCtxRetain(retained, handle.get()), "cuDevicePrimaryCtxRetain");
                retained.retainReference();
                return retained;
            }
        });
        driver(cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** The compute capability of CUDA device {@code device} as {@code major·10 + minor} (90 for Hopper). */
    public static int computeCapability(int device) {
        try (PointerScope scope = new PointerScope()) {
            driver(cuInit(0), "cuInit");
            IntPointer handle = new IntPointer(1);
            driver(cuDeviceGet(handle, device), "cuDeviceGet");
            IntPointer major = new IntPointer(1);
            IntPointer minor = new IntPointer(1);
            driver(cuDeviceGetAttribute(major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, handle.get()), "major");
            driver(cuDeviceGetAttribute(minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, handle.get()), "minor");
            return major.get() * 10 + minor.get();
        }
    }

    /**
     * Queues the kernel on libtorch's current stream of the device. Arguments map to the kernel's parameters in
     * order: a {@link Tensor} passes its {@code data_ptr()} (the caller keeps it alive until the stream is done,
     * which libtorch's caching allocator does for tensors used on that same stream), {@link Integer} an {@code int},
     * {@link Long} a {@code long}, {@link Float} a {@code float}.
     *
     * @throws IllegalStateException if the launch fails
     */
    public void launch(int gridX, int gridY, int threads, Object... args) {
        try (PointerScope scope = new PointerScope()) {
            PointerPointer params = new PointerPointer(args.length);
            for (int i = 0; i < args.length; i++) {
                params.put(i, parameter(args[i]));
            }
            CUstream_st stream = torch_cuda.getCurrentCUDAStream(device).asCUstream_st();
            usePrimaryContext(device);
            driver(cuLaunchKernel(function, gridX, gridY, 1, threads, 1, 1, sharedBytes, stream, params, null),
                    "cuLaunchKernel");
        }
    }

    private static Pointer parameter(Object arg) {
        if (arg instanceof Tensor t) {
            return new LongPointer(1).put(t.data_ptr().address());
        } else if (arg instanceof Integer i) {
            return new IntPointer(1).put(i);
        } else if (arg instanceof Long l) {
            return new LongPointer(1).put(l);
        } else if (arg instanceof Float f) {
            return new FloatPointer(1).put(f);
        }
        throw new IllegalArgumentException("kernel argument of unsupported type: " + arg);
    }

    private static String log(_nvrtcProgram program) {
        SizeTPointer size = new SizeTPointer(1);
        if (nvrtcGetProgramLogSize(program, size) != 0 || size.get() <= 1) {
            return "";
        }
        BytePointer log = new BytePointer(size.get());
        nvrtcGetProgramLog(program, log);
        return log.getString();
    }

    private static void nvrtc(int rc, String call) {
        if (rc != 0) {
            throw new IllegalStateException(call + ": " + nvrtcGetErrorString(rc).getString());
        }
    }

    private static void driver(int rc, String call) {
        if (rc != 0) {
            PointerPointer message = new PointerPointer(1);
            String text = cuGetErrorString(rc, message) == 0 && message.get(0) != null
                    ? " (" + message.getString(0) + ")" : "";
            message.close();
            throw new IllegalStateException(call + ": CUDA error " + rc + text);
        }
    }
}
