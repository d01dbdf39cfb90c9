package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.CudaKernel;
import io.github.hunyuanvideo.nn.CudaMemory;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.Tensors;

/**
 * 8-bit attention (issue 16). Over {@code [B, L, H, D]}
 * q/k/v, scale 1/√D, no mask:
 * <ol>
 *   <li>K is smoothed: its per-channel mean over the tokens (per batch and head) is subtracted, which adds the same
 *   constant to every score of a query row and so leaves softmax unchanged, but removes the offset real DiT keys
 *   carry from the INT8 range.</li>
 *   <li>Q and K are quantized to INT8, one scale per block of {@value #BLOCK} tokens per head
 *   ({@code scale = max|x| / 127}, round half to even); V is rounded to bf16 (as it is for bf16 input). Sequences are
 *   zero-padded to a multiple of {@value #ROWS_PER_LAUNCH_BLOCK}; padded keys are masked.</li>
 *   <li>{@code S = (Qi8·Ki8ᵀ)·(sq·sk)·scale}; online softmax over blocks of {@value #BLOCK} keys in float32; P is
 *   {@code exp(S − running max)} rounded to bf16; {@code l} sums P before rounding; {@code O = Σ P16·V} in float32;
 *   output {@code bf16(O / l)} in {@code [B, L, H, D]}.</li>
 * </ol>
 * P·V is a BF16 product ({@link ValueProduct#BF16}, relative L1 ≈ 1.3 % against float32 attention on Gaussian
 * inputs, within issue 16's 3 %) or, on request, an FP8 one ({@link ValueProduct#FP8}: {@code e4m3(8·P)/8 ·
 * e4m3(V/8)·8}, at twice the tensor rate, ≈ 4.1 %, over that bar; see {@code docs/dit.md}).
 * {@link #reference} does this with torch ops in float32 (any device, the CPU included); {@link #attend} runs the
 * CUDA kernel {@code int8_attention.cu}, which does the same arithmetic, on Hopper, and bf16 SDPA elsewhere (the
 * kernel keeps a row's running maximum until a tile's partial sums of P pass 2³² (BF16) or 56 (FP8), which leaves the
 * softmax unchanged and P's rounding relative to P).
 */
public final class QuantizedAttention {
    /** Tokens per quantization block of Q and K, and per tile of the kernel. */
    public static final int BLOCK = 64;
    /**
     * The head dimension the kernel is written for (the DiT's); smaller ones run with their channels zero-padded to it,
     * which changes no score and no kept output channel.
     */
    public static final int HEAD_DIM = 128;
    /** Query rows per thread block of the kernel: sequences are padded to a multiple of it. */
    static final int ROWS_PER_LAUNCH_BLOCK = 128;
    /**
     * The attention kernel's threads per block: two warpgroups of 64 query rows and one loading the tiles
     * ({@code THREADS} in the source, which traps on a launch with another count).
     */
    static final int ATTENTION_THREADS = 384;
    /**
     * Elements of a tile image of {@value #BLOCK} rows: bytes of INT8 Q or K (see {@link #rowTiles}), bf16 values of V
     * (see {@link #kernelV}).
     */
    static final int TILE_ELEMENTS = BLOCK * HEAD_DIM;
    /** The attention kernel's ring of K/V tiles in shared memory: {@code STAGES} in the source, a {@code -D} knob. */
    static final int STAGES = 3;
    static final double INT8_MAX = 127;
    /** Floor of a scale, so that an all-zero block quantizes to zeros instead of 0/0. */
    static final double MIN_SCALE = 1e-30;
    /** P's factor in an FP8 product (V takes its inverse): P·8 and V/8 stay within e4m3's normal range. */
    static final double FP8_P_SCALE = 8;
    /** e4m3's largest finite value; the kernel's conversion saturates there ({@code satfinite}). */
    static final double E4M3_MAX = 448;
    private static final Logger LOG = LoggerFactory.getLogger(QuantizedAttention.class);

    private QuantizedAttention() {
    }

