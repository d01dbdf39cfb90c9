// 8-bit attention on Hopper tensor cores (issue 16). Compiled at run time by NVRTC for sm_90a (QuantizedAttention).
// It computes what QuantizedAttention.reference computes with torch ops:
//   S = (Qi8 · Ki8ᵀ) · (sq · sk) · softmaxScale                  (INT8 products, int32 sums; one scale per 64 tokens)
//   online softmax over 128-key tiles in float32 (base 2: scores are pre-multiplied by log2 e), running max m, sum l:
//     m' = max(m, max_j S_j),  α = 2^(m − m'),  P_j = 2^(S_j − m'),  l' = l·α + Σ_j P_j
//     (here m is a row's first-tile maximum, and moves only where a thread's partial sum of P over a tile exceeds
//     LAZY_LIMIT: the same softmax for any reference value m, without a tile's maxima on almost every tile)
//     O' = O·α + Σ_j bf16(P_j) · V_j                                (BF16 products, float32 accumulation)
//   out = bf16(O / l)
// P·V takes P and V in bf16, not e4m3: with P in e4m3, one e4m3 V costs ≈ 3.9 % relative L1 (the bar is 3 %) and the
// pair of e4m3 terms that meets it is two FP8 products, the same tensor time as one BF16 product; BF16 needs no V
// scales, no second product and no byte shuffles, and leaves the error at about INT8 Q·Kᵀ's own (1.3 % relative L1).
// One e4m3 product for those who take its error is the PV_FP8_EVERY=1 build (below).
// The tensor cores accumulate P·V into O itself (float32, as in bf16 flash attention); O is rescaled by α before a
// tile's product is queued, and not at all where no row of the warp has a new maximum (α = 1).
//
// Work split: a thread block takes 128 queries of one (batch, head); warps 0-3 and 4-7 are two warpgroups of 64 rows
// that run independently (no block-wide barrier in the loop); warps 8-11, a third warpgroup, load. Q (in shared
// memory) and tiles of 128 keys (K, V) are copied by the TMA's bulk copies, issued by one thread of the loading
// warpgroup, into a ring of STAGES stages: a stage has an mbarrier for K's bytes landed, one for V's (the scores wait
// only for K), and an "empty" one counting the threads done with it, on which the loading thread refills it at once.
// The loading warpgroup gives its registers to the other two (setmaxnreg: 24 and 240 per thread; 384 threads
// would otherwise get 168 registers each; the computing code needs ≈ 250). With the loads in a computing warp, that
// warp's warpgroup waited whenever the other had not yet released the stage to refill (GPU run 13: 6 % slower).
// Within a warpgroup, tile j's P·V and tile j + 1's Q·Kᵀ are queued on the tensor cores together, and tile j + 1's
// softmax runs while P·V executes (its P goes into the second of two P buffers, which swap roles each tile).
//
// The P operand is the score accumulators' layout itself: a thread holds keys {8n + 2t, 8n + 2t + 1} of each 8-key
// n-tile, which is where a 16-bit A fragment of k16 step i wants keys 16i + {2t, 2t + 1} (n-tile 2i) and
// 16i + 8 + {2t, 2t + 1} (n-tile 2i + 1); V keeps its keys in order.
//
// Operands in global memory are tile images, byte for byte what wgmma reads from shared memory (one bulk copy moves a
// tile), 64 tokens per tile:
//   q, k int8 [N, padded/64, 8 row groups, 8 parts of 16 channels, 8 rows, 16 channels] (QuantizedAttention.rowTiles;
//   N = batch·heads, padded a multiple of 128, zero rows from len on); qScale, kScale float [N, padded/64];
//   v bf16 [N, padded/64, 16 groups of 8 channels, 8 parts of 8 keys, 8 channels, 8 keys] (QuantizedAttention.kernelV);
//   out bf16 [batch, len, heads, 128] (the DiT's layout), rows >= len not written.
// No header is included (NVRTC ships none by default).

