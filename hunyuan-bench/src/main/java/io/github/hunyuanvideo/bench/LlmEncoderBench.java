package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.text.LlamaConfig;
import io.github.hunyuanvideo.text.LlmEncoderOptions;
import io.github.hunyuanvideo.text.LlmTextEncoder;
import io.github.hunyuanvideo.text.LlmTokenizer;
import io.github.hunyuanvideo.text.PromptTemplate;
import io.github.hunyuanvideo.text.TextEncoding;
import io.github.hunyuanvideo.text.TokenizedPrompts;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Times the LLM text encoder on an 8B-shaped Llama (Llama-3-8B: 32 layers, hidden 4096, 32 heads, 8 KV heads, MLP
 * 14336, vocab 128256) with random weights created directly on the device, encoding one 351-token prompt (the
 * official {@code max_length}), and reports the CUDA caching allocator's peak and what is left after
 * {@link LlmTextEncoder#release()}. Prints a markdown table.
 *
 * <p>Arguments (all optional):
 * <ul>
 *   <li>{@code --device cuda|cpu} (default {@code cuda})</li>
 *   <li>{@code --dtype fp16|bf16|fp32} (default fp16 on CUDA, as the original; fp32 on the CPU)</li>
 *   <li>{@code --small}: a tiny config (4 layers, hidden 64) for a quick CPU smoke test</li>
 *   <li>{@code --batch B} (default 1), {@code --runs R} (default 3, the median is reported),
 *       {@code --warmup W} (default 1)</li>
 *   <li>{@code --skip S}: hidden_state_skip_layer (default 2: 30 of 32 layers are loaded and run)</li>
 *   <li>{@code --tokenizer DIR}: tokenize {@code --prompt TEXT} (default a short cat prompt) in the video template
 *       with the tokenizer.json of DIR instead of synthetic ids (351 positions either way)</li>
 *   <li>{@code --out FILE}: also write the table to FILE</li>
 * </ul>
 * GPU: {@code LlmEncoderBench --device cuda}; CPU smoke test: {@code LlmEncoderBench --device cpu --small}.
 */
public final class LlmEncoderBench {
    /** Seed of the random weights. */
    private static final long WEIGHT_SEED = 42;

    private LlmEncoderBench() {
    }

    public static void main(String[] args) throws IOException {
        String device = "cuda";
        String dtypeName = null;
        boolean small = false;
        int batch = 1;
        int runs = 3;
        int warmup = 1;
        int skip = LlmEncoderOptions.defaults().hiddenStateSkipLayer();
        Path tokenizerDir = null;
        String prompt = "A cat walks on the grass, realistic style.";
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = value(args, ++i);
                case "--dtype" -> dtypeName = value(args, ++i);
                case "--small" -> small = true;
                case "--batch" -> batch = positive(args, ++i);
                case "--runs" -> runs = positive(args, ++i);
                case "--warmup" -> warmup = Integer.parseInt(value(args, ++i));
                case "--skip" -> skip = Integer.parseInt(value(args, ++i));
                case "--tokenizer" -> tokenizerDir = Paths.get(value(args, ++i));
                case "--prompt" -> prompt = value(args, ++i);
                case "--out" -> out = Paths.get(value(args, ++i));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (see the class Javadoc: --device, --dtype, --small, --batch, --runs, --warmup, --skip,"
                        + " --tokenizer, --prompt, --out)");
            }
        }
        if (!device.equals("cuda") && !device.equals("cpu")) {
            throw new IllegalArgumentException("--device must be cuda or cpu, got " + device);
        }
        boolean cuda = device.equals("cuda");
        if (cuda && !CudaMemory.available()) {
            throw new IllegalStateException("--device cuda but CUDA is not available (use --device cpu --small)");
        }
        ScalarType dtype = Precision.parse(dtypeName != null ? dtypeName : cuda ? "fp16" : "fp32").scalarType();
        LlamaConfig config = small
                ? new LlamaConfig(128256, 64, 4, 4, 2, 16, 128, 1e-5, 500000.0, null, false, false)
                : LlamaConfig.llama3_8b();
        LlmEncoderOptions options = new LlmEncoderOptions(LlmEncoderOptions.defaults().textLen(), skip, false);
        new Bench(config, options, new Device(device), dtype, batch, runs, warmup, tokenizerDir, prompt, out).run();
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private static int positive(String[] args, int i) {
        int v = Integer.parseInt(value(args, i));
        if (v < 1) {
            throw new IllegalArgumentException(args[i - 1] + " must be >= 1, got " + v);
        }
        return v;
    }

    private record Bench(LlamaConfig config, LlmEncoderOptions options, Device device, ScalarType dtype, int batch,
                         int runs, int warmup, Path tokenizerDir, String prompt, Path out) {
        void run() throws IOException {
            boolean cuda = device.is_cuda();
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[]{"device", device.str().getString() + ", " + dtype});
            rows.add(new String[]{"model", String.format(Locale.ROOT, "%d layers, hidden %d, %d/%d heads, MLP %d, "
                            + "vocab %d (%.2f B parameters)", config.numLayers(), config.hiddenSize(),
                    config.numHeads(), config.numKvHeads(), config.intermediateSize(), config.vocabSize(),
                    config.parameterCount() / 1e9)});
            int layers = options.layersToRun(config.numLayers());
            rows.add(new String[]{"layers loaded and run", layers + " (hidden_state_skip_layer "
                    + options.hiddenStateSkipLayer() + ")"});

            LlmTokenizer tokenizer = tokenizerDir == null ? null : LlmTokenizer.load(tokenizerDir);
            CudaMemory.resetPeak();
            long t0 = System.nanoTime();
            LlmTextEncoder encoder = LlmTextEncoder.create(config,
                    () -> Parameters.random(device, dtype, WEIGHT_SEED), tokenizer, options, device);
            CudaMemory.synchronize();
            long loadNanos = System.nanoTime() - t0;
            long weightBytes = CudaMemory.allocatedBytes();
            rows.add(new String[]{"random weights created", String.format(Locale.ROOT, "%.1f s%s",
                    loadNanos / 1e9, cuda ? String.format(Locale.ROOT, ", %.2f GiB allocated",
                            CudaMemory.gib(weightBytes)) : "")});

            Tensor[] inputs = inputs(encoder);
            int crop = PromptTemplate.VIDEO.cropStart();
            long[] outShape;
            boolean finite;
            for (int i = 0; i < warmup; i++) {
                encoder.encodeIds(inputs[0], inputs[1], crop).close();
            }
            CudaMemory.synchronize();
            CudaMemory.resetPeak();
            double[] ms = new double[runs];
            TextEncoding last = null;
            for (int i = 0; i < runs; i++) {
                if (last != null) {
                    last.close();
                }
                long s = System.nanoTime();
                last = encoder.encodeIds(inputs[0], inputs[1], crop);
                CudaMemory.synchronize();
                ms[i] = (System.nanoTime() - s) / 1e6;
            }
            long peak = CudaMemory.peakAllocatedBytes();
            try (PointerScope scope = new PointerScope()) {
                outShape = Tensors.shape(last.states());
                finite = torch.isfinite(last.states()).all().item_bool();
            }
            last.close();
            double[] sorted = ms.clone();
            Arrays.sort(sorted);
            double median = sorted[runs / 2];
            long tokens = (long) batch * inputs[0].size(1);
            rows.add(new String[]{"input", batch + " × " + inputs[0].size(1) + " tokens ("
                    + (tokenizer == null ? "synthetic ids" : "tokenized prompt in the video template") + ")"});
            rows.add(new String[]{String.format(Locale.ROOT, "encode, median of %d after %d warm-up", runs, warmup),
                    String.format(Locale.ROOT, "%.1f ms (runs: %s), %.0f tokens/s", median, format(ms),
                            tokens / (median / 1e3))});
            rows.add(new String[]{"output", Arrays.toString(outShape) + (finite ? ", all finite" : ", NOT FINITE")});
            if (cuda) {
                rows.add(new String[]{"peak CUDA memory allocated (weights + activations)",
                        String.format(Locale.ROOT, "%.2f GiB (activations %.0f MiB)", CudaMemory.gib(peak),
                                (peak - weightBytes) / (double) (1 << 20))});
            }
            inputs[0].releaseReference();
            inputs[1].releaseReference();
            encoder.release();
            if (cuda) {
                rows.add(new String[]{"CUDA memory after release()", String.format(Locale.ROOT,
                        "%.1f MiB allocated, %.1f MiB reserved", CudaMemory.allocatedBytes() / (double) (1 << 20),
                        CudaMemory.reservedBytes() / (double) (1 << 20))});
            }
            encoder.close();
            print(rows);
        }

        /** Ids [batch, 351] and an all-ones mask: synthetic (BOS then random ids) or the tokenized prompt. */
        private Tensor[] inputs(LlmTextEncoder encoder) {
            int len = options.maxLength();
            if (encoder.tokenizer() != null) {
                List<String> prompts = new ArrayList<>();
                for (int b = 0; b < batch; b++) {
                    prompts.add(prompt);
                }
                TokenizedPrompts t = encoder.tokenize(prompts, PromptTemplate.VIDEO);
                return new Tensor[]{t.inputIdsTensor(), t.attentionMaskTensor()};
            }
            Random r = new Random(42);
            long[] ids = new long[batch * len];
            long[] mask = new long[batch * len];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = i % len == 0 ? Math.min(128000, config.vocabSize() - 1) : r.nextInt(config.vocabSize());
                mask[i] = 1;
            }
            return new Tensor[]{Tensors.fromLongs(ids, batch, len), Tensors.fromLongs(mask, batch, len)};
        }

        private void print(List<String[]> rows) throws IOException {
            StringBuilder sb = new StringBuilder("| LLM text encoder | value |\n|---|---|\n");
            for (String[] r : rows) {
                sb.append("| ").append(r[0]).append(" | ").append(r[1]).append(" |\n");
            }
            System.out.print(sb);
            if (out != null) {
                Files.writeString(out, sb, StandardCharsets.UTF_8);
            }
        }

        private static String format(double[] ms) {
            StringBuilder sb = new StringBuilder();
            for (double m : ms) {
                sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.1f", m));
            }
            return sb.toString();
        }
    }
}