    /** The precision of the kernel's P·V product. */
    public enum ValueProduct {
        /** P and V in bf16, float32 sums: the error is INT8 Q·Kᵀ's own (relative L1 ≈ 1.3 % on Gaussian inputs). */
        BF16,
        /**
         * P·8 and V/8 in e4m3 ({@code -DPV_FP8_EVERY=1}), float32 sums, at twice BF16's tensor rate: ×1.29 faster
         * at 720p on an H200, relative L1 ≈ 4.1 % on Gaussian inputs, cosine 0.9992 ({@code docs/benchmarks.md}).
         */
        FP8;

        /** The kernel source's definitions for this product ({@link #compileKernels}). */
        public String[] defines() {
            return this == FP8 ? new String[]{"PV_FP8_EVERY=1"} : new String[0];
        }
    }

    /**
     * The quantized operands: {@code q}, {@code k} INT8 and {@code v} bf16, each {@code [N, padded, D]} contiguous
     * with {@code N = B·H} and {@code padded} the length rounded up to {@value #ROWS_PER_LAUNCH_BLOCK} (zero rows
     * after {@code length}); {@code qScale}, {@code kScale} float {@code [N, padded/64]}.
     */
    public record Quantized(Tensor q, Tensor qScale, Tensor k, Tensor kScale, Tensor v, long batch, long length,
                            long heads) {
    }

    /** Quantizes {@code [B, L, H, D]} q/k/v (any dtype and strides) with torch ops on their device. */
    public static Quantized quantize(Tensor q, Tensor k, Tensor v) {
        long batch = q.size(0);
        long len = q.size(1);
        long heads = q.size(2);
        long padded = ceilDiv(len, ROWS_PER_LAUNCH_BLOCK) * ROWS_PER_LAUNCH_BLOCK;
        Tensor kf = headsFirst(k);
        kf = kf.sub(kf.mean(new long[]{1}, true, new ScalarTypeOptional()));
        Tensor[] qi8 = int8Blocks(padTokens(headsFirst(q), padded));
        Tensor[] ki8 = int8Blocks(padTokens(kf, padded));
        Tensor v16 = padTokens(headsFirst(v), padded).to(ScalarType.BFloat16);
        return new Quantized(qi8[0], qi8[1], ki8[0], ki8[1], v16, batch, len, heads);
    }

    /** {@code [B, L, H, D]} → float32 {@code [B·H, L, D]} contiguous. */
    static Tensor headsFirst(Tensor x) {
        return x.to(ScalarType.Float).transpose(1, 2).reshape(x.size(0) * x.size(2), x.size(1), x.size(3));
    }

    /** {@code [N, L, D]} → {@code [N, padded, D]} with zero rows after L. */
    static Tensor padTokens(Tensor x, long padded) {
        if (x.size(1) == padded) {
            return x.contiguous();
        }
        Tensor out = torch.zeros(new long[]{x.size(0), padded, x.size(2)}, new TensorOptions(x.device())
                .dtype(new ScalarTypeOptional(x.scalar_type())));
        out.narrow(1, 0, x.size(1)).copy_(x);
        return out;
    }

    /**
     * Float {@code [N, padded, D]} → {INT8 values {@code [N, padded, D]}, float scales {@code [N, padded/64]}}:
     * {@code scale = max|x| / 127} over each block of {@value #BLOCK} tokens, {@code round(x / scale)}.
     */
    static Tensor[] int8Blocks(Tensor x) {
        long n = x.size(0);
        long blocks = x.size(1) / BLOCK;
        Tensor grouped = x.reshape(n, blocks, BLOCK * x.size(2));
        Tensor scale = grouped.abs().amax(new long[]{2}, false).div(new Scalar(INT8_MAX))
                .clamp(new ScalarOptional(new Scalar(MIN_SCALE)), new ScalarOptional());
        Tensor values = grouped.div(scale.unsqueeze(2)).round()
                .clamp(new ScalarOptional(new Scalar(-INT8_MAX)), new ScalarOptional(new Scalar(INT8_MAX)))
                .to(ScalarType.Char).reshape(x.size(0), x.size(1), x.size(2));
        return new Tensor[]{values, scale};
    }