#define BLOCK_M 128
#define BLOCK_N 128
#define QBLOCK 64
#define HEAD_DIM 128
#define CONSUMERS 256  // the two warpgroups of 64 query rows
#define THREADS 384    // and a third that loads the tiles
#define NEG_INF __int_as_float(0xff800000)
#define PADDING_SCORE (-2147483647)
// |S| <= 127² · 128 < 2^22, so the float with bits MAGIC_BITS + S is MAGIC + S exactly: an integer add instead of a
// conversion instruction, which runs at a quarter of its rate (the exponentials' unit); MAGIC goes into the bias.
#define MAGIC_BITS 0x4B400000
#define MAGIC 12582912.0f
#define ROW_TILE_BYTES (QBLOCK * HEAD_DIM)  // a 64-row tile image of Q or K
#define K_TILE_BYTES (2 * ROW_TILE_BYTES)    // the 128 keys of a tile: two images
#define V_IMAGE_BYTES (QBLOCK * HEAD_DIM * 2)  // the bf16 V of 64 keys
#define V_TILE_BYTES (2 * V_IMAGE_BYTES)     // the 128 keys of a tile: two images
#define STAGE_BYTES (K_TILE_BYTES + V_TILE_BYTES)
// Tuning knob (-D): STAGES, the ring's depth (3 measured 7 % faster than 4 on an H100, 2 a third slower).
#ifndef STAGES
#define STAGES 3
#endif
// P = 2^(S − m) above 1 is fine for float32 sums, float32 O and bf16 P up to far beyond this (2^32): O stays below
// L · 2^32 · max|V|, finite for any max|V| < 2^79.
#define LAZY_LIMIT 4294967296.0f
// Tuning knob (-D): PV_FP8_EVERY=n > 0 runs the P·V of every n-th tile (tiles n − 1, 2n − 1, ...) in FP8, an
// m64n128k32 e4m3 product into the same float32 O at twice the BF16 rate, with P·8 and V/8 in e4m3 (P stays above
// e4m3's subnormals down to 2^-9, V below its maximum up to 3584); such a tile's V image is e4m3 (tile_bf16), the
// first 16 of its 32 KiB. It costs accuracy: e4m3's three mantissa bits add ≈ 3.7 % / √n relative L1 in quadrature
// to INT8 Q·Kᵀ's 1.3 % (H200 at 720p, Gaussian inputs: n = 1 4.1 %, 2 3.3 %, 3 2.7 %, 4 2.4 %). n = 1 is
// Attention.INT8_FP8 (QuantizedAttention.ValueProduct.FP8).
#ifndef PV_FP8_EVERY
#define PV_FP8_EVERY 0
#endif
#define FP8_P_LOG2_SCALE 3.0f
#define FP8_V_SCALE 0.125f
// An FP8 tile's P·8 must stay within e4m3's 448: a thread's partial sum of P up to 56 bounds every P in it.
#define FP8_LAZY_LIMIT 56.0f

// Whether the tile's P·V runs in FP8 (PV_FP8_EVERY).
__device__ __forceinline__ bool fp8_tile(int tile) {
#if PV_FP8_EVERY > 0
    return tile % PV_FP8_EVERY == PV_FP8_EVERY - 1;
#else
    return false;
#endif
}
// fp8_tile of tile + u in the main loop, whose tile is even: a constant where PV_FP8_EVERY divides 2 (a branch on it
// costs registers; unrolling the loop to a multiple of 3 or 4 cost more, nvcc 13.0: 292 / 740 bytes of spills).
#if PV_FP8_EVERY <= 2
#define FP8_AT(tile, u) fp8_tile(u)
#else
#define FP8_AT(tile, u) fp8_tile((tile) + (u))
#endif
// The dynamic shared memory the kernel needs: Q's 128 rows, then the stages (QuantizedAttention.attentionSharedBytes).
#define SHARED_BYTES (BLOCK_M * HEAD_DIM + STAGES * STAGE_BYTES)

__device__ __forceinline__ unsigned int smem_address(const void* p) {
    unsigned int a;
    asm("{ .reg .u64 s; cvta.to.shared.u64 s, %1; cvt.u32.u64 %0, s; }" : "=r"(a) : "l"(p));
    return a;
}

__device__ __forceinline__ float exp2_approx(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// Two floats as bf16 (nearest even), x0 in the low half.
__device__ __forceinline__ unsigned int pack_bf16(float x0, float x1) {
    unsigned int r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(x1), "f"(x0));
    return r;
}

// Four floats as e4m3 bytes (nearest even, saturated to ±448), x0 in the lowest.
__device__ __forceinline__ unsigned int pack_e4m3(float x0, float x1, float x2, float x3) {
    unsigned int r;
    asm("{ .reg .b16 lo, hi;\n"
        "cvt.rn.satfinite.e4m3x2.f32 lo, %2, %1;\n"
        "cvt.rn.satfinite.e4m3x2.f32 hi, %4, %3;\n"
        "mov.b32 %0, {lo, hi}; }" : "=r"(r) : "f"(x0), "f"(x1), "f"(x2), "f"(x3));
    return r;
}

// Whether score i of the thread (key 8·(i / 4) + 2t + (i % 2) of the tile starting at keyBase) is past len.
__device__ __forceinline__ bool padding_key(int i, int keyBase, int len, int t) {
    return keyBase + (i >> 2) * 8 + 2 * t + (i & 1) >= len;
}

