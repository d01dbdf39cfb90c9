// 8-bit attention on Hopper tensor cores (issue 16, stage 2: mma.sync). Compiled at run time by NVRTC for sm_90a
// (QuantizedAttention). It computes what QuantizedAttention.reference computes with torch ops:
//   S = (Qi8 · Ki8ᵀ) · (sq · sk) · softmaxScale                  (INT8 mma, int32 sums; one scale per 64 tokens)
//   online softmax over 64-key tiles in float32 (base 2: scores are pre-multiplied by log2 e), running max m, sum l:
//     m' = max(m, max_j S_j),  α = 2^(m − m'),  P_j = 2^(S_j − m') · 448,  l' = l·α + Σ_j P_j
//     O' = O·α + Σ_j e4m3(P_j) · V8_j                                (FP8 mma, float32 accumulation)
//   out = bf16(O / l · vScale)                                        (V8: FP8 e4m3, one scale per channel)
// The product of a tile is accumulated from zero and then added to O in float32 (two-level accumulation), so the
// tensor cores' reduced-precision FP8 accumulation only ever sums 64 terms.
//
// Work split: a thread block takes 128 queries of one (batch, head); each of its 8 warps 16 query rows, as the
// 16-row A operand of m16n8k32 mma. Q fragments stay in registers; K and V tiles of 64 keys are double-buffered in
// shared memory through cp.async and read with ldmatrix.
//
// The P operand is built from the S accumulators without a shuffle: a thread holds keys {8n + 2t, 8n + 2t + 1} of
// each 8-key n-tile, and packs those of n-tiles (2i, 2i+1) as the 4 consecutive k indices 4t..4t+3 of the mma's
// A fragment. So within every 16 keys the k index c stands for key KEY_OF[c] = [0,1,8,9,2,3,10,11,4,5,12,13,6,7,14,15];
// V is stored in the same order (QuantizedAttention.kernelV), and the sum over keys is unchanged.
//
// Layouts: q, k int8 [N, padded, 128] (N = batch·heads, padded a multiple of 128, zero rows from len on);
// qScale, kScale float [N, padded/64]; vT e4m3 [N, 128, padded] (channel-major, keys in KEY_OF order per 16);
// vScale float [N, 128]; out bf16 [batch, len, heads, 128] (the DiT's layout), rows >= len not written.
// No header is included (NVRTC ships none by default).

#define BLOCK_M 128
#define BLOCK_N 64
#define QBLOCK 64
#define HEAD_DIM 128
#define THREADS 256
#define K_STRIDE 144  // bytes per key row of a K tile: 128 + 16 spreads ldmatrix's 8 rows over all banks
#define V_STRIDE 80   // bytes per channel row of a V tile: 64 + 16, likewise
#define NEG_INF __int_as_float(0xff800000)
#define LOG2_E4M3_MAX 8.807354922057604f  // log2(448)
#ifndef MIN_BLOCKS  // thread blocks per SM the register allocation must allow (QuantizedAttention may set it)
#define MIN_BLOCKS 1
#endif

__device__ __forceinline__ unsigned int smem_address(const void* p) {
    unsigned int a;
    asm("{ .reg .u64 s; cvta.to.shared.u64 s, %1; cvt.u32.u64 %0, s; }" : "=r"(a) : "l"(p));
    return a;
}

__device__ __forceinline__ void copy16(unsigned int dst, const void* src) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" :: "r"(dst), "l"(src));
}

__device__ __forceinline__ void ldmatrix_x4(unsigned int (&r)[4], unsigned int address) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(address));
}