    /**
     * The quantized algorithm in torch ops, float32 math, on the inputs' device: what the kernel computes, op for op
     * (its FP8 P·V rounds P relative to a row's maximum so far, the kernel relative to its reference value: the same
     * error, not the same bits).
     *
     * @param q {@code [B, L, H, D]}, any dtype and strides
     * @return bf16 {@code [B, L, H, D]} contiguous
     */
    public static Tensor reference(Tensor q, Tensor k, Tensor v, ValueProduct valueProduct) {
        return Scopes.scoped(() -> {
            Quantized z = quantize(q, k, v);
            long n = z.q().size(0);
            long padded = z.q().size(1);
            long dim = z.q().size(2);
            float softmaxScale = (float) (1 / Math.sqrt(dim));
            TensorOptions f32 = new TensorOptions(q.device()).dtype(new ScalarTypeOptional(ScalarType.Float));
            Tensor qv = z.q().to(ScalarType.Float);
            Tensor rowScale = z.qScale().repeat_interleave(BLOCK, new LongOptional(1),
                    new LongOptional()).unsqueeze(2);
            Tensor m = torch.full(new long[]{n, padded, 1}, new Scalar(Double.NEGATIVE_INFINITY), f32);
            Tensor l = torch.zeros(new long[]{n, padded, 1}, f32);
            Tensor o = torch.zeros(new long[]{n, padded, dim}, f32);
            for (long kb = 0; kb < ceilDiv(z.length(), BLOCK); kb++) {
                try (PointerScope scope = new PointerScope()) {
                    long keys = Math.min(BLOCK, z.length() - kb * BLOCK);  // padding keys are masked: left out
                    Tensor kt = z.k().narrow(1, kb * BLOCK, keys).to(ScalarType.Float).transpose(1, 2);
                    Tensor vb = z.v().narrow(1, kb * BLOCK, keys).to(ScalarType.Float);
                    Tensor scale = rowScale.mul(z.kScale().narrow(1, kb, 1).unsqueeze(2)).mul(new Scalar(softmaxScale));
                    Tensor s = qv.matmul(kt).mul(scale);
                    Tensor mNew = m.maximum(s.amax(new long[]{2}, true));
                    Tensor alpha = m.sub(mNew).exp();
                    Tensor p = s.sub(mNew).exp();
                    l.mul_(alpha).add_(p.sum(new long[]{2}, true, new ScalarTypeOptional()));
                    Tensor pv = valueProduct == ValueProduct.FP8
                            ? e4m3(p.mul(new Scalar(FP8_P_SCALE))).div(new Scalar(FP8_P_SCALE))
                                    .matmul(e4m3(vb.div(new Scalar(FP8_P_SCALE))).mul(new Scalar(FP8_P_SCALE)))
                            : p.to(ScalarType.BFloat16).to(ScalarType.Float).matmul(vb);
                    o.mul_(alpha).add_(pv);
                    m.copy_(mNew);
                }
            }
            Tensor out = o.div(l).to(ScalarType.BFloat16).narrow(1, 0, z.length());
            return out.reshape(z.batch(), z.heads(), z.length(), dim).transpose(1, 2).contiguous();
        });
    }

    /** {@code x} rounded to e4m3 (nearest even, saturated at ±448 as the kernel's conversion does), as float32. */
    static Tensor e4m3(Tensor x) {
        return toE4m3(x).to(ScalarType.Float);
    }

    /** {@code x} as float8 e4m3, saturated at ±448 (torch's conversion would give NaN beyond). */
    private static Tensor toE4m3(Tensor x) {
        return x.clamp(new ScalarOptional(new Scalar(-E4M3_MAX)), new ScalarOptional(new Scalar(E4M3_MAX)))
                .to(ScalarType.Float8_e4m3fn);
    }