// P = 2^(S − ref) of the thread's scores (rows g: s[4n], s[4n+1]; g + 8: s[4n+2], s[4n+3]; n the 8-key n-tile, 0-7
// the first 64 keys with score scale scaleA, 8-15 the second with scaleB) as the bf16 A fragments of the eight
// 16-key steps (fp8: P·8 as the e4m3 A fragments of the four 32-key steps, in pa[0..3]), and the thread's partial
// sums of each row's P; keys >= len (a partial tile) give P = 0.
__device__ __forceinline__ void exponentials(const int (&s)[64], unsigned int (&pa)[8][4], float ref0, float ref1,
                                             float scaleA, float scaleB, bool partial, int keyBase, int len, int t,
                                             bool fp8, float& sum0, float& sum1) {
    // 2^(S − ref) as 2^((MAGIC + S)·scale − (MAGIC·scale + ref)), one FMA: the product is exact in an FMA, and the
    // bias's rounding (half an ulp of MAGIC·scale, ≈ 1e-4 at the DiT's scales) scales a row's P within a half tile
    // alike. FP8 tiles take 2^3 more (P·8).
    const float biasA0 = fp8 ? FP8_P_LOG2_SCALE - fmaf(MAGIC, scaleA, ref0) : -fmaf(MAGIC, scaleA, ref0);
    const float biasA1 = fp8 ? FP8_P_LOG2_SCALE - fmaf(MAGIC, scaleA, ref1) : -fmaf(MAGIC, scaleA, ref1);
    const float biasB0 = fp8 ? FP8_P_LOG2_SCALE - fmaf(MAGIC, scaleB, ref0) : -fmaf(MAGIC, scaleB, ref0);
    const float biasB1 = fp8 ? FP8_P_LOG2_SCALE - fmaf(MAGIC, scaleB, ref1) : -fmaf(MAGIC, scaleB, ref1);
    float p[64];
#pragma unroll
    for (int i = 0; i < 64; i++) {
        const float bias = i < 32 ? ((i & 2) ? biasA1 : biasA0) : ((i & 2) ? biasB1 : biasB0);
        p[i] = exp2_approx(fmaf(__int_as_float(s[i] + MAGIC_BITS), i < 32 ? scaleA : scaleB, bias));
    }
    if (partial) {
#pragma unroll
        for (int i = 0; i < 64; i++) {
            if (padding_key(i, keyBase, len, t)) {
                p[i] = 0.0f;
            }
        }
    }
    sum0 = 0.0f;
    sum1 = 0.0f;
#pragma unroll
    for (int n = 0; n < 16; n++) {
        sum0 += p[4 * n] + p[4 * n + 1];
        sum1 += p[4 * n + 2] + p[4 * n + 3];
    }
    if (fp8) {
        sum0 *= 0.125f;
        sum1 *= 0.125f;
        // An 8-bit A fragment's register holds keys 4t .. 4t + 3 of its 16 (rows g, g + 8, then the next 16 keys):
        // here keys 2t, 2t + 1 of n-tiles 4i + 2j and 4i + 2j + 1, an order V's e4m3 image follows (tile_bf16).
#pragma unroll
        for (int i = 0; i < 4; i++) {
            pa[i][0] = pack_e4m3(p[16 * i], p[16 * i + 1], p[16 * i + 4], p[16 * i + 5]);
            pa[i][1] = pack_e4m3(p[16 * i + 2], p[16 * i + 3], p[16 * i + 6], p[16 * i + 7]);
            pa[i][2] = pack_e4m3(p[16 * i + 8], p[16 * i + 9], p[16 * i + 12], p[16 * i + 13]);
            pa[i][3] = pack_e4m3(p[16 * i + 10], p[16 * i + 11], p[16 * i + 14], p[16 * i + 15]);
        }
        return;
    }
#pragma unroll
    for (int i = 0; i < 8; i++) {  // n-tiles 2i (rows g, g + 8), then 2i + 1
        pa[i][0] = pack_bf16(p[8 * i], p[8 * i + 1]);
        pa[i][1] = pack_bf16(p[8 * i + 2], p[8 * i + 3]);
        pa[i][2] = pack_bf16(p[8 * i + 4], p[8 * i + 5]);
        pa[i][3] = pack_bf16(p[8 * i + 6], p[8 * i + 7]);
    }
}

