// 8-bit attention on Hopper tensor cores (issue 16). Compiled at run time by NVRTC for sm_90a (QuantizedAttention).
// It computes what QuantizedAttention.reference computes with torch ops:
//   S = (Qi8 · Ki8ᵀ) · (sq · sk) · softmaxScale                  (INT8 products, int32 sums; one scale per 64 tokens)
//   online softmax over 64-key tiles in float32 (base 2: scores are pre-multiplied by log2 e), running max m, sum l:
//     m' = max(m, max_j S_j),  α = 2^(m − m'),  P_j = 2^(S_j − m') · 448,  l' = l·α + Σ_j P_j
//     O' = O·α + Σ_j e4m3(P_j) · Vh_j + low(e4m3(P_j)) · Vl_j       (FP8 products, float32 accumulation)
//   out = bf16(O / l · vScale)
// V is two e4m3 terms, V / vScale ≈ Vh + Vl / 16 (one scale per channel), which takes V's rounding error from ≈ 2.6 %
// to ≈ 0.2 %; low(p) = p / 16 where that is a normal e4m3 value (p ≥ 1/4), else 0 (low_part).
// The P·V product of a tile is accumulated from zero and then added to O in float32 (two-level accumulation), so the
// tensor cores' reduced-precision FP8 accumulation only ever sums 64 terms.
//
// Work split: a thread block takes 128 queries of one (batch, head); warps 0-3 and 4-7 are two warpgroups of 64 rows,
// each warp 16 rows: its slice of the wgmma A operand, held in registers (Q, then P). K and V tiles of 64 keys are
// double-buffered in shared memory through cp.async (K two tiles ahead, V one) and read by wgmma through matrix
// descriptors. The scores of the next tile are queued on the tensor cores before the softmax of the current one,
// which they overlap.
//
// The P operand is built from the score accumulators without a shuffle: a thread holds keys {8n + 2t, 8n + 2t + 1} of
// each 8-key n-tile, and packs those of n-tiles (2i, 2i+1) as the 4 consecutive k indices 4t..4t+3 of its A fragment.
// So within every 16 keys the k index c stands for key KEY_OF[c] = [0,1,8,9,2,3,10,11,4,5,12,13,6,7,14,15]; V is
// stored in the same order (QuantizedAttention.kernelV), and the sum over keys is unchanged.
//
// Layouts: q, k int8 [N, padded, 128] (N = batch·heads, padded a multiple of 128, zero rows from len on);
// qScale, kScale float [N, padded/64]; vT e4m3 [N, 2, 128, padded] (high and low parts, channel-major, keys in
// KEY_OF order per 16);
// vScale float [N, 128]; out bf16 [batch, len, heads, 128] (the DiT's layout), rows >= len not written.
// No header is included (NVRTC ships none by default).

#define BLOCK_M 128
#define BLOCK_N 64
#define QBLOCK 64
#define HEAD_DIM 128
#define THREADS 256
#define LOG2_E4M3_MAX 8.807354922057604f  // log2(448)
#define NEG_INF __int_as_float(0xff800000)
#define PADDING_SCORE (-2147483647)
#ifndef MIN_BLOCKS  // thread blocks per SM the register allocation must allow
#define MIN_BLOCKS 1
#endif
// |S| <= 127² · 128 < 2^22, so the float with bits MAGIC_BITS + S is MAGIC + S exactly: an integer add and a float
// subtract instead of a conversion instruction, which runs at a quarter of their rate (the exponentials' unit).
#define MAGIC_BITS 0x4B400000
#define MAGIC 12582912.0f
// Tiles in shared memory, two of each: K is loaded two tiles ahead (the next tile's scores are issued before this
// tile's softmax), V's two parts one tile ahead.
#define BUFFERS 2

__device__ __forceinline__ unsigned int smem_address(const void* p) {
    unsigned int a;
    asm("{ .reg .u64 s; cvta.to.shared.u64 s, %1; cvt.u32.u64 %0, s; }" : "=r"(a) : "l"(p));
    return a;
}

__device__ __forceinline__ void copy16(unsigned int dst, const void* src) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" :: "r"(dst), "l"(src));
}

