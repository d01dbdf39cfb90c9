// How many exponentials per second the GPU's special-function unit gives, per PTX form: ex2.approx.ftz.f32 (one
// value), ex2.approx.f16x2 and ex2.approx.ftz.bf16x2 (two values per instruction). Settles whether packed
// exponentials would lift the attention kernel's softmax (docs/benchmarks.md, GPU run 14: they do not; ptxas splits
// them into one MUFU.EX2 per half). Prints a markdown table.
// Build (any machine with nvcc 12.x or 13.x): nvcc -arch=sm_90a -O3 -o ex2-throughput scripts/ex2-throughput.cu
// Run on the GPU machine: ./ex2-throughput ; the SASS: cuobjdump -sass ex2-throughput | grep MUFU
#include <cstdio>
#include <cuda_runtime.h>

constexpr int BLOCKS_PER_SM = 8;
constexpr int THREADS = 256;
constexpr int CHAINS = 32;  // independent exponentials per thread and iteration: enough to fill the unit's pipeline

// MODE 0: f32, 1: f16x2, 2: bf16x2; each iteration applies CHAINS exponentials per thread.
template <int MODE>
__global__ void exponentials(float* out, int iterations) {
    float f[CHAINS];
    unsigned int h[CHAINS / 2];
    for (int i = 0; i < CHAINS; i++) {
        f[i] = (threadIdx.x + i) * 1e-3f - 1.0f;
    }
    // f16 pairs; the bf16x2 form reads the same bits (other values, the same rate: the unit's time is fixed)
    for (int i = 0; i < CHAINS / 2; i++) {
        unsigned short x;
        asm("cvt.rn.f16.f32 %0, %1;" : "=h"(x) : "f"(f[2 * i]));
        h[i] = x | ((unsigned int) x << 16);
    }
    for (int it = 0; it < iterations; it++) {
#pragma unroll
        for (int i = 0; i < CHAINS / 2; i++) {
            if (MODE == 0) {
                asm volatile("ex2.approx.ftz.f32 %0, %0;" : "+f"(f[2 * i]));
                asm volatile("ex2.approx.ftz.f32 %0, %0;" : "+f"(f[2 * i + 1]));
            } else if (MODE == 1) {
                asm volatile("ex2.approx.f16x2 %0, %0;" : "+r"(h[i]));
            } else {
                asm volatile("ex2.approx.ftz.bf16x2 %0, %0;" : "+r"(h[i]));
            }
        }
    }
    float sum = 0.0f;
    for (int i = 0; i < CHAINS / 2; i++) {
        sum += f[2 * i] + f[2 * i + 1] + (float) h[i];
    }
    out[blockIdx.x * blockDim.x + threadIdx.x] = sum;  // keeps the chains live
}

// Milliseconds of the second of two launches (the first warms up).
template <int MODE>
float time_ms(float* out, int blocks, int iterations) {
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    exponentials<MODE><<<blocks, THREADS>>>(out, iterations);
    cudaEventRecord(start);
    exponentials<MODE><<<blocks, THREADS>>>(out, iterations);
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms;
    cudaEventElapsedTime(&ms, start, stop);
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return ms;
}

int main() {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
        std::fprintf(stderr, "no CUDA device\n");
        return 1;
    }
    int clockKhz = 0;  // the maximum SM clock (cudaDeviceProp lost its clockRate in CUDA 13)
    cudaDeviceGetAttribute(&clockKhz, cudaDevAttrClockRate, 0);
    const int blocks = prop.multiProcessorCount * BLOCKS_PER_SM;
    const int iterations = 4096;
    float* out;
    cudaMalloc(&out, (size_t) blocks * THREADS * sizeof(float));
    const double count = (double) blocks * THREADS * iterations * CHAINS;
    const char* names[] = {"ex2.approx.ftz.f32", "ex2.approx.f16x2", "ex2.approx.ftz.bf16x2"};
    const float ms[] = {time_ms<0>(out, blocks, iterations), time_ms<1>(out, blocks, iterations),
                        time_ms<2>(out, blocks, iterations)};
    if (cudaGetLastError() != cudaSuccess) {
        std::fprintf(stderr, "launch failed\n");
        return 1;
    }
    std::printf("%s, %d SMs: %d blocks of %d threads, %d exponentials per thread\n\n", prop.name,
                prop.multiProcessorCount, blocks, THREADS, iterations * CHAINS);
    std::printf("| form | ms | exponentials/s | per SM per clock at the max clock |\n|---|---|---|---|\n");
    for (int m = 0; m < 3; m++) {
        const double rate = count / (ms[m] * 1e-3);
        std::printf("| %s | %.2f | %.3e | %.1f |\n", names[m], ms[m], rate,
                    rate / prop.multiProcessorCount / (clockKhz * 1e3));
    }
    cudaFree(out);
    return 0;
}