// The online-softmax step of one 128-key tile for the thread's rows g and g + 8 (see exponentials): updates the
// running maxima m and partial sums l, returns the rescale factors α (exactly 1 where m stayed) and P as the bf16 A
// fragments. keyBase: the tile's first key; keys >= len are padding.
__device__ __forceinline__ void softmax_tile(int (&s)[64], unsigned int (&pa)[8][4], int keyBase, int len, int t,
                                             bool fp8, float scaleA, float scaleB, float& m0, float& m1, float& l0,
                                             float& l1, float& alpha0, float& alpha1) {
    const bool partial = keyBase + BLOCK_N > len;
    float sum0, sum1;
    if (partial) {
#pragma unroll
        for (int i = 0; i < 64; i++) {
            if (padding_key(i, keyBase, len, t)) {
                s[i] = PADDING_SCORE;  // out of the maximum (exponentials sets its P to 0)
            }
        }
    }
    // Past a row's first tile, P from m as it stands: a score above m only makes P > 1, fine up to LAZY_LIMIT. This
    // skips the tile's maxima (integer maxima, shuffles) on the softmax's critical path. A partial sum past the
    // limit (or inf) sends the warp to the exact step below, from the scores still held.
    if (__all_sync(0xffffffffu, m0 != NEG_INF && m1 != NEG_INF)) {
        exponentials(s, pa, m0, m1, scaleA, scaleB, partial, keyBase, len, t, fp8, sum0, sum1);
        const float limit = fp8 ? FP8_LAZY_LIMIT : LAZY_LIMIT;
        if (!__any_sync(0xffffffffu, !(sum0 <= limit && sum1 <= limit))) {
            l0 += sum0;
            l1 += sum1;
            alpha0 = 1.0f;
            alpha1 = 1.0f;
            return;
        }
    }
    // The maxima are taken on the integer sums of each half (its scale is positive), then scaled.
    int maxA0 = PADDING_SCORE, maxA1 = PADDING_SCORE, maxB0 = PADDING_SCORE, maxB1 = PADDING_SCORE;
#pragma unroll
    for (int n = 0; n < 8; n++) {
        maxA0 = max(maxA0, max(s[4 * n], s[4 * n + 1]));
        maxA1 = max(maxA1, max(s[4 * n + 2], s[4 * n + 3]));
        maxB0 = max(maxB0, max(s[32 + 4 * n], s[32 + 4 * n + 1]));
        maxB1 = max(maxB1, max(s[32 + 4 * n + 2], s[32 + 4 * n + 3]));
    }
    // A half of padding only (the last tile's second) has no maximum: its scale may be anything.
    float max0 = fmaxf(maxA0 == PADDING_SCORE ? NEG_INF : (float) maxA0 * scaleA,
                       maxB0 == PADDING_SCORE ? NEG_INF : (float) maxB0 * scaleB);
    float max1 = fmaxf(maxA1 == PADDING_SCORE ? NEG_INF : (float) maxA1 * scaleA,
                       maxB1 == PADDING_SCORE ? NEG_INF : (float) maxB1 * scaleB);
    // The 4 threads holding a row are adjacent lanes.
    max0 = fmaxf(max0, __shfl_xor_sync(0xffffffffu, max0, 1));
    max0 = fmaxf(max0, __shfl_xor_sync(0xffffffffu, max0, 2));
    max1 = fmaxf(max1, __shfl_xor_sync(0xffffffffu, max1, 1));
    max1 = fmaxf(max1, __shfl_xor_sync(0xffffffffu, max1, 2));
    const float new0 = fmaxf(m0, max0);  // finite: every tile holds a key < len
    const float new1 = fmaxf(m1, max1);
    alpha0 = new0 == m0 ? 1.0f : exp2_approx(m0 - new0);  // 0 on the first tile (m = -inf)
    alpha1 = new1 == m1 ? 1.0f : exp2_approx(m1 - new1);
    m0 = new0;
    m1 = new1;
    exponentials(s, pa, new0, new1, scaleA, scaleB, partial, keyBase, len, t, fp8, sum0, sum1);
    l0 = l0 * alpha0 + sum0;
    l1 = l1 * alpha1 + sum1;
}

// mbarriers and the TMA's bulk copy (addresses in the shared window).
__device__ __forceinline__ void barrier_init(unsigned int bar, unsigned int count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"(bar), "r"(count) : "memory");
}

__device__ __forceinline__ void barrier_arrive(unsigned int bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" :: "r"(bar) : "memory");
}

// Arrives once and expects `bytes` more to land (the bulk copies' complete_tx) before the phase completes.
__device__ __forceinline__ void barrier_expect(unsigned int bar, unsigned int bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"(bar), "r"(bytes) : "memory");
}

// Waits until the barrier's phase of this parity has completed.
__device__ __forceinline__ void barrier_wait(unsigned int bar, unsigned int parity) {
    asm volatile("{\n.reg .pred done;\nWAIT:\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
                 "@!done bra WAIT;\n}\n" :: "r"(bar), "r"(parity) : "memory");
}

// `bytes` (a multiple of 16) from global to shared memory, counted on the barrier as they land.
__device__ __forceinline__ void bulk_copy(unsigned int dst, const void* src, unsigned int bytes, unsigned int bar) {
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];"
                 :: "r"(dst), "l"(src), "r"(bytes), "r"(bar) : "memory");
}

// Pins a register's value here: registers a queued wgmma still reads (A) or writes (D) must not be reused or moved by
// the compiler before the wgmma's wait, which it cannot see.
__device__ __forceinline__ void hold(unsigned int& r) {
    asm volatile("" : "+r"(r) :: "memory");
}

__device__ __forceinline__ void hold(int& r) {
    asm volatile("" : "+r"(r) :: "memory");
}

__device__ __forceinline__ void hold(float& r) {
    asm volatile("" : "+f"(r) :: "memory");
}

// D (64×128 int32, 64 per thread) {=, +=} A (64 rows × 32 bytes) · B (128 keys × 32 bytes), INT8, both K-major tiles
// in shared memory: one warpgroup.
__device__ __forceinline__ void wgmma_s8(int (&d)[64], unsigned long long a, unsigned long long b, int accumulate) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8 {"
                 "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
                 "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
                 "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
                 "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
                 "}, %64, %65, p;\n}\n"
                 :
                 "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]), "+r"(d[5]), "+r"(d[6]), "+r"(d[7]),
                 "+r"(d[8]), "+r"(d[9]), "+r"(d[10]), "+r"(d[11]), "+r"(d[12]), "+r"(d[13]), "+r"(d[14]), "+r"(d[15]),
                 "+r"(d[16]), "+r"(d[17]), "+r"(d[18]), "+r"(d[19]), "+r"(d[20]), "+r"(d[21]), "+r"(d[22]), "+r"(d[23]),
                 "+r"(d[24]), "+r"(d[25]), "+r"(d[26]), "+r"(d[27]), "+r"(d[28]), "+r"(d[29]), "+r"(d[30]), "+r"(d[31]),
                 "+r"(d[32]), "+r"(d[33]), "+r"(d[34]), "+r"(d[35]), "+r"(d[36]), "+r"(d[37]), "+r"(d[38]), "+r"(d[39]),
                 "+r"(d[40]), "+r"(d[41]), "+r"(d[42]), "+r"(d[43]), "+r"(d[44]), "+r"(d[45]), "+r"(d[46]), "+r"(d[47]),
                 "+r"(d[48]), "+r"(d[49]), "+r"(d[50]), "+r"(d[51]), "+r"(d[52]), "+r"(d[53]), "+r"(d[54]), "+r"(d[55]),
                 "+r"(d[56]), "+r"(d[57]), "+r"(d[58]), "+r"(d[59]), "+r"(d[60]), "+r"(d[61]), "+r"(d[62]), "+r"(d[63])
                 : "l"(a), "l"(b), "r"(accumulate));
}