__device__ __forceinline__ float exp2_approx(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// Four floats rounded to FP8 e4m3 (nearest even, saturating), x0 in the lowest byte.
__device__ __forceinline__ unsigned int pack_e4m3(float x0, float x1, float x2, float x3) {
    unsigned short lo;
    unsigned short hi;
    asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(lo) : "f"(x1), "f"(x0));
    asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(hi) : "f"(x3), "f"(x2));
    return (unsigned int) lo | ((unsigned int) hi << 16);
}

// Two floats as bf16 (nearest even), x0 in the low half.
__device__ __forceinline__ unsigned int pack_bf16(float x0, float x1) {
    unsigned int r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(x1), "f"(x0));
    return r;
}

// The P operand of V's low part from 4 e4m3 P bytes (all >= 0): each byte with exponent field >= 5 (P >= 1/4) less 4
// in the exponent (P / 16, exactly), the others 0 (P / 16 would be subnormal). QuantizedAttention.lowPart in torch ops.
__device__ __forceinline__ unsigned int low_part(unsigned int p) {
    const unsigned int normal = ((p + 0x58585858u) & 0x80808080u) >> 7;  // 1 in each byte >= 0x28; no carries: p < 0x80
    const unsigned int shifted = ((p | 0x80808080u) - 0x20202020u) & 0x7F7F7F7Fu;  // each byte − 0x20, no borrows
    return shifted & (normal * 0xFFu);
}

// The online-softmax step of one 64-key tile for the thread's rows g (accumulators s[4n], s[4n+1]) and g + 8
// (s[4n+2], s[4n+3]), n the 8-key n-tile: updates the running maxima m and partial sums l, returns the rescale
// factors α and P as FP8 A fragments of the two 32-key steps. keyBase: the tile's first key; keys >= len are padding.
__device__ __forceinline__ void softmax_tile(int (&s)[32], int keyBase, int len, int t, float scale, float& m0,
                                             float& m1, float& l0, float& l1, float& alpha0, float& alpha1,
                                             unsigned int (&pa)[2][4]) {
    const bool partial = keyBase + BLOCK_N > len;
    if (partial) {
#pragma unroll
        for (int i = 0; i < 32; i++) {
            if (keyBase + (i >> 2) * 8 + 2 * t + (i & 1) >= len) {
                s[i] = PADDING_SCORE;  // out of the maximum; its P is set to 0 below
            }
        }
    }
    // The maximum is taken on the integer sums (the scale is positive), the scale applied once per row.
    int max0 = PADDING_SCORE, max1 = PADDING_SCORE;
#pragma unroll
    for (int n = 0; n < 8; n++) {
        max0 = max(max0, max(s[4 * n], s[4 * n + 1]));
        max1 = max(max1, max(s[4 * n + 2], s[4 * n + 3]));
    }
    // The 4 threads holding a row are adjacent lanes.
    max0 = max(max0, __shfl_xor_sync(0xffffffffu, max0, 1));
    max0 = max(max0, __shfl_xor_sync(0xffffffffu, max0, 2));
    max1 = max(max1, __shfl_xor_sync(0xffffffffu, max1, 1));
    max1 = max(max1, __shfl_xor_sync(0xffffffffu, max1, 2));
    const float new0 = fmaxf(m0, (float) max0 * scale);  // finite: every tile holds a key < len
    const float new1 = fmaxf(m1, (float) max1 * scale);
    alpha0 = exp2_approx(m0 - new0);  // 0 on the first tile (m = -inf)
    alpha1 = exp2_approx(m1 - new1);
    m0 = new0;
    m1 = new1;
    // 2^(S − m) · 448: the largest P is 448, the top of e4m3's range; the factor cancels in O / l.
    const float shift0 = new0 - LOG2_E4M3_MAX;
    const float shift1 = new1 - LOG2_E4M3_MAX;
    float p[32];
#pragma unroll
    for (int i = 0; i < 32; i++) {
        const float score = __int_as_float(s[i] + MAGIC_BITS) - MAGIC;
        p[i] = exp2_approx(fmaf(score, scale, (i & 2) ? -shift1 : -shift0));
    }
    if (partial) {
#pragma unroll
        for (int i = 0; i < 32; i++) {
            if (keyBase + (i >> 2) * 8 + 2 * t + (i & 1) >= len) {
                p[i] = 0.0f;
            }
        }
    }
    float sum0 = 0.0f, sum1 = 0.0f;
#pragma unroll
    for (int n = 0; n < 8; n++) {
        sum0 += p[4 * n] + p[4 * n + 1];
        sum1 += p[4 * n + 2] + p[4 * n + 3];
    }
    l0 = l0 * alpha0 + sum0;
    l1 = l1 * alpha1 + sum1;
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const int a = 16 * h;  // n-tiles 4h .. 4h + 3
        pa[h][0] = pack_e4m3(p[a], p[a + 1], p[a + 4], p[a + 5]);
        pa[h][1] = pack_e4m3(p[a + 2], p[a + 3], p[a + 6], p[a + 7]);
        pa[h][2] = pack_e4m3(p[a + 8], p[a + 9], p[a + 12], p[a + 13]);
        pa[h][3] = pack_e4m3(p[a + 10], p[a + 11], p[a + 14], p[a + 15]);
    }
}

