package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.dit.DitConfig;
import io.github.hunyuanvideo.dit.DitInputs;
import io.github.hunyuanvideo.dit.HunyuanVideoTransformer;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.parallel.Communicator;
import io.github.hunyuanvideo.nn.parallel.Rendezvous;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * One rank of the multi-process sequence-parallel tests: {@code rank world storeFile}. It computes the one-rank
 * results first, then joins the Gloo group and computes them shared, printing {@code <check> <relative error>} per
 * check and {@code done} at the end: the DiT's velocity at batch 2 with padded text ({@code dit}), the true-CFG
 * pipeline's final latents ({@code cfg.latents}, and {@code cfg.video} on rank 0, {@code cfg.video none} on the
 * others), and with 2 ranks the golden {@code pipeline_tiny} case's ({@code golden.*}). The DiT has 6 heads, 4 with 4
 * ranks; under true CFG 2 and 4 ranks split in two halves, 3 do not.
 */
public final class ParallelWorker {
    private ParallelWorker() {
    }

    public static void main(String[] args) throws IOException {
        int rank = Integer.parseInt(args[0]);
        int world = Integer.parseInt(args[1]);
        Rendezvous rendezvous = Rendezvous.file(Path.of(args[2]), rank, world).withTimeout(Duration.ofSeconds(120));
        PipelineCase golden = PipelineCase.load(ReferenceCase.dir());
        try (PointerScope scope = new PointerScope();
             Weights ref = Weights.open(ReferenceCase.dir().resolve("pipeline_tiny.safetensors"))) {
            DitConfig model = world == 4 ? SequenceParallelSamplerTest.FOUR_HEADS : SequenceParallelSamplerTest.SIX_HEADS;
            DitInputs in = ditInputs();
            PromptEmbeddings[] prompts = SequenceParallelSamplerTest.cfgPrompts();
            GenerationRequest request = SequenceParallelSamplerTest.cfgRequest().seed(5L).build();
            Tensor dit = velocity(model, in, Communicator.single());
            SamplerResult cfg = generate(SequenceParallelSamplerTest.cfgSampler(Communicator.single(), model),
                    request, prompts);
            SamplerResult gold = world == 2 ? goldenRun(golden, ref, Communicator.single()) : null;
            try (Communicator c = rendezvous.connect(new Device("cpu"))) {
                System.out.println("dit " + Tensors.relativeError(velocity(model, in, c), dit));
                report("cfg", generate(SequenceParallelSamplerTest.cfgSampler(c, model), request, prompts), cfg,
                        rank);
                if (gold != null) {
                    report("golden", goldenRun(golden, ref, c), gold, rank);
                }
            }
        }
        System.out.println("done");
    }

    /** The velocity of a DiT of {@code model} (random weights, seed 11) on the ranks of {@code c}. */
    private static Tensor velocity(DitConfig model, DitInputs in, Communicator c) {
        try (HunyuanVideoTransformer dit = HunyuanVideoTransformer.randomInit(model, new Device("cpu"),
                ScalarType.Float, 11)) {
            dit.setSequenceParallel(c);
            return dit.forward(in);
        }
    }

    /** Batch 2 over latents [2, 16, 7, 4, 2] (14 image tokens), sample 1 with 3 of 6 text tokens. */
    private static DitInputs ditInputs() {
        torch.manual_seed(5);
        Tensor mask = torch.ones(new long[]{2, 6}, new TensorOptions(ScalarType.Long));
        mask.narrow(0, 1, 1).narrow(1, 3, 3).fill_(new Scalar(0));
        return new DitInputs(torch.randn(new long[]{2, 16, 7, 4, 2}), torch.full(new long[]{2}, new Scalar(700f)),
                torch.randn(new long[]{2, 6, 32}), mask, torch.randn(new long[]{2, 16}),
                torch.full(new long[]{2}, new Scalar(6016.0)));
    }

    private static SamplerResult generate(HunyuanVideoSampler sampler, GenerationRequest request,
                                          PromptEmbeddings[] prompts) {
        try (sampler) {
            return SequenceParallelSamplerTest.cfgGenerate(sampler, request, prompts);
        }
    }

    private static SamplerResult goldenRun(PipelineCase golden, Weights ref, Communicator c) throws IOException {
        try (HunyuanVideoSampler sampler = golden.sampler(golden.config("cpu", Precision.FP32, Precision.FP32)
                .toBuilder().communicator(c).build())) {
            return sampler.predict(golden.request(), PipelineCase.embeddings(ref), null, ProgressListener.NONE,
                    CancellationToken.NONE);
        }
    }

    private static void report(String name, SamplerResult got, SamplerResult expected, int rank) {
        System.out.println(name + ".latents " + Tensors.relativeError(got.latents(), expected.latents()));
        System.out.println(name + ".video " + (rank == 0 ? String.valueOf(Tensors.relativeError(got.videos(),
                expected.videos())) : got.hasVideos() ? "present" : "none"));
    }
}