// A wgmma's 64 float32 accumulators per thread: the operand placeholders %0 .. %63 and the in-out operands.
#define D64_REGISTERS \
    "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
    "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
    "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
    "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
#define D64_FLOATS(d) \
    "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
    "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
    "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
    "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
    "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
    "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
    "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
    "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])

// D (64×128 float32, 64 per thread) += A (64×16 bf16 from registers) · B (a 128-channel × 16-key K-major tile in
// shared memory): one warpgroup.
__device__ __forceinline__ void wgmma_bf16(float (&d)[64], const unsigned int (&a)[4], unsigned long long b) {
    asm volatile("{\n"
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {" D64_REGISTERS
                 "}, {%64, %65, %66, %67}, %68, 1, 1, 1, 0;\n}\n"
                 : D64_FLOATS(d)
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b));
}

// D (64×128 float32, 64 per thread) += A (64×32 e4m3 from registers) · B (a 128-channel × 32-key K-major e4m3 tile in
// shared memory): one warpgroup.
__device__ __forceinline__ void wgmma_e4m3(float (&d)[64], const unsigned int (&a)[4], unsigned long long b) {
    asm volatile("{\n"
                 "wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 {" D64_REGISTERS
                 "}, {%64, %65, %66, %67}, %68, 1, 1, 1;\n}\n"
                 : D64_FLOATS(d)
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b));
}

// A shared-memory matrix descriptor for wgmma: no swizzle, 8-row × 16-byte core matrices of 128 contiguous bytes,
// `leading` bytes apart along K and `stride` bytes apart along M/N.
__device__ __forceinline__ unsigned long long descriptor(unsigned int address, unsigned int leading,
                                                         unsigned int stride) {
    return (unsigned long long) ((address & 0x3FFFFu) >> 4) | ((unsigned long long) (leading >> 4) << 16)
           | ((unsigned long long) (stride >> 4) << 32);
}
// Tiles in shared memory as core matrices: K [8-key groups][8 parts of 16 channels][8 keys × 16 bytes], V [8-channel
// groups][8 parts of 8 keys][8 channels × 16 bytes] per 64 keys, or in e4m3 (PV_FP8_EVERY) [8-channel groups][8 parts
// of 16 keys][8 channels × 16 bytes] for all 128.
#define K_LEADING 128
#define K_STRIDE_BYTES 1024
#define V_LEADING 128
#define V_STRIDE_BYTES 1024