    /**
     * Whether {@link #attend} runs the 8-bit kernel with {@code valueProduct} on {@code device} (compiling it on first
     * use).
     */
    public static boolean kernelAvailable(int device, ValueProduct valueProduct) {
        return CudaMemory.available() && Compiled.get(device, valueProduct).isPresent();
    }

    /**
     * 8-bit attention with the CUDA kernels; where they are unavailable (no CUDA, not Hopper, compile or load failure:
     * logged once) bf16 SDPA instead.
     *
     * @param q            {@code [B, L, H, D]} on a CUDA device with D ≤ {@value #HEAD_DIM}, any dtype and strides
     * @param valueProduct the precision of the P·V product
     * @return bf16 {@code [B, L, H, D]} contiguous
     */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, ValueProduct valueProduct) {
        int device = q.device().is_cuda() ? q.device().index() : -1;
        if (device < 0 || q.size(3) > HEAD_DIM || !kernelAvailable(device, valueProduct)) {
            return Scopes.scoped(() -> JointAttention.sdpa(q.to(ScalarType.BFloat16), k.to(ScalarType.BFloat16),
                    v.to(ScalarType.BFloat16)).transpose(1, 2).contiguous());
        }
        Kernels kernels = Compiled.get(device, valueProduct).orElseThrow();
        long dim = q.size(3);
        if (dim == HEAD_DIM) {
            return Scopes.scoped(() -> attend(prepare(q, k, v, kernels), kernels));
        }
        return Scopes.scoped(() -> attend(prepare(padChannels(q), padChannels(k), padChannels(v), dim, kernels),
                kernels).narrow(3, 0, dim).contiguous());
    }

    /** {@code [B, L, H, D]} → {@code [B, L, H, 128]}, zero channels after D. */
    private static Tensor padChannels(Tensor x) {
        Tensor out = torch.zeros(new long[]{x.size(0), x.size(1), x.size(2), HEAD_DIM},
                new TensorOptions(x.device()).dtype(new ScalarTypeOptional(x.scalar_type())));
        out.narrow(3, 0, x.size(3)).copy_(x);
        return out;
    }

    /** The compiled CUDA kernels of one device: the attention and the ones that lay out its operands. */
    public record Kernels(CudaKernel attention, CudaKernel quantizeInt8, CudaKernel tileBf16) {
    }

    /**
     * The attention kernel's operands, as tile images that its bulk copies move to shared memory as they are:
     * {@code q}, {@code k} INT8 {@code [N, padded/64, 8192]} ({@link #rowTiles} of {@code [N, padded, 128]};
     * {@code N = B·H}, {@code padded} the length rounded up to {@value #ROWS_PER_LAUNCH_BLOCK}, zero rows after
     * {@code length}) with float scales {@code [N, padded/64]}, K smoothed; {@code v} bf16
     * {@code [N, padded/64, 8192]} ({@link #kernelV}); {@code dim} the heads' real channels (≤ 128, the rest zero).
     */
    public record Operands(Tensor q, Tensor qScale, Tensor k, Tensor kScale, Tensor v, long batch, long length,
                           long heads, long dim) {
    }

    /**
     * Quantizes {@code [B, L, H, 128]} q/k/v on their CUDA device with the quantization kernels: one pass per tensor
     * (and torch's mean over the tokens for K's smoothing), the same values as
     * {@link #quantize} up to the rounding of K's mean. bf16, fp16 and float32 inputs are read as they are (others
     * are copied to float32, and rows off 16-byte boundaries to a contiguous copy).
     */
    public static Operands prepare(Tensor q, Tensor k, Tensor v, Kernels kernels) {
        return prepare(q, k, v, HEAD_DIM, kernels);
    }

    private static Operands prepare(Tensor q, Tensor k, Tensor v, long dim, Kernels kernels) {
        long batch = q.size(0);
        long len = q.size(1);
        long heads = q.size(2);
        long n = batch * heads;
        if (n > 65535) {
            throw new IllegalArgumentException("batch·heads " + n + " exceeds the kernels' grid (65535)");
        }
        long padded = ceilDiv(len, ROWS_PER_LAUNCH_BLOCK) * ROWS_PER_LAUNCH_BLOCK;
        Tensor qb = kernelInput(q);
        Tensor kb = kernelInput(k);
        Tensor vb = kernelInput(v);
        TensorOptions f32 = new TensorOptions(q.device()).dtype(new ScalarTypeOptional(ScalarType.Float));
        TensorOptions i8 = new TensorOptions(q.device()).dtype(new ScalarTypeOptional(ScalarType.Char));
        TensorOptions bf16 = new TensorOptions(q.device()).dtype(new ScalarTypeOptional(ScalarType.BFloat16));
        // [B, 1, H, D] float means over the tokens, read as [N, D]
        Tensor kMean = kb.mean(new long[]{1}, true, new ScalarTypeOptional(ScalarType.Float)).contiguous();
        long tiles = padded / BLOCK;
        Tensor qi8 = torch.empty(new long[]{n, tiles, TILE_ELEMENTS}, i8, new MemoryFormatOptional());
        Tensor ki8 = torch.empty(new long[]{n, tiles, TILE_ELEMENTS}, i8, new MemoryFormatOptional());
        Tensor qScale = torch.empty(new long[]{n, tiles}, f32, new MemoryFormatOptional());
        Tensor kScale = torch.empty(new long[]{n, tiles}, f32, new MemoryFormatOptional());
        Tensor vT = torch.empty(new long[]{n, tiles, TILE_ELEMENTS}, bf16, new MemoryFormatOptional());
        int grid = (int) (padded / BLOCK);
        kernels.quantizeInt8().launch(grid, (int) n, 256, qb, inputType(qb), qb.stride(0), qb.stride(1),
                qb.stride(2), (int) heads, (int) len, (int) padded, 0L, qi8, qScale);
        kernels.quantizeInt8().launch(grid, (int) n, 256, kb, inputType(kb), kb.stride(0), kb.stride(1),
                kb.stride(2), (int) heads, (int) len, (int) padded, kMean, ki8, kScale);
        kernels.tileBf16().launch(grid, (int) n, 256, vb, inputType(vb), vb.stride(0), vb.stride(1),
                vb.stride(2), (int) heads, (int) len, (int) padded, vT);
        return new Operands(qi8, qScale, ki8, kScale, vT, batch, len, heads, dim);
    }

    /**
     * {@code x} as the quantization kernels read it: bf16, fp16 or float32 as it is (others become float32), unit
     * channel stride, rows on 16-byte boundaries (else a contiguous copy).
     */
    private static Tensor kernelInput(Tensor x) {
        ScalarType type = x.scalar_type();
        Tensor t = type == ScalarType.BFloat16 || type == ScalarType.Half || type == ScalarType.Float ? x
                : x.to(ScalarType.Float);
        long perRow = 16 / t.element_size();
        boolean aligned = t.stride(3) == 1 && t.stride(0) % perRow == 0 && t.stride(1) % perRow == 0
                && t.stride(2) % perRow == 0 && t.data_ptr().address() % 16 == 0;
        return aligned ? t : t.contiguous();
    }

    /** The quantization kernels' code of {@code x}'s dtype (BF16, F16, F32 in the source). */
    private static int inputType(Tensor x) {
        ScalarType type = x.scalar_type();
        return type == ScalarType.BFloat16 ? 0 : type == ScalarType.Half ? 1 : 2;
    }

    /**
     * Runs the attention kernel on prepared operands on their CUDA device: the second half of
     * {@link #attend(Tensor, Tensor, Tensor)}, for benchmarks that time the two halves or compare kernel variants.
     *
     * @return bf16 {@code [B, L, H, 128]} contiguous
     */
    public static Tensor attend(Operands z, Kernels kernels) {
        Tensor out = torch.empty(new long[]{z.batch(), z.length(), z.heads(), HEAD_DIM},
                new TensorOptions(z.q().device()).dtype(new ScalarTypeOptional(ScalarType.BFloat16)),
                new MemoryFormatOptional());
        long padded = z.q().size(1) * BLOCK;
        // Scores in base 2: the kernel's exponentials are exp2.
        float scoreScale = (float) (1 / Math.sqrt(z.dim()) / Math.log(2));
        kernels.attention().launch((int) (padded / ROWS_PER_LAUNCH_BLOCK), (int) z.q().size(0), ATTENTION_THREADS,
                z.q(), z.qScale(), z.k(), z.kScale(), z.v(), out, (int) z.length(), (int) padded, (int) z.heads(),
                scoreScale);
        return out;
    }

    /**
     * Compiles the kernels for {@code device} (Hopper only: the code is {@code sm_90a}) with NVRTC.
     *
     * @param defines preprocessor definitions such as {@code STAGES=6} (tuning knobs of the source), none for
     *                the kernels {@link #attend(Tensor, Tensor, Tensor)} uses
     * @throws IllegalStateException if NVRTC or the driver fails
     */
    public static Kernels compileKernels(int device, String... defines) {
        String[] options = new String[2 + defines.length];
        // A cubin for sm_90a: loaded as is (no driver JIT). Registers and spills come from the driver
        // (CudaKernel.registers/localBytes), so ptxas's -v figures are not asked for.
        options[0] = "--gpu-architecture=sm_90a";
        options[1] = "-std=c++17";
        for (int i = 0; i < defines.length; i++) {
            options[2 + i] = "-D" + defines[i];
        }
        Map<String, CudaKernel> k = CudaKernel.compileAll(kernelSource(), "int8_attention.cu",
                List.of("int8_attention", "quantize_int8", "tile_bf16"), device, options);
        String warnings = warningLines(k.get("int8_attention").compileLog());
        if (!warnings.isEmpty()) {
            // The kernels run; but a ptxas wgmma serialization warning (C7514/C7515) means a far slower kernel.
            LOG.warn("NVRTC warned compiling int8_attention.cu {}:\n{}", List.of(defines), warnings);
        }
        return new Kernels(k.get("int8_attention").withSharedMemory(attentionSharedBytes(defines)),
                k.get("quantize_int8"), k.get("tile_bf16"));
    }

    /**
     * INT8 Q or K {@code [N, padded, 128]} as the kernel's tile images {@code [N, padded/64, 8192]}: per 64 rows, the
     * 8×16-byte core matrices wgmma reads, {@code [8 row groups][8 parts of 16 channels][8 rows][16 channels]} (what
     * the quantization kernel writes; this is its torch-ops definition).
     */
    public static Tensor rowTiles(Tensor x8) {
        long n = x8.size(0);
        long tiles = x8.size(1) / BLOCK;
        return x8.view(ScalarType.Byte).reshape(n, tiles, 8, 8, 8, 16).permute(0, 1, 2, 4, 3, 5).contiguous()
                .reshape(n, tiles, TILE_ELEMENTS).view(x8.scalar_type());
    }

    /**
     * V, bf16 {@code [N, padded, 128]}, as the kernel's tile images {@code [N, padded/64, 8192]}: per 64 keys,
     * {@code [16 groups of 8 channels][8 parts of 8 keys][8 channels][8 keys]}, the 8×16-byte core matrices of a
     * K-major wgmma operand (what {@code tile_bf16} writes; this is its torch-ops definition).
     */
    public static Tensor kernelV(Tensor v16) {
        long n = v16.size(0);
        long tiles = v16.size(1) / BLOCK;
        return v16.reshape(n, tiles, 8, 8, 16, 8).permute(0, 1, 4, 2, 5, 3).contiguous().reshape(n, tiles,
                TILE_ELEMENTS);
    }

    /**
     * V, {@code [N, padded, 128]}, as the e4m3 tile images of {@link ValueProduct#FP8} {@code [N, padded/128, 16384]}
     * bytes: per 128 keys, {@code e4m3(V/8)} as {@code [16 groups of 8 channels][8 parts of 16 keys][8 channels][16
     * keys]}, the keys of a part in the order of the kernel's 8-bit P fragments (key {@code 2t + b} at {@code 4t + b},
     * key {@code 8 + 2t + b} at {@code 4t + 2 + b}, {@code b} = 0, 1). The kernel writes each into the first half of
     * the tile's slot of the bf16 images ({@link #kernelV}); this is its torch-ops definition.
     */
    public static Tensor kernelVFp8(Tensor v) {
        long n = v.size(0);
        long tiles = v.size(1) / ROWS_PER_LAUNCH_BLOCK;
        long[] order = new long[16];
        for (int position = 0; position < 16; position++) {
            int t = position / 4;
            int b = position % 4;
            order[position] = b < 2 ? 2 * t + b : 8 + 2 * t + b - 2;
        }
        Tensor bytes = toE4m3(v.to(ScalarType.Float).div(new Scalar(FP8_P_SCALE))).view(ScalarType.Byte);
        return bytes.reshape(n, tiles, 8, 16, 16, 8)
                .index_select(3, Tensors.fromLongs(order, 16).to(v.device(), ScalarType.Long))
                .permute(0, 1, 4, 2, 5, 3).contiguous().reshape(n, tiles, 2 * TILE_ELEMENTS);
    }

    /**
     * The attention kernel's dynamic shared memory: Q's {@value #ROWS_PER_LAUNCH_BLOCK} rows and the ring's stages of
     * 128 keys, K's two INT8 tile images and V's two bf16 ones ({@code SHARED_BYTES} in the source, which traps on a
     * launch with less).
     */
    static int attentionSharedBytes(String... defines) {
        int stages = STAGES;
        for (String define : defines) {
            if (define.startsWith("STAGES=")) {
                stages = Integer.parseInt(define.substring("STAGES=".length()).strip());
            }
        }
        return ROWS_PER_LAUNCH_BLOCK * HEAD_DIM + stages * (2 * TILE_ELEMENTS + 2 * 2 * TILE_ELEMENTS);
    }

    /** The lines of an NVRTC log that are warnings (NVRTC's own and ptxas's), joined by newlines; empty if none. */
    static String warningLines(String log) {
        return log.lines().filter(line -> line.contains("warning")).collect(Collectors.joining("\n"));
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** The kernel source, from this module's resources. */
    static String kernelSource() {
        try (InputStream in = QuantizedAttention.class.getResourceAsStream("int8_attention.cu")) {
            if (in == null) {
                throw new IllegalStateException("int8_attention.cu missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The compiled kernels per device and P·V product, or empty once they failed there. A nested class, loaded only on
     * the CUDA path, because {@link CudaKernel} touches CUDA-only natives.
     */
    private static final class Compiled {
        private static final Map<Key, Optional<Kernels>> BY_KEY = new ConcurrentHashMap<>();

        private record Key(int device, ValueProduct valueProduct) {
        }

        static Optional<Kernels> get(int device, ValueProduct valueProduct) {
            return BY_KEY.computeIfAbsent(new Key(device, valueProduct), key -> load(device, valueProduct));
        }

        private static Optional<Kernels> load(int device, ValueProduct valueProduct) {
            try {
                int capability = CudaKernel.computeCapability(device);
                // sm_90a code runs only on compute capability 9.0 (H100/H200).
                if (capability != 90) {
                    LOG.warn("8-bit attention needs a Hopper GPU (compute capability 9.0), device {} has {}.{}: "
                            + "using SDPA", device, capability / 10, capability % 10);
                    return Optional.empty();
                }
                return Optional.of(compileKernels(device, valueProduct.defines()));
            } catch (RuntimeException | LinkageError e) {
                LOG.warn("8-bit attention kernel unavailable on device {}, using SDPA: {}", device, e.getMessage());
                return Optional.empty();
            }
        }
    }
}