// D (64×64 int32, 32 per thread) {=, +=} A (64×32 INT8 from registers) · B (a 64-key × 32-byte K-major tile in shared
// memory): one warpgroup.
__device__ __forceinline__ void wgmma_s8(int (&d)[32], const unsigned int (&a)[4], unsigned long long b,
                                         int accumulate) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n64k32.s32.s8.s8 {"
                 "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
                 "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
                 "}, {%32, %33, %34, %35}, %36, p;\n}\n"
                 :
                 "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]), "+r"(d[5]), "+r"(d[6]), "+r"(d[7]),
                 "+r"(d[8]), "+r"(d[9]), "+r"(d[10]), "+r"(d[11]), "+r"(d[12]), "+r"(d[13]), "+r"(d[14]), "+r"(d[15]),
                 "+r"(d[16]), "+r"(d[17]), "+r"(d[18]), "+r"(d[19]), "+r"(d[20]), "+r"(d[21]), "+r"(d[22]), "+r"(d[23]),
                 "+r"(d[24]), "+r"(d[25]), "+r"(d[26]), "+r"(d[27]), "+r"(d[28]), "+r"(d[29]), "+r"(d[30]), "+r"(d[31])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accumulate));
}

// D (64×128 float32, 64 per thread) {=, +=} A (64×32 FP8 e4m3 from registers) · B (a 128-channel × 32-key K-major tile
// in shared memory): one warpgroup.
__device__ __forceinline__ void wgmma_e4m3(float (&d)[64], const unsigned int (&a)[4], unsigned long long b,
                                           int accumulate) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 {"
                 "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
                 "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
                 "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
                 "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
                 "}, {%64, %65, %66, %67}, %68, p, 1, 1;\n}\n"
                 :
                 "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
                 "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
                 "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
                 "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
                 "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
                 "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
                 "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
                 "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accumulate));
}

// A shared-memory matrix descriptor for wgmma: no swizzle, 8-row × 16-byte core matrices of 128 contiguous bytes,
// `leading` bytes apart along K and `stride` bytes apart along M/N.
__device__ __forceinline__ unsigned long long descriptor(unsigned int address, unsigned int leading,
                                                         unsigned int stride) {
    return (unsigned long long) ((address & 0x3FFFFu) >> 4) | ((unsigned long long) (leading >> 4) << 16)
           | ((unsigned long long) (stride >> 4) << 32);
}
// Tiles in shared memory as core matrices: K [8-key groups][8 parts of 16 channels][8 keys × 16 bytes], V [8-channel
// groups][4 parts of 16 keys][8 channels × 16 bytes].
#define K_LEADING 128
#define K_STRIDE_BYTES 1024
#define V_LEADING 128
#define V_STRIDE_BYTES 512
#define TILE_BYTES (BLOCK_N * HEAD_DIM)

extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS) int8_attention(
        const signed char* __restrict__ q, const float* __restrict__ qScale,
        const signed char* __restrict__ k, const float* __restrict__ kScale,
        const unsigned char* __restrict__ vT, const float* __restrict__ vScale,
        unsigned short* __restrict__ out, int len, int padded, int heads, float scoreScale) {
    __shared__ __align__(128) unsigned char ks[BUFFERS][TILE_BYTES];
    __shared__ __align__(128) unsigned char vs[BUFFERS][TILE_BYTES];  // V's high part
    __shared__ __align__(128) unsigned char vls[BUFFERS][TILE_BYTES];  // V's low part

    const int tid = threadIdx.x;
    const int warp = tid >> 5;
    const int lane = tid & 31;
    const int g = lane >> 2;  // the row (and row + 8) of the warp's 16 this thread holds
    const int t = lane & 3;   // its column pair within each 8-wide n-tile
    const int bh = blockIdx.y;
    const int firstRow = blockIdx.x * BLOCK_M + warp * 16;
    const int quantBlocks = padded / QBLOCK;
    const int tiles = (len + BLOCK_N - 1) / BLOCK_N;

    const signed char* kHead = k + (long) bh * padded * HEAD_DIM;
    const unsigned char* vHead = vT + (long) bh * 2 * HEAD_DIM * padded;  // high part; the low part follows
    const unsigned int ksBase = smem_address(ks);
    const unsigned int vsBase = smem_address(vs);
    const unsigned int vlsBase = smem_address(vls);

    // Each thread copies 2 of the 512 16-byte chunks of a K tile and 2 of a V tile.
    // Core-matrix order: chunk c lands at byte 16·c; 8 consecutive chunks are the same 16 bytes of 8 rows.
    auto load_keys = [&](int tile, int buffer) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int chunk = tid + i * THREADS;
            const int key = (chunk & 7) | ((chunk >> 6) << 3);
            const int part = (chunk >> 3) & 7;
            copy16(ksBase + buffer * TILE_BYTES + chunk * 16,
                   kHead + ((long) tile * BLOCK_N + key) * HEAD_DIM + part * 16);
        }
    };
    auto load_values = [&](int tile, int buffer) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int chunk = tid + i * THREADS;
            const int channel = (chunk & 7) | ((chunk >> 5) << 3);
            const int quarter = (chunk >> 3) & 3;
            const unsigned char* from = vHead + (long) channel * padded + tile * BLOCK_N + quarter * 16;
            copy16(vsBase + buffer * TILE_BYTES + chunk * 16, from);
            copy16(vlsBase + buffer * TILE_BYTES + chunk * 16, from + (long) HEAD_DIM * padded);
        }
    };
    load_keys(0, 0);
    load_values(0, 0);
    if (tiles > 1) {
        load_keys(1, 1);
    }
    asm volatile("cp.async.commit_group;");

    // Q fragments of rows firstRow + g and + 8, for the 4 k-steps of 32 channels.
    unsigned int qa[4][4];
    {
        const unsigned int* q0 = (const unsigned int*) (q + ((long) bh * padded + firstRow + g) * HEAD_DIM);
        const unsigned int* q1 = q0 + 8 * HEAD_DIM / 4;
#pragma unroll
        for (int c = 0; c < 4; c++) {
            qa[c][0] = q0[c * 8 + t];
            qa[c][1] = q1[c * 8 + t];
            qa[c][2] = q0[c * 8 + 4 + t];
            qa[c][3] = q1[c * 8 + 4 + t];
        }
    }
    const float rowScale = qScale[(long) bh * quantBlocks + firstRow / QBLOCK] * scoreScale;

    // O accumulators: o[4n + e] is row g (e < 2) or g + 8, channel 8n + 2t + (e & 1).
    float o[64];