extern "C" __global__ void __launch_bounds__(THREADS, 1) int8_attention(
        const signed char* __restrict__ q, const float* __restrict__ qScale,
        const signed char* __restrict__ k, const float* __restrict__ kScale,
        const unsigned char* __restrict__ v, unsigned short* __restrict__ out, int len, int padded, int heads,
        float scoreScale) {
    extern __shared__ __align__(1024) unsigned char shared[];  // Q, then the stages
    __shared__ __align__(8) unsigned long long keysFull[STAGES];    // K landed (the scores need only K)
    __shared__ __align__(8) unsigned long long valuesFull[STAGES];  // V landed
    __shared__ __align__(8) unsigned long long empty[STAGES];
    __shared__ __align__(8) unsigned long long queryLoaded;

    const int tid = threadIdx.x;
    const int warp = tid >> 5;
    const int group = warp >> 2;  // the warpgroup: rows 64·group ..
    const int lane = tid & 31;
    const int g = lane >> 2;  // the row (and row + 8) of the warp's 16 this thread holds
    const int t = lane & 3;   // its column pair within each 8-wide n-tile
    const int bh = blockIdx.y;
    const int firstRow = blockIdx.x * BLOCK_M + warp * 16;
    const int quantBlocks = padded / QBLOCK;
    const int tiles = (len + BLOCK_N - 1) / BLOCK_N;
    unsigned int sharedSize;
    asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(sharedSize));
    if (sharedSize < SHARED_BYTES) {
        __trap();  // launched with less dynamic shared memory than this source's stages need
    }
    if (blockDim.x != THREADS) {
        __trap();  // the loading warpgroup is missing (or the computing ones would be short)
    }

    const unsigned int qs = smem_address(shared);
    const unsigned int stageBase = qs + BLOCK_M * HEAD_DIM;
    const unsigned int keysBar = smem_address(keysFull);
    const unsigned int valuesBar = smem_address(valuesFull);
    const unsigned int emptyBar = smem_address(empty);
    const unsigned int queryBar = smem_address(&queryLoaded);
    const signed char* kHead = k + (long) bh * padded * HEAD_DIM;
    const unsigned char* vHead = v + (long) bh * padded * HEAD_DIM * 2;
    // The loading thread only: the tile's K and V into its stage.
    auto load_tile = [&](int tile) {
        const int stage = tile % STAGES;
        const unsigned int to = stageBase + stage * STAGE_BYTES;
        barrier_expect(keysBar + 8 * stage, K_TILE_BYTES);
        bulk_copy(to, kHead + (long) tile * K_TILE_BYTES, K_TILE_BYTES, keysBar + 8 * stage);
        const unsigned int valueBytes = fp8_tile(tile) ? V_TILE_BYTES / 2 : V_TILE_BYTES;
        barrier_expect(valuesBar + 8 * stage, valueBytes);
        bulk_copy(to + K_TILE_BYTES, vHead + (long) tile * V_TILE_BYTES, valueBytes, valuesBar + 8 * stage);
    };
    if (tid == 0) {
#pragma unroll
        for (int stage = 0; stage < STAGES; stage++) {
            barrier_init(keysBar + 8 * stage, 1);
            barrier_init(valuesBar + 8 * stage, 1);
            barrier_init(emptyBar + 8 * stage, CONSUMERS);
        }
        barrier_init(queryBar, 1);
        asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");  // seen by the bulk copies' unit
    }
    __syncthreads();
    if (group == 2) {
        // The loading warpgroup: hands most of its registers to the other two (setmaxnreg; 128·24 + 256·240 fit
        // the 64 Ki), and one thread refills each stage as soon as both warpgroups released it.
        asm volatile("setmaxnreg.dec.sync.aligned.u32 24;" ::: "memory");
        if (tid == CONSUMERS) {
            barrier_expect(queryBar, BLOCK_M * HEAD_DIM);
            bulk_copy(qs, q + ((long) bh * padded + blockIdx.x * BLOCK_M) * HEAD_DIM, BLOCK_M * HEAD_DIM, queryBar);
            for (int tile = 0; tile < tiles; tile++) {
                if (tile >= STAGES) {
                    barrier_wait(emptyBar + 8 * (tile % STAGES), (tile / STAGES - 1) & 1);
                }
                load_tile(tile);
            }
        }
        return;
    }
    asm volatile("setmaxnreg.inc.sync.aligned.u32 240;" ::: "memory");

    const float rowScale = qScale[(long) bh * quantBlocks + blockIdx.x * (BLOCK_M / QBLOCK) + group] * scoreScale;
    const float* kScales = kScale + (long) bh * quantBlocks;
    // Matrix descriptors of this warpgroup's Q and of stage 0's K and V; others are these plus offsets / 16
    // (the address field never carries: shared addresses are < 256 KiB).
    const unsigned long long qDesc = descriptor(qs + group * ROW_TILE_BYTES, K_LEADING, K_STRIDE_BYTES);
    const unsigned long long kDesc = descriptor(stageBase, K_LEADING, K_STRIDE_BYTES);
    const unsigned long long vDesc = descriptor(stageBase + K_TILE_BYTES, V_LEADING, V_STRIDE_BYTES);

    // O accumulators: o[4n + e] is row g (e < 2) or g + 8, channel 8n + 2t + (e & 1).
    float o[64];
