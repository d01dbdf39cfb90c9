// 8-bit attention, stage 1 of issue 16: correct, not fast (no tensor cores). Compiled at run time by NVRTC for
// sm_90a (QuantizedAttention). It computes exactly what QuantizedAttention.reference computes with torch ops:
//   S = (Qi8 · Ki8ᵀ) · (sq · sk) · softmaxScale                       (int32 dot products, one scale per 64-token block)
//   online softmax over 64-key blocks in float32, running max m, sum l:
//     m' = max(m, max_j S_j),  α = exp(m − m'),  P_j = e4m3(exp(S_j − m') · 448)   (P as an FP8 e4m3 value)
//     l' = l·α + Σ_j P_j,      O' = O·α + Σ_j P_j · V8_j                          (float32)
//   out = bf16(O / l · vScale)                                          (V8: FP8 e4m3, one scale per channel)
// No header is included (NVRTC ships none of cuda_fp8.h / cuda_bf16.h by default): FP8 and bf16 conversions are
// written out below, rounding to nearest even like torch's casts.
//
// Layouts: q, k int8 [N, padded, 128] and v e4m3 [N, padded, 128] with N = batch·heads and padded a multiple of 64
// (rows >= len are zero and masked); qScale, kScale float [N, padded/64]; vScale float [N, 128];
// out bf16 [batch, len, heads, 128] (the DiT's layout), rows >= len not written.

#define BLOCK 64
#define HEAD_DIM 128
#define WORDS (HEAD_DIM / 4)
#define THREADS 256
#define KEYS_PER_THREAD (BLOCK / 4)
#define COLS_PER_THREAD (HEAD_DIM / 4)
#define NEG_INF __int_as_float(0xff800000)  // -inf without math.h

// An FP8 e4m3 (fn: no infinities) bit pattern as a float; exact.
__device__ __forceinline__ float e4m3_to_float(unsigned int bits) {
    unsigned int e = (bits >> 3) & 0xFu;
    unsigned int m = bits & 0x7u;
    float magnitude = e == 0 ? (float) m * 0.001953125f                       // subnormal: m · 2^-9
                             : __uint_as_float(((e + 120u) << 23) | (m << 20)); // (1 + m/8) · 2^(e-7)
    return __uint_as_float(__float_as_uint(magnitude) | ((bits & 0x80u) << 24));
}

// x rounded to the nearest FP8 e4m3 value (ties to even, saturating at ±448), as a float: the hardware conversion.
__device__ __forceinline__ float round_e4m3(float x) {
    unsigned short pair;
    asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(pair) : "f"(x), "f"(x));
    return e4m3_to_float(pair & 0xFFu);
}

// float -> bf16 bits, round to nearest even (finite inputs).
__device__ __forceinline__ unsigned short to_bf16(float x) {
    unsigned int u = __float_as_uint(x);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (unsigned short) (u >> 16);
}