#pragma unroll
    for (int i = 0; i < 64; i++) {
        o[i] = 0.0f;
    }
    float m0 = NEG_INF, m1 = NEG_INF;  // running maxima of rows g and g + 8 (base 2)
    float l0 = 0.0f, l1 = 0.0f;        // this thread's part of their running sums

    // S = Q · Kᵀ for the warp's 16 rows and a tile's 64 keys (8 n-tiles of 8 keys), queued.
    auto issue_scores = [&](int buffer, int (&s)[32]) {
        const unsigned int kTile = ksBase + buffer * TILE_BYTES;
        asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#pragma unroll
        for (int c = 0; c < 4; c++) {
            wgmma_s8(s, qa[c], descriptor(kTile + c * 2 * K_LEADING, K_LEADING, K_STRIDE_BYTES), c);
        }
        asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    };
    // acc = P · V_high + (P / 16) · V_low of a tile, queued.
    auto issue_values = [&](int buffer, const unsigned int (&pa)[2][4], const unsigned int (&low)[2][4],
                            float (&acc)[64]) {
        const unsigned int vTile = vsBase + buffer * TILE_BYTES;
        const unsigned int vlTile = vlsBase + buffer * TILE_BYTES;
        asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#pragma unroll
        for (int h = 0; h < 2; h++) {
            wgmma_e4m3(acc, pa[h], descriptor(vTile + h * 2 * V_LEADING, V_LEADING, V_STRIDE_BYTES), h);
        }
#pragma unroll
        for (int h = 0; h < 2; h++) {
            wgmma_e4m3(acc, low[h], descriptor(vlTile + h * 2 * V_LEADING, V_LEADING, V_STRIDE_BYTES), 1);
        }
        asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    };

    asm volatile("cp.async.wait_group 0;");
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");  // cp.async's writes, seen by wgmma
    __syncthreads();
    int s[32];
    issue_scores(0, s);
    asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
    // The key scales are read a tile ahead: a global load in the softmax's path would stall it every tile.
    const float* kScales = kScale + (long) bh * quantBlocks;
    float nextKeyScale = kScales[0];
    // One tile: its scores are in cur, the next tile's are queued into nxt.
    auto step = [&](int tile, int (&cur)[32], int (&nxt)[32]) {
        const int buffer = tile % BUFFERS;
        const int other = buffer ^ 1;
        const float keyScale = nextKeyScale;
        if (tile + 1 < tiles) {
            nextKeyScale = kScales[tile + 1];
        }
        asm volatile("cp.async.wait_group 0;");  // K of tile + 1 and V of tile have landed
        asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
        __syncthreads();  // ... for every thread; every warp is done with K of tile and V of tile − 1
        if (tile + 2 < tiles) {
            load_keys(tile + 2, buffer);
        }
        if (tile + 1 < tiles) {
            load_values(tile + 1, other);
        }
        asm volatile("cp.async.commit_group;");
        if (tile + 1 < tiles) {
            issue_scores(other, nxt);  // runs on the tensor cores during this tile's softmax
        }
        float alpha0, alpha1;
        unsigned int pa[2][4];
        softmax_tile(cur, tile * BLOCK_N, len, t, rowScale * keyScale, m0, m1, l0, l1, alpha0, alpha1, pa);
        unsigned int low[2][4];
#pragma unroll
        for (int h = 0; h < 2; h++) {
#pragma unroll
            for (int r = 0; r < 4; r++) {
                low[h][r] = low_part(pa[h][r]);
            }
        }
        float acc[64];
        issue_values(buffer, pa, low, acc);
        asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
#pragma unroll
        for (int i = 0; i < 64; i++) {
            o[i] = o[i] * ((i & 2) ? alpha1 : alpha0) + acc[i];
        }
    };
    int s2[32];
    for (int tile = 0; tile < tiles; tile += 2) {  // the two score arrays swap roles without copies
        step(tile, s, s2);
        if (tile + 1 < tiles) {
            step(tile + 1, s2, s);
        }
    }


    l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
    l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
    const int b = bh / heads;
    const int h = bh % heads;
    const float* channelScale = vScale + (long) bh * HEAD_DIM;
    const int row0 = firstRow + g;
    const int row1 = row0 + 8;
    unsigned int* out0 = (unsigned int*) (out + (((long) b * len + row0) * heads + h) * HEAD_DIM);
    unsigned int* out1 = (unsigned int*) (out + (((long) b * len + row1) * heads + h) * HEAD_DIM);
    const float inv0 = 1.0f / l0;
    const float inv1 = 1.0f / l1;
#pragma unroll
    for (int n = 0; n < 16; n++) {
        const int c = n * 8 + 2 * t;
        const float s0 = channelScale[c];
        const float s1 = channelScale[c + 1];
        if (row0 < len) {
            out0[c / 2] = pack_bf16(o[4 * n] * inv0 * s0, o[4 * n + 1] * inv0 * s1);
        }
        if (row1 < len) {
            out1[c / 2] = pack_bf16(o[4 * n + 2] * inv1 * s0, o[4 * n + 3] * inv1 * s1);
        }
    }
}

// ---- Quantization of the kernel's operands (QuantizedAttention.quantize in one pass per tensor) ----
// Input x: [B, L, H, 128] of `dtype` (BF16, F16 or F32 below) with any token, head and batch strides (elements, rows
// on 16-byte boundaries) and unit channel stride: read as it is, so that K's smoothing subtracts its mean at the
// input's own precision. A thread block takes 64 tokens of one (batch, head) n = b·H + h; thread i holds token i / 4,
// channels 32·(i % 4) .. + 31.
#define QUANT_THREADS 256
#define BF16 0
#define F16 1
#define F32 2
#define MIN_SCALE 1e-30f