#pragma unroll
    for (int i = 0; i < 64; i++) {
        o[i] = 0.0f;
    }
    float m0 = NEG_INF, m1 = NEG_INF;  // running maxima of rows g and g + 8 (base 2)
    float l0 = 0.0f, l1 = 0.0f;        // this thread's part of their running sums

    // S = Q · Kᵀ for the warpgroup's 64 rows and a tile's 128 keys (16 core-matrix rows of 8, 1024 bytes apart
    // through both 64-key images), queued.
    auto issue_scores = [&](int tile, int (&s)[64]) {
        const unsigned long long kTile = kDesc + (tile % STAGES) * (STAGE_BYTES >> 4);
        asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#pragma unroll
        for (int c = 0; c < 4; c++) {  // 32 channels: two 16-byte core-matrix columns
            wgmma_s8(s, qDesc + c * (2 * K_LEADING >> 4), kTile + c * (2 * K_LEADING >> 4), c);
        }
        asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    };
    // O += P · V of a tile, queued.
    auto issue_values = [&](int tile, const unsigned int (&pa)[8][4], bool fp8) {
        const unsigned long long vTile = vDesc + (tile % STAGES) * (STAGE_BYTES >> 4);
        asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
        if (fp8) {
#pragma unroll
            for (int i = 0; i < 4; i++) {  // 32 keys: two 16-byte core-matrix columns of the e4m3 image
                wgmma_e4m3(o, pa[i], vTile + i * (2 * V_LEADING >> 4));
            }
        } else {
#pragma unroll
            for (int i = 0; i < 8; i++) {  // 16 keys: two 16-byte core-matrix columns of a 64-key image
                wgmma_bf16(o, pa[i], vTile + (i / 4) * (V_IMAGE_BYTES >> 4) + (i % 4) * (2 * V_LEADING >> 4));
            }
        }
        asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    };
    // The scores of a tile (waited for) → its P operands, the rescale factors of O, the running maxima and sums.
    auto softmax_of = [&](int tile, int (&s)[64], float scaleA, float scaleB, float& alpha0, float& alpha1,
                          unsigned int (&pa)[8][4], bool fp8) {
#pragma unroll
        for (int i = 0; i < 64; i++) {
            hold(s[i]);
        }
        softmax_tile(s, pa, tile * BLOCK_N, len, t, fp8, rowScale * scaleA, rowScale * scaleB, m0, m1, l0,
                     l1, alpha0, alpha1);
    };

    int s[64];
    unsigned int pa[8][4], paNext[8][4];
    float alpha0, alpha1;  // O's rescale factors for the tile whose P is in pa
    barrier_wait(queryBar, 0);
    barrier_wait(keysBar, 0);
    issue_scores(0, s);
    asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
    softmax_of(0, s, kScales[0], kScales[1], alpha0, alpha1, pa, fp8_tile(0));
    // The key scales (two per tile) are read a tile ahead: a global load in the softmax's path would stall it.
    float nextScaleA = tiles > 1 ? kScales[2] : 0.0f;
    float nextScaleB = tiles > 1 ? kScales[3] : 0.0f;
    // One tile: its P is in cur (α in alpha0/1); the next tile's softmax runs under this tile's P·V into nxt unless
    // this is the last tile. `more` is a constant at every call: ptxas serializes the wgmmas (waits on each) where a
    // wait's group count depends on a branch. fp8, fp8Next: fp8_tile of this tile and the next.
    auto step = [&](int tile, unsigned int (&cur)[8][4], unsigned int (&nxt)[8][4], bool more, bool fp8,
                    bool fp8Next) {
        if (more) {
            barrier_wait(keysBar + 8 * ((tile + 1) % STAGES), ((tile + 1) / STAGES) & 1);
            issue_scores(tile + 1, s);
        }
        barrier_wait(valuesBar + 8 * (tile % STAGES), (tile / STAGES) & 1);
        // O to this tile's maxima; late in a row they rarely move, and a warp whose rows kept theirs skips the 64
        // multiplications.
        if (__any_sync(0xffffffffu, alpha0 != 1.0f || alpha1 != 1.0f)) {
#pragma unroll
            for (int i = 0; i < 64; i++) {
                o[i] *= (i & 2) ? alpha1 : alpha0;
            }
        }
        issue_values(tile, cur, fp8);
        float nextAlpha0 = 1.0f, nextAlpha1 = 1.0f;
        if (more) {
            asm volatile("wgmma.wait_group.sync.aligned 1;" ::: "memory");  // the scores (queued first)
            const float scaleA = nextScaleA;
            const float scaleB = nextScaleB;
            if (tile + 2 < tiles) {
                nextScaleA = kScales[2 * tile + 4];
                nextScaleB = kScales[2 * tile + 5];
            }
            softmax_of(tile + 1, s, scaleA, scaleB, nextAlpha0, nextAlpha1, nxt, fp8Next);  // while P·V runs
        }
        asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
#pragma unroll
        for (int i = 0; i < 8; i++) {
#pragma unroll
            for (int r = 0; r < 4; r++) {
                hold(cur[i][r]);
            }
        }
#pragma unroll
        for (int i = 0; i < 64; i++) {
            hold(o[i]);
        }
        barrier_arrive(emptyBar + 8 * (tile % STAGES));
        alpha0 = nextAlpha0;
        alpha1 = nextAlpha1;
    };
    int tile = 0;
    for (; tile + 2 < tiles; tile += 2) {  // the two P buffers swap roles without copies
        step(tile, pa, paNext, true, FP8_AT(tile, 0), FP8_AT(tile, 1));
        step(tile + 1, paNext, pa, true, FP8_AT(tile, 1), FP8_AT(tile, 2));
    }
    if (tile + 1 < tiles) {
        step(tile, pa, paNext, true, fp8_tile(tile), fp8_tile(tile + 1));
        step(tile + 1, paNext, pa, false, fp8_tile(tile + 1), false);
    } else {
        step(tile, pa, paNext, false, fp8_tile(tile), false);
    }

    l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
    l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
    const int b = bh / heads;
    const int h = bh % heads;
    const int row0 = firstRow + g;
    const int row1 = row0 + 8;
    unsigned int* out0 = (unsigned int*) (out + (((long) b * len + row0) * heads + h) * HEAD_DIM);
    unsigned int* out1 = (unsigned int*) (out + (((long) b * len + row1) * heads + h) * HEAD_DIM);
    const float inv0 = 1.0f / l0;
    const float inv1 = 1.0f / l1;