__device__ __forceinline__ void mma_s8(int (&d)[4], const unsigned int (&a)[4], unsigned int b0, unsigned int b1) {
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};"
                 : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void mma_e4m3(float (&d)[4], const unsigned int (&a)[4], unsigned int b0,
                                         unsigned int b1) {
    asm volatile("mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
                 "{%8, %9}, {%0, %1, %2, %3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
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

extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS) int8_attention(
        const signed char* __restrict__ q, const float* __restrict__ qScale,
        const signed char* __restrict__ k, const float* __restrict__ kScale,
        const unsigned char* __restrict__ vT, const float* __restrict__ vScale,
        unsigned short* __restrict__ out, int len, int padded, int heads, float scoreScale) {
    __shared__ __align__(128) unsigned char ks[2][BLOCK_N * K_STRIDE];
    __shared__ __align__(128) unsigned char vs[2][HEAD_DIM * V_STRIDE];

    const int tid = threadIdx.x;
    const int warp = tid >> 5;
    const int lane = tid & 31;
    const int g = lane >> 2;  // the row (and row + 8) of the warp's 16 this thread holds
    const int t = lane & 3;   // its column pair within each 8-wide tile
    const int bh = blockIdx.y;
    const int firstRow = blockIdx.x * BLOCK_M + warp * 16;
    const int quantBlocks = padded / QBLOCK;
    const int tiles = (len + BLOCK_N - 1) / BLOCK_N;

    const signed char* kHead = k + (long) bh * padded * HEAD_DIM;
    const unsigned char* vHead = vT + (long) bh * HEAD_DIM * padded;
    const unsigned int ksBase = smem_address(ks);
    const unsigned int vsBase = smem_address(vs);

    // Each thread copies 2 of the 512 16-byte chunks of a K tile and 2 of a V tile.
    auto load_tile = [&](int tile, int buffer) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int chunk = tid + i * THREADS;
            const int key = chunk >> 3;
            const int part = chunk & 7;
            copy16(ksBase + buffer * (BLOCK_N * K_STRIDE) + key * K_STRIDE + part * 16,
                   kHead + ((long) tile * BLOCK_N + key) * HEAD_DIM + part * 16);
            const int channel = chunk >> 2;
            const int quarter = chunk & 3;
            copy16(vsBase + buffer * (HEAD_DIM * V_STRIDE) + channel * V_STRIDE + quarter * 16,
                   vHead + (long) channel * padded + tile * BLOCK_N + quarter * 16);
        }
        asm volatile("cp.async.commit_group;");
    };
    load_tile(0, 0);

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

    float o[16][4];
#pragma unroll
    for (int n = 0; n < 16; n++) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            o[n][e] = 0.0f;
        }
    }
    float m0 = NEG_INF, m1 = NEG_INF;  // running maxima of rows g and g + 8 (base 2)
    float l0 = 0.0f, l1 = 0.0f;        // this thread's part of their running sums

    // ldmatrix row addresses: lanes 8i..8i+7 give the 8 rows of matrix i, the 16-byte column i of a 64-byte span.
    const unsigned int kLane = (lane & 7) * K_STRIDE + (lane >> 3) * 16;
    const unsigned int vLane = (lane & 7) * V_STRIDE + (lane >> 3) * 16;

    for (int tile = 0; tile < tiles; tile++) {
        const int buffer = tile & 1;
        if (tile + 1 < tiles) {
            load_tile(tile + 1, buffer ^ 1);
            asm volatile("cp.async.wait_group 1;");
        } else {
            asm volatile("cp.async.wait_group 0;");
        }
        __syncthreads();

        // S = Q · Kᵀ for the warp's 16 rows and the tile's 64 keys: 8 n-tiles of 8 keys.
        int s[8][4];
        const unsigned int kTile = ksBase + buffer * (BLOCK_N * K_STRIDE) + kLane;
#pragma unroll
        for (int n = 0; n < 8; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                s[n][e] = 0;
            }
#pragma unroll
            for (int half = 0; half < 2; half++) {
                unsigned int b[4];
                ldmatrix_x4(b, kTile + n * 8 * K_STRIDE + half * 64);
                mma_s8(s[n], qa[2 * half], b[0], b[1]);
                mma_s8(s[n], qa[2 * half + 1], b[2], b[3]);
            }
        }

        const bool last = tile == tiles - 1;
        if (last) {
#pragma unroll
            for (int n = 0; n < 8; n++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    if (tile * BLOCK_N + n * 8 + 2 * t + (e & 1) >= len) {
                        s[n][e] = -2147483647;  // keys past len are padding: out of the maximum, P = 0 below
                    }
                }
            }
        }
        // The maximum is taken on the integer sums (the scale is positive), the scale applied once per row.
        int max0 = -2147483647, max1 = -2147483647;