// One thread block per (64-query block, batch·head); 4 threads per query row.
extern "C" __global__ void __launch_bounds__(THREADS) int8_attention(
        const int* __restrict__ q, const float* __restrict__ qScale,
        const int* __restrict__ k, const float* __restrict__ kScale,
        const unsigned char* __restrict__ v, const float* __restrict__ vScale,
        unsigned short* __restrict__ out, int len, int blocks, int heads, float softmaxScale) {
    __shared__ int qs[BLOCK][WORDS];
    __shared__ int ks[BLOCK][WORDS];
    __shared__ unsigned char vs[BLOCK][HEAD_DIM];
    __shared__ float ps[BLOCK][BLOCK];

    const int tid = threadIdx.x;
    const int row = tid >> 2;   // the query row this thread works on
    const int part = tid & 3;   // its quarter of the keys (S) and of the channels (O)
    const int qb = blockIdx.x;
    const int bh = blockIdx.y;
    if (qb >= blocks) {
        return;
    }
    const long padded = (long) blocks * BLOCK;

    const int* qTile = q + ((long) bh * padded + (long) qb * BLOCK) * WORDS;
    for (int i = tid; i < BLOCK * WORDS; i += THREADS) {
        qs[i / WORDS][i % WORDS] = qTile[i];
    }
    const float rowScale = qScale[(long) bh * blocks + qb];

    float m = NEG_INF;
    float l = 0.0f;
    float acc[COLS_PER_THREAD];
#pragma unroll
    for (int j = 0; j < COLS_PER_THREAD; j++) {
        acc[j] = 0.0f;
    }

    for (int kb = 0; kb < blocks; kb++) {
        __syncthreads();  // the previous tile's ks/vs/ps are no longer read
        const long tileStart = (long) bh * padded + (long) kb * BLOCK;
        const int* kTile = k + tileStart * WORDS;
        for (int i = tid; i < BLOCK * WORDS; i += THREADS) {
            ks[i / WORDS][i % WORDS] = kTile[i];
        }
        const unsigned char* vTile = v + tileStart * HEAD_DIM;
        for (int i = tid; i < BLOCK * HEAD_DIM; i += THREADS) {
            vs[i / HEAD_DIM][i % HEAD_DIM] = vTile[i];
        }
        __syncthreads();

        const float scale = (rowScale * kScale[(long) bh * blocks + kb]) * softmaxScale;
        float s[KEYS_PER_THREAD];
        float blockMax = NEG_INF;
#pragma unroll
        for (int j = 0; j < KEYS_PER_THREAD; j++) {
            const int c = part + 4 * j;
            int dot = 0;
            for (int w = 0; w < WORDS; w++) {
                dot = __dp4a(qs[row][w], ks[c][w], dot);
            }
            s[j] = kb * BLOCK + c < len ? (float) dot * scale : NEG_INF;  // keys past len are padding
            blockMax = fmaxf(blockMax, s[j]);
        }
        // The 4 threads of a row are adjacent lanes of one warp.
        blockMax = fmaxf(blockMax, __shfl_xor_sync(0xffffffffu, blockMax, 1));
        blockMax = fmaxf(blockMax, __shfl_xor_sync(0xffffffffu, blockMax, 2));
        const float mNew = fmaxf(m, blockMax);  // finite: every key block holds at least one key < len
        const float alpha = expf(m - mNew);     // 0 on the first block (m = -inf)
        float rowSum = 0.0f;
#pragma unroll
        for (int j = 0; j < KEYS_PER_THREAD; j++) {
            const float p = round_e4m3(expf(s[j] - mNew) * 448.0f);  // exp(-inf) = 0 for padding keys
            ps[row][part + 4 * j] = p;
            rowSum += p;
        }
        rowSum += __shfl_xor_sync(0xffffffffu, rowSum, 1);
        rowSum += __shfl_xor_sync(0xffffffffu, rowSum, 2);
        l = l * alpha + rowSum;
        m = mNew;
        __syncthreads();  // ps complete

#pragma unroll
        for (int j = 0; j < COLS_PER_THREAD; j++) {
            const int d = part * COLS_PER_THREAD + j;
            float sum = 0.0f;
            for (int c = 0; c < BLOCK; c++) {
                sum += ps[row][c] * e4m3_to_float(vs[c][d]);
            }
            acc[j] = acc[j] * alpha + sum;
        }
    }

    const int qi = qb * BLOCK + row;
    if (qi < len) {
        const int b = bh / heads;
        const int h = bh % heads;
        unsigned short* o = out + (((long) b * len + qi) * heads + h) * HEAD_DIM;
        const float* channelScale = vScale + (long) bh * HEAD_DIM;
#pragma unroll
        for (int j = 0; j < COLS_PER_THREAD; j++) {
            const int d = part * COLS_PER_THREAD + j;
            o[d] = to_bf16(acc[j] / l * channelScale[d]);
        }
    }
}