struct __align__(16) Bytes16 {  // one 16-byte load or store (NVRTC has no vector-type header by default)
    unsigned int x, y, z, w;
};

__device__ __forceinline__ float bf16_to_float(unsigned int bits) {
    return __uint_as_float(bits << 16);
}

__device__ __forceinline__ float f16_to_float(unsigned int bits) {
    float f;
    asm("{ .reg .f16 h; mov.b16 h, %1; cvt.f32.f16 %0, h; }" : "=f"(f) : "h"((unsigned short) bits));
    return f;
}

// The thread's 32 values of its token (0 past len).
__device__ __forceinline__ void load_token(const void* x, int dtype, long batchStride, long tokenStride,
                                           long headStride, int heads, int len, float (&value)[32]) {
    const int n = blockIdx.y;
    const int token = blockIdx.x * QBLOCK + threadIdx.x / 4;
    const int first = 32 * (threadIdx.x % 4);
    if (token >= len) {
#pragma unroll
        for (int j = 0; j < 32; j++) {
            value[j] = 0.0f;
        }
        return;
    }
    const long offset = (long) (n / heads) * batchStride + (long) token * tokenStride + (long) (n % heads) * headStride
                        + first;
    if (dtype == F32) {
        const Bytes16* row = (const Bytes16*) ((const float*) x + offset);
#pragma unroll
        for (int part = 0; part < 8; part++) {
            const Bytes16 w = row[part];
            value[4 * part] = __uint_as_float(w.x);
            value[4 * part + 1] = __uint_as_float(w.y);
            value[4 * part + 2] = __uint_as_float(w.z);
            value[4 * part + 3] = __uint_as_float(w.w);
        }
        return;
    }
    const Bytes16* row = (const Bytes16*) ((const unsigned short*) x + offset);
#pragma unroll
    for (int part = 0; part < 4; part++) {
        const Bytes16 w = row[part];
        const unsigned int words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
        for (int j = 0; j < 4; j++) {
            value[8 * part + 2 * j] = dtype == BF16 ? bf16_to_float(words[j] & 0xFFFFu) : f16_to_float(words[j]);
            value[8 * part + 2 * j + 1] = dtype == BF16 ? bf16_to_float(words[j] >> 16) : f16_to_float(words[j] >> 16);
        }
    }
}

// The maximum of v over the thread block.
__device__ __forceinline__ float block_max(float v) {
    __shared__ float warpMax[QUANT_THREADS / 32];
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    }
    if (threadIdx.x % 32 == 0) {
        warpMax[threadIdx.x / 32] = v;
    }
    __syncthreads();
    float m = warpMax[0];
#pragma unroll
    for (int w = 1; w < QUANT_THREADS / 32; w++) {
        m = fmaxf(m, warpMax[w]);
    }
    return m;
}

// Q or K to INT8 with one scale per 64 tokens: out [N, padded, 128], scale [N, padded/64]; mean [N, 128] (float) is
// subtracted first when given (K's smoothing), null otherwise. Rows past len are zeros.
extern "C" __global__ void __launch_bounds__(QUANT_THREADS) quantize_int8(
        const void* __restrict__ x, int dtype, long batchStride, long tokenStride, long headStride, int heads,
        int len, int padded, const float* __restrict__ mean, signed char* __restrict__ out,
        float* __restrict__ scale) {
    float value[32];
    load_token(x, dtype, batchStride, tokenStride, headStride, heads, len, value);
    const int n = blockIdx.y;
    const int token = blockIdx.x * QBLOCK + threadIdx.x / 4;
    const int first = 32 * (threadIdx.x % 4);
    float amax = 0.0f;
#pragma unroll
    for (int j = 0; j < 32; j++) {
        if (mean != nullptr && token < len) {
            value[j] -= mean[(long) n * HEAD_DIM + first + j];
        }
        amax = fmaxf(amax, fabsf(value[j]));
    }
    // amax · (1/127), as torch's division by a scalar computes it (the reference's scales, bit for bit)
    const float s = fmaxf(block_max(amax) * (1.0f / 127.0f), MIN_SCALE);
    if (threadIdx.x == 0) {
        scale[(long) n * (padded / QBLOCK) + blockIdx.x] = s;
    }
    unsigned int packed[8];
#pragma unroll
    for (int j = 0; j < 8; j++) {
        unsigned int word = 0;
#pragma unroll
        for (int b = 0; b < 4; b++) {
            // x / s rounded half to even, as torch's round(): the same division, then rint.
            const int q = max(-127, min(127, __float2int_rn(value[4 * j + b] / s)));
            word |= ((unsigned int) q & 0xFFu) << (8 * b);
        }
        packed[j] = word;
    }
    Bytes16* row = (Bytes16*) (out + ((long) n * padded + token) * HEAD_DIM + first);
    row[0] = Bytes16{packed[0], packed[1], packed[2], packed[3]};
    row[1] = Bytes16{packed[4], packed[5], packed[6], packed[7]};
}