#pragma unroll
        for (int n = 0; n < 8; n++) {
            max0 = max(max0, max(s[n][0], s[n][1]));
            max1 = max(max1, max(s[n][2], s[n][3]));
        }
        // The 4 threads holding a row are adjacent lanes.
        max0 = max(max0, __shfl_xor_sync(0xffffffffu, max0, 1));
        max0 = max(max0, __shfl_xor_sync(0xffffffffu, max0, 2));
        max1 = max(max1, __shfl_xor_sync(0xffffffffu, max1, 1));
        max1 = max(max1, __shfl_xor_sync(0xffffffffu, max1, 2));
        const float scale = rowScale * kScale[(long) bh * quantBlocks + tile];
        const float new0 = fmaxf(m0, (float) max0 * scale);  // finite: every tile holds a key < len
        const float new1 = fmaxf(m1, (float) max1 * scale);
        const float alpha0 = exp2_approx(m0 - new0);  // 0 on the first tile (m = -inf)
        const float alpha1 = exp2_approx(m1 - new1);
        m0 = new0;
        m1 = new1;
        // 2^(S − m) · 448: the largest P is 448, the top of e4m3's range; the factor cancels in O / l.
        const float shift0 = new0 - LOG2_E4M3_MAX;
        const float shift1 = new1 - LOG2_E4M3_MAX;
        float p[8][4];
#pragma unroll
        for (int n = 0; n < 8; n++) {
            p[n][0] = exp2_approx(fmaf((float) s[n][0], scale, -shift0));
            p[n][1] = exp2_approx(fmaf((float) s[n][1], scale, -shift0));
            p[n][2] = exp2_approx(fmaf((float) s[n][2], scale, -shift1));
            p[n][3] = exp2_approx(fmaf((float) s[n][3], scale, -shift1));
        }
        if (last) {
#pragma unroll
            for (int n = 0; n < 8; n++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    if (tile * BLOCK_N + n * 8 + 2 * t + (e & 1) >= len) {
                        p[n][e] = 0.0f;
                    }
                }
            }
        }
        float sum0 = 0.0f, sum1 = 0.0f;
#pragma unroll
        for (int n = 0; n < 8; n++) {
            sum0 += p[n][0] + p[n][1];
            sum1 += p[n][2] + p[n][3];
        }
        l0 = l0 * alpha0 + sum0;
        l1 = l1 * alpha1 + sum1;

        // P as the A operand of two k32 steps (keys 0-31, 32-63), in KEY_OF order.
        unsigned int pa[2][4];
#pragma unroll
        for (int h = 0; h < 2; h++) {
            pa[h][0] = pack_e4m3(p[4 * h][0], p[4 * h][1], p[4 * h + 1][0], p[4 * h + 1][1]);
            pa[h][1] = pack_e4m3(p[4 * h][2], p[4 * h][3], p[4 * h + 1][2], p[4 * h + 1][3]);
            pa[h][2] = pack_e4m3(p[4 * h + 2][0], p[4 * h + 2][1], p[4 * h + 3][0], p[4 * h + 3][1]);
            pa[h][3] = pack_e4m3(p[4 * h + 2][2], p[4 * h + 2][3], p[4 * h + 3][2], p[4 * h + 3][3]);
        }

        // O = O·α + P · V over 16 n-tiles of 8 channels.
        const unsigned int vTile = vsBase + buffer * (HEAD_DIM * V_STRIDE) + vLane;
#pragma unroll
        for (int n = 0; n < 16; n++) {
            unsigned int b[4];
            ldmatrix_x4(b, vTile + n * 8 * V_STRIDE);
            float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            mma_e4m3(acc, pa[0], b[0], b[1]);
            mma_e4m3(acc, pa[1], b[2], b[3]);
            o[n][0] = o[n][0] * alpha0 + acc[0];
            o[n][1] = o[n][1] * alpha0 + acc[1];
            o[n][2] = o[n][2] * alpha1 + acc[2];
            o[n][3] = o[n][3] * alpha1 + acc[3];
        }
        __syncthreads();  // every warp is done with this buffer before it is refilled
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
            out0[c / 2] = pack_bf16(o[n][0] * inv0 * s0, o[n][1] * inv0 * s1);
        }
        if (row1 < len) {
            out1[c / 2] = pack_bf16(o[n][2] * inv1 * s0, o[n][3] * inv1 * s1);
        }
    }
}