#pragma unroll
    for (int n = 0; n < 16; n++) {
        const int c = n * 8 + 2 * t;
        if (row0 < len) {
            out0[c / 2] = pack_bf16(o[4 * n] * inv0, o[4 * n + 1] * inv0);
        }
        if (row1 < len) {
            out1[c / 2] = pack_bf16(o[4 * n + 2] * inv1, o[4 * n + 3] * inv1);
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

// Q or K to INT8 with one scale per 64 tokens: out [N, padded/64, 8192] (tile images, see the top), scale
// [N, padded/64]; mean [N, 128] (float) is subtracted first when given (K's smoothing), null otherwise. Rows past len
// are zeros.
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
    // Into the block's tile image: row r at (r / 8)·1024 + (r % 8)·16, channels 16p .. 16p + 15 at + 128p.
    const int r = threadIdx.x / 4;
    signed char* image = out + ((long) n * padded + blockIdx.x * QBLOCK) * HEAD_DIM;
    Bytes16* part = (Bytes16*) (image + (r / 8) * 1024 + (first / 16) * 128 + (r % 8) * 16);
    part[0] = Bytes16{packed[0], packed[1], packed[2], packed[3]};
    part[8] = Bytes16{packed[4], packed[5], packed[6], packed[7]};  // the next 16 channels, 128 bytes on
}

#if PV_FP8_EVERY > 0
// The thread's 32 values of key `key` (channels first ..) as V/8 in e4m3 into half blockIdx.x % 2 of an FP8 tile's
// image: [16 groups of 8 channels][8 parts of 16 keys][8 channels][16 keys], keys within a part in the order of the
// P fragments (exponentials): key 2t + b at 4t + b, key 8 + 2t + b at 4t + 2 + b (b = 0, 1).
__device__ __forceinline__ void tile_e4m3_half(const float (&value)[32], int key, int first, int n, int padded,
                                               unsigned short* __restrict__ vT) {
    __shared__ __align__(16) unsigned char tile[HEAD_DIM][QBLOCK];
    const int k16 = key % 16;
    const int position = (key / 16) * 16 + 4 * ((k16 % 8) / 2) + 2 * (k16 / 8) + k16 % 2;
#pragma unroll
    for (int j = 0; j < 32; j += 2) {
        unsigned short two;
        asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(two)
            : "f"(value[j + 1] * FP8_V_SCALE), "f"(value[j] * FP8_V_SCALE));
        tile[first + j][position] = (unsigned char) (two & 0xFFu);
        tile[first + j + 1][position] = (unsigned char) (two >> 8);
    }
    __syncthreads();
    // Thread i writes parts 2·(i % 2), + 1 of this half's four for channel i / 2.
    const int channel = threadIdx.x / 2;
    const int half = blockIdx.x % 2;
    unsigned char* image = (unsigned char*) (vT + ((long) n * (padded / QBLOCK) + blockIdx.x - half) * QBLOCK
                                                  * HEAD_DIM);
#pragma unroll
    for (int j = 0; j < 2; j++) {
        const int part = 2 * (threadIdx.x % 2) + j;
        *(Bytes16*) (image + (channel / 8) * 1024 + (4 * half + part) * 128 + (channel % 8) * 16)
                = *(const Bytes16*) &tile[channel][16 * part];
    }
}
#endif

// V as bf16 (nearest even; exact for bf16 input) in the attention kernel's tile images [N, padded/64, 8192] (see the
// top): per 64 keys, [16 groups of 8 channels][8 parts of 8 keys][8 channels][8 keys]; an FP8 tile's (PV_FP8_EVERY)
// in e4m3 instead (tile_e4m3_half). Rows past len are zeros.
extern "C" __global__ void __launch_bounds__(QUANT_THREADS) tile_bf16(
        const void* __restrict__ x, int dtype, long batchStride, long tokenStride, long headStride, int heads,
        int len, int padded, unsigned short* __restrict__ vT) {
    __shared__ __align__(16) unsigned short tile[HEAD_DIM][QBLOCK];
    float value[32];
    load_token(x, dtype, batchStride, tokenStride, headStride, heads, len, value);
    const int n = blockIdx.y;
    const int key = threadIdx.x / 4;
    const int first = 32 * (threadIdx.x % 4);
#if PV_FP8_EVERY > 0
    if (fp8_tile(blockIdx.x / (BLOCK_N / QBLOCK))) {
        tile_e4m3_half(value, key, first, n, padded, vT);
        return;
    }
#endif
#pragma unroll
    for (int j = 0; j < 32; j++) {
        unsigned short bits;
        asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(bits) : "f"(value[j]));
        tile[first + j][key] = bits;
    }
    __syncthreads();
    // Thread i writes half i % 2 of channel i / 2's 64 keys: 4 parts of 8 keys, part p of channel c at
    // (c / 8)·1024 + p·128 + (c % 8)·16 bytes of the image.
    const int channel = threadIdx.x / 2;
    const int half = threadIdx.x % 2;
    unsigned char* image = (unsigned char*) (vT + ((long) n * (padded / QBLOCK) + blockIdx.x) * QBLOCK * HEAD_DIM);
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int part = 4 * half + j;
        *(Bytes16*) (image + (channel / 8) * 1024 + part * 128 + (channel % 8) * 16)
                = *(const Bytes16*) &tile[channel][8 * part];
    }
}