// An FP8 e4m3 (fn: no infinities) bit pattern as a float; exact.
__device__ __forceinline__ float e4m3_to_float(unsigned int bits) {
    const unsigned int e = (bits >> 3) & 0xFu;
    const unsigned int m = bits & 0x7u;
    const float magnitude = e == 0 ? (float) m * 0.001953125f                         // subnormal: m · 2^-9
                                   : __uint_as_float(((e + 120u) << 23) | (m << 20));  // (1 + m/8) · 2^(e-7)
    return __uint_as_float(__float_as_uint(magnitude) | ((bits & 0x80u) << 24));
}

// V to FP8 e4m3 with one scale per channel (vScale [N, 128], given) as two terms, v / scale ≈ high + low / 16 with
// low = e4m3((v / scale − high) · 16), written channel-major [N, 2 (high, low), 128, padded] with the keys of every
// 16 in KEY_OF order (the attention kernel's B operands). Rows past len are zeros.
extern "C" __global__ void __launch_bounds__(QUANT_THREADS) quantize_e4m3(
        const void* __restrict__ x, int dtype, long batchStride, long tokenStride, long headStride, int heads,
        int len, int padded, const float* __restrict__ vScale, unsigned char* __restrict__ vT) {
    __shared__ __align__(16) unsigned char tile[2][HEAD_DIM][QBLOCK];
    float value[32];
    load_token(x, dtype, batchStride, tokenStride, headStride, heads, len, value);
    const int n = blockIdx.y;
    const int key = threadIdx.x / 4;
    const int first = 32 * (threadIdx.x % 4);
    // Where key κ of a 16-key group is stored: the inverse of KEY_OF.
    const int k16 = key % 16;
    const int position = key - k16 + (k16 < 8 ? (k16 / 2) * 4 + k16 % 2 : ((k16 - 8) / 2) * 4 + 2 + k16 % 2);
#pragma unroll
    for (int j = 0; j < 32; j += 2) {
        const float a = value[j] / vScale[(long) n * HEAD_DIM + first + j];
        const float b = value[j + 1] / vScale[(long) n * HEAD_DIM + first + j + 1];
        unsigned short high;
        asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(high) : "f"(b), "f"(a));
        const float aLow = (a - e4m3_to_float(high & 0xFFu)) * 16.0f;
        const float bLow = (b - e4m3_to_float(high >> 8)) * 16.0f;
        unsigned short low;
        asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(low) : "f"(bLow), "f"(aLow));
        tile[0][first + j][position] = (unsigned char) (high & 0xFFu);
        tile[0][first + j + 1][position] = (unsigned char) (high >> 8);
        tile[1][first + j][position] = (unsigned char) (low & 0xFFu);
        tile[1][first + j + 1][position] = (unsigned char) (low >> 8);
    }
    __syncthreads();
    // Thread i writes 64 bytes: half i % 2 of channel i / 2's 64 keys, of both parts.
    const int channel = threadIdx.x / 2;
    const int half = threadIdx.x % 2;
#pragma unroll
    for (int part = 0; part < 2; part++) {
        const Bytes16* from = (const Bytes16*) &tile[part][channel][32 * half];
        Bytes16* to = (Bytes16*) (vT + (((long) n * 2 + part) * HEAD_DIM + channel) * padded + blockIdx.x * QBLOCK
                                  + 32 * half);
        to[0] = from[0];
        to[1] = from[1];
    }
}
