package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.io.testing.Stdout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GPU mains run end to end on the CPU with tiny sizes, so a GPU session does not die on a typo. */
class DitBenchSmokeTest {
    @Test
    void benchPrintsItsTable() {
        String out = Stdout.capture(() -> DitBench.main(new String[]{"--device", "cpu", "--dtype", "fp32", "--config",
                "tiny", "--latents", "1x16x5x8x12,2x16x1x4x4", "--text-len", "12", "--text-valid", "5", "--runs", "1",
                "--breakdown", "true"}));
        assertTrue(out.contains("; memory cap: none"), out);
        assertTrue(out.contains("| DiT forward 64×96×17 | latent [1, 16, 5, 8, 12] | 0 | fp32 |"), out);
        assertTrue(out.contains("| DiT forward 32×32×1 | latent [2, 16, 1, 4, 4] | 0 | fp32 |"), out);
        for (String stage : new String[]{"double: attention ", "single: attention ", "single: q/k RMSNorm + RoPE",
                "double: fc1 GEMM + GELU", "gated residual: bias pass", "embeddings + token refiner", "final layer"}) {
            assertTrue(out.contains(stage), stage + " missing from\n" + out);
        }
    }

    @Test
    void streamedModelsMatchTheResidentOneBitForBit() {
        String out = Stdout.capture(() -> DitBench.main(new String[]{"--device", "cpu", "--dtype", "fp32", "--config",
                "tiny", "--latents", "1x16x5x8x12", "--text-len", "12", "--text-valid", "5", "--runs", "2",
                "--probe-sdp", "false", "--streamed-blocks", "0,4,3", "--prefetch-depth", "1"}));
        String row = "| DiT forward 64×96×17 | latent [1, 16, 5, 8, 12] | ";
        assertTrue(out.contains(row + "0 |") && out.lines().anyMatch(l -> l.startsWith(row + "0 |")
                && l.endsWith("| first |")), out);
        for (int streamed : new int[]{4, 3}) {
            assertTrue(out.lines().anyMatch(l -> l.startsWith(row + streamed + " |") && l.endsWith("| bit-identical |")),
                    streamed + " streamed blocks:\n" + out);
        }
    }

    @Test
    void fp8ModelsRunAndStreamBitForBit() {
        String out = Stdout.capture(() -> DitBench.main(new String[]{"--device", "cpu", "--dtype", "fp32", "--config",
                "tiny", "--latents", "1x16x5x8x12", "--text-len", "12", "--text-valid", "5", "--runs", "1",
                "--probe-sdp", "false", "--fp8", "false,true", "--streamed-blocks", "0,4"}));
        String row = "| DiT forward 64×96×17 | latent [1, 16, 5, 8, 12] | ";
        assertTrue(out.contains("random fp32 weights, block Linears FP8 on cpu"), out);
        for (String weights : new String[]{"fp32", "FP8"}) {
            assertTrue(out.lines().anyMatch(l -> l.startsWith(row + "0 | " + weights + " |") && l.endsWith("| first |")),
                    weights + ":\n" + out);
            assertTrue(out.lines().anyMatch(l -> l.startsWith(row + "4 | " + weights + " |")
                    && l.endsWith("| bit-identical |")), weights + " streamed:\n" + out);
        }
        assertThrows(IllegalArgumentException.class, () -> DitBench.main(new String[]{"--fp8", "yes"}));
    }

    @Test
    void int8AttentionRunsAndSaysItFellBackOnTheCpu() {
        String out = Stdout.capture(() -> DitBench.main(new String[]{"--device", "cpu", "--dtype", "fp32", "--config",
                "tiny", "--latents", "1x16x5x8x12", "--text-len", "12", "--text-valid", "5", "--runs", "1",
                "--probe-sdp", "false", "--attention", "int8"}));
        assertTrue(out.lines().anyMatch(l -> l.startsWith("| DiT forward 64×96×17 | latent [1, 16, 5, 8, 12] | 0 |")
                && l.endsWith("| int8 → SDPA fallback (default) | first |")), out);
    }

    @Test
    void qkPrepBenchTimesEveryVariantAndChecksTheFusedForms() {
        String out = Stdout.capture(() -> QkPrepBench.main(new String[]{"--device", "cpu", "--tokens", "24",
                "--heads", "2", "--head-dim", "16", "--reps", "1"}));
        assertTrue(out.contains("| FusedRope.rmsNormApply | "), out);
        assertTrue(out.contains("| candidate: stack of two bf16 halves | "), out);
        // The fused form agrees with rms_norm + RoPE (float32 on the CPU).
        String fused = out.lines().filter(l -> l.startsWith("| FusedRope.rmsNormApply | ")).findFirst().orElseThrow();
        double err = Double.parseDouble(fused.substring(fused.lastIndexOf('|', fused.length() - 2) + 1,
                fused.length() - 1).trim());
        assertTrue(err < 1e-6, fused);
    }

    @Test
    void sdpaBenchComparesKeyLengths() {
        String out = Stdout.capture(() -> SdpaBench.main(new String[]{"--device", "cpu", "--lengths", "64",
                "--heads", "2", "--head-dim", "16", "--backends", "default", "--kv-fractions", "0.5"}));
        assertTrue(out.contains("| q 64 × kv 32 | default |"), out);
        assertThrows(IllegalArgumentException.class, () -> SdpaBench.main(new String[]{"--lengths"}));
    }

    @Test
    void gpuCheckPassesOnTheCpuInFloat32() {
        String out = Stdout.capture(() -> DitGpuCheck.main(new String[]{ReferenceCase.dir().toString(), "--device",
                "cpu", "--dtype", "fp32", "--tol", "1e-4"}));
        long batch;
        try (ReferenceCase dit = ReferenceCase.load("dit_tiny")) {
            batch = dit.tensor("in.x").size(0);
        }
        assertTrue(out.contains("| batch of " + batch + " |") && out.contains("| sample " + (batch - 1) + " alone |")
                && !out.contains("NO"), out);
    }

    @Test
    void streamingCheckFindsEveryStreamedModelBitIdenticalOnTheCpu() {
        String out = Stdout.capture(() -> StreamingGpuCheck.main(new String[]{ReferenceCase.dir().toString(),
                "--device", "cpu", "--dtype", "fp32"}));
        assertTrue(out.contains("PASS") && !out.contains("| NO |"), out);
        for (String model : new String[]{"| DiT (dit_tiny) | Float |", "| LLM (text_llm_tiny) | Float |",
                "| VAE decode, untiled and tiled (vae_tiny) | Float | every part |"}) {
            assertTrue(out.contains(model), model + " missing from\n" + out);
        }
    }

    @Test
    void badOptionsAreRejectedBeforeAnyWork() {
        assertThrows(IllegalArgumentException.class, () -> DitBench.main(new String[]{"--sdp", "fastest"}));
        assertThrows(IllegalArgumentException.class, () -> DitBench.main(new String[]{"--attention", "fp8"}));
        assertThrows(IllegalArgumentException.class, () -> DitBench.main(new String[]{"--device", "cpu", "--config",
                "tiny", "--latents", "1x4x5x8x8"}));
        assertThrows(IllegalArgumentException.class, () -> DitBench.main(new String[]{"--runs"}));
        assertThrows(IllegalArgumentException.class, () -> DitBench.main(new String[]{"--blas", "mkl"}));
        assertThrows(IllegalArgumentException.class, () -> DitBench.main(new String[]{"--device", "cpu", "--config",
                "tiny", "--blas", "cublaslt"}));
    }
}
