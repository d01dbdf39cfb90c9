package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.LayerStreaming;
import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Scopes;
import io.github.hunyuanvideo.nn.StageTimer;
import io.github.hunyuanvideo.nn.StreamedWeights;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.nn.parallel.Communicator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The HunyuanVideo diffusion transformer ({@code HYVideoDiffusionTransformer}): patch and text embedding,
 * double-stream blocks, single-stream blocks and the final layer, predicting the flow-matching velocity. It builds the
 * 3D RoPE tables of its input's token grid itself (the original's {@code get_rotary_pos_embed}) and keeps the last
 * grid's on the device, so a denoising loop builds them once. Checkpoints load through {@link DitCheckpoint}.
 *
 * <p>Numerics follow the original's bf16 autocast: every parameter is held in the compute dtype (also the final
 * layer's Linear, which the original stores in float32 but runs in bf16), matmuls run in it, and LayerNorm, RMSNorm
 * and RoPE compute in float32 and round back. Loaded from an FP8 checkpoint, the block Linear weights are held in
 * float8_e4m3fn with a per-tensor scale and dequantised into the compute dtype right before each GEMM, as the
 * original's FP8 forward does. Attention keeps the official varlen semantics: at batch 1 the padded
 * text tokens are dropped (exact), at batch &gt; 1 each sample's padding attends only to itself. Each call's
 * {@link DitInputs#attention()} chooses the blocks' attention backend ({@link Attention}).
 *
 * <p>With {@link #setSequenceParallel} the ranks of a {@link Communicator} share every forward: each holds a shard of
 * the image tokens and the whole text, and every rank returns the whole velocity ({@link SequenceParallel}).
 *
 * <p>Given the {@link StepCacheState} of a generation, a forward may skip the blocks and add the residual they added
 * at the last computed step instead ({@link StepCache}: TeaCache, First-Block Cache).
 *
 * <p>Not thread-safe: one forward at a time.
 */
public final class HunyuanVideoTransformer implements AutoCloseable {
    /**
     * Factor between random FP8 weights' float8 values and their dequantised values: values of standard deviation
     * 1024/√fan_in (9 to 18 for the full-size model) use e4m3's normal range, far below its maximum of 448.
     */
    private static final double RANDOM_FP8_SPREAD = 1024;
    private final DitConfig cfg;
    private final Device device;
    private final ScalarType dtype;
    private final List<AutoCloseable> boxes = new ArrayList<>();
    private final PatchEmbed imgIn;
    private final SingleTokenRefiner txtIn;
    private final TimestepEmbedder timeIn;
    private final MlpEmbedder vectorIn;
    private final TimestepEmbedder guidanceIn;
    private final List<DoubleStreamBlock> doubleBlocks = new ArrayList<>();
    private final List<SingleStreamBlock> singleBlocks = new ArrayList<>();
    private final FinalLayer finalLayer;
    private final LayerStreaming streaming;
    /** Host copies and device slots of the streamed blocks, or {@code null} when every block is resident. */
    private final StreamedWeights streamed;
    /** Index (double blocks, then single blocks) of the first streamed block. */
    private final int firstStreamed;
    /** The RoPE of the last forward's sequence ({@link #ropeGrid}, {@link #ropeTextTokens}), or {@code null}. */
    private FusedRope rope;
    private long[] ropeGrid;
    private long ropeTextTokens;
    /** What each backend's attention runs; the 8-bit kernels are the model's own: each fallback warns once a model. */
    private final Map<Attention, JointAttention.Kernel> attentionKernels = attentionKernels();
    /** The ranks sharing each forward's image tokens; the RoPE above holds this rank's shard of them. */
    private Communicator group = Communicator.single();

    private static Map<Attention, JointAttention.Kernel> attentionKernels() {
        Map<Attention, JointAttention.Kernel> kernels = new EnumMap<>(Attention.class);
        for (Attention backend : Attention.values()) {
            kernels.put(backend, backend.quantized()
                    ? JointAttention.quantized(backend.valueProduct(), backend.optionName()) : JointAttention.SDPA);
        }
        return kernels;
    }

    private HunyuanVideoTransformer(DitConfig cfg, Parameters p, LayerStreaming streaming) {
        this.cfg = cfg;
        this.dtype = p.dtype();
        this.streaming = streaming;
        int blocks = cfg.doubleBlocks() + cfg.singleBlocks();
        this.firstStreamed = blocks - streaming.streamedOf(blocks);
        this.device = new Device(p.device().type(), p.device().index());
        this.device.retainReference();
        try {
            this.streamed = streaming.enabled() && !p.device().is_meta()
                    ? new StreamedWeights(p.device(), streamedBlockBytes(cfg, p, firstStreamed),
                    streaming.prefetchDepth()) : null;
            // Boxes are bound in the official state-dict order, each in its own scope so that the Java handles of
            // its views are freed as loading goes.
            long c = cfg.hiddenSize();
            imgIn = box(() -> PatchEmbed.load(p, cfg));
            txtIn = box(() -> SingleTokenRefiner.load(p, cfg));
            timeIn = box(() -> TimestepEmbedder.load(p, "time_in", c));
            vectorIn = box(() -> MlpEmbedder.load(p, "vector_in.in_layer", "vector_in.out_layer",
                    cfg.textStatesDim2(), c));
            guidanceIn = cfg.guidanceEmbed() ? box(() -> TimestepEmbedder.load(p, "guidance_in", c)) : null;
            for (int i = 0; i < cfg.doubleBlocks(); i++) {
                String prefix = "double_blocks." + i;
                int index = i;
                doubleBlocks.add(box(() -> bindBlock(p, index, () -> DoubleStreamBlock.load(p, prefix, cfg))));
            }
            for (int i = 0; i < cfg.singleBlocks(); i++) {
                String prefix = "single_blocks." + i;
                int index = cfg.doubleBlocks() + i;
                singleBlocks.add(box(() -> bindBlock(p, index,
                        () -> SingleStreamBlock.load(p, prefix, cfg))));
            }
            finalLayer = box(() -> FinalLayer.load(p, cfg));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Block {@code index} (double blocks, then single blocks) bound resident, or into its streaming slot. */
    private <T> T bindBlock(Parameters p, int index, Supplier<T> loader) {
        return streamed == null || index < firstStreamed ? loader.get()
                : p.placing(streamed.placement(index - firstStreamed), loader);
    }

    /**
     * The slot bytes of each streamed block, measured as {@code p} binds it: in {@code p}'s dtype, with the weights
     * {@code p} keeps in float8 (FP8 blocks move half the bytes; a LoRA-merged layer of an FP8 checkpoint is not FP8).
     */
    private static long[] streamedBlockBytes(DitConfig cfg, Parameters p, int firstStreamed) {
        long[] bytes = new long[cfg.doubleBlocks() + cfg.singleBlocks() - firstStreamed];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = DitMemory.blockBytes(cfg, firstStreamed + i, Parameters.meta(p.dtype(), p.float8Weights()));
        }
        return bytes;
    }

    /** Runs block {@code index}'s work with its weights on the device (a streamed block's copy awaited). */
    private void withBlock(int index, Runnable work) {
        if (streamed == null || index < firstStreamed) {
            work.run();
            return;
        }
        streamed.with(index - firstStreamed, () -> {
            work.run();
            return null;
        });
    }

    private <T extends AutoCloseable> T box(Supplier<T> loader) {
        try (PointerScope scope = new PointerScope()) {
            T b = loader.get();
            boxes.add(b);
            return b;
        }
    }

    /**
     * The model with every parameter bound from {@code params} under its official state-dict name, in the official
     * order, on {@code params}' device in its dtype. The model retains what it keeps: close {@code params} once this
     * returns, and a weight reordered at load time occupies the device once.
     */
    public static HunyuanVideoTransformer of(DitConfig cfg, Parameters params) {
        return of(cfg, params, LayerStreaming.none());
    }

    /**
     * {@link #of(DitConfig, Parameters)} with the last {@code streaming.streamedOf(blocks)} blocks in execution order
     * (double blocks, then single blocks) kept in host memory and streamed through device slots while the model runs
     * (bit-identical results, less device memory; see {@code docs/dit.md}, "Block streaming"). The embedders, the
     * token refiner and the final layer always stay on the device.
     */
    public static HunyuanVideoTransformer of(DitConfig cfg, Parameters params, LayerStreaming streaming) {
        return new HunyuanVideoTransformer(cfg, params, streaming);
    }

    /**
     * A model with seeded random weights made directly on {@code device} (no host copy), as
     * {@link Parameters#random} draws them. For benchmarks and tests.
     */
    public static HunyuanVideoTransformer randomInit(DitConfig cfg, Device device, ScalarType dtype, long seed) {
        return randomInit(cfg, device, dtype, seed, LayerStreaming.none());
    }

    /** {@link #randomInit(DitConfig, Device, ScalarType, long)} streaming the blocks {@code streaming} names. */
    public static HunyuanVideoTransformer randomInit(DitConfig cfg, Device device, ScalarType dtype, long seed,
                                                     LayerStreaming streaming) {
        try (Parameters p = Parameters.random(device, dtype, seed)) {
            return of(cfg, p, streaming);
        }
    }

    /**
     * {@link #randomInit(DitConfig, Device, ScalarType, long, LayerStreaming)}, with the block Linear weights FP8 as
     * {@link DitCheckpoint#loadFp8} keeps them if {@code fp8}: random float8_e4m3fn values made on the device and a
     * random per-tensor scale each, so that the dequantised weights have {@link Parameters#random}'s scale (times a
     * factor in [0.5, 1.5)). For measuring the FP8 model's memory and speed without a checkpoint.
     */
    public static HunyuanVideoTransformer randomInit(DitConfig cfg, Device device, ScalarType dtype, long seed,
                                                     LayerStreaming streaming, boolean fp8) {
        if (!fp8) {
            return randomInit(cfg, device, dtype, seed, streaming);
        }
        torch.manual_seed(seed);
        Parameters.Source values = Parameters.randomValues();
        Parameters.Source fp8Values = (name, shape, dev, dt) -> {
            if (dt != ScalarType.Float8_e4m3fn) {
                return values.create(name, shape, dev, dt);
            }
            Tensor v = values.create(name, shape, dev, ScalarType.Float);
            v.mul_(new Scalar(RANDOM_FP8_SPREAD));
            return v.to(dt);
        };
        Parameters.Float8Weights kept = DitCheckpoint.fp8BlockLinears(Set.of(),
                name -> torch.rand(new long[0]).add_(new Scalar(0.5)).div_(new Scalar(RANDOM_FP8_SPREAD)));
        try (Parameters p = Parameters.of(fp8Values, kept, device, dtype)) {
            return of(cfg, p, streaming);
        }
    }

    /**
     * Every parameter the model binds, official name → shape, in the official state-dict order, computed on the meta
     * device (nothing is allocated).
     */
    public static Map<String, long[]> expectedShapes(DitConfig cfg) {
        return Parameters.shapesOf(p -> of(cfg, p).close());
    }

    /** The configuration. */
    public DitConfig config() {
        return cfg;
    }

    /** The compute dtype. */
    public ScalarType dtype() {
        return dtype;
    }

    /** The device holding the weights. */
    public Device device() {
        return device;
    }

    /** Which blocks are streamed from host memory. */
    public LayerStreaming streaming() {
        return streaming;
    }

    /** Every Linear of the double and single blocks, in execution order (for checking how they are held). */
    List<Linear> blockLinears() {
        List<Linear> all = new ArrayList<>();
        doubleBlocks.forEach(b -> all.addAll(b.linears()));
        singleBlocks.forEach(b -> all.addAll(b.linears()));
        return all;
    }

    /**
     * Routes {@code backend}'s attention to {@code kernel} for this model's later forwards, e.g. {@link Attention#INT8}
     * to {@link QuantizedAttention#reference} where the CUDA kernel cannot run (tests on the CPU).
     */
    void routeAttention(Attention backend, JointAttention.Kernel kernel) {
        attentionKernels.put(backend, kernel);
    }

    /**
     * Shares every following forward among the ranks of {@code group} by Ulysses sequence parallelism: each rank,
     * with a model of the same weights, calls {@code forward} with the same inputs, runs the blocks on its shard of
     * the image tokens and returns the whole velocity (equal to the one-rank result up to rounding).
     * {@link Communicator#single()} turns it off. Step caches are not supported on more than one rank. Setting the
     * group it has already costs nothing (the sampler sets it before every step).
     *
     * @throws IllegalArgumentException if the ranks cannot split the heads ({@link SequenceParallel#check})
     */
    public void setSequenceParallel(Communicator group) {
        if (group == this.group) {
            return;
        }
        SequenceParallel.check(cfg, group.worldSize());
        this.group = group;
        if (rope != null) {
            rope.close();
            rope = null;
        }
    }

    /** Device bytes of the streaming slots (0 when every block is resident). */
    public long streamingSlotBytes() {
        return streamed == null ? 0 : streamed.deviceBytes();
    }

    /** Bytes of streamed block weights copied to the device so far (0 when every block is resident). */
    public long streamedBytesCopied() {
        return streamed == null ? 0 : streamed.bytesCopied();
    }

    /**
     * One denoising step's velocity prediction (the original's {@code forward}). The result is in the compute dtype on
     * the model's device, created in inference mode (do not update it in place outside inference mode), and belongs
     * to the caller's innermost open {@link PointerScope} (or to the caller if none is open).
     *
     * @return velocity {@code [B, C_out, T, H, W]}
     * @throws IllegalArgumentException naming the first input of a wrong shape, or a text mask that is not right
     *                                  padded
     */
    public Tensor forward(DitInputs in) {
        return forward(in, null, null);
    }

    /** {@link #forward(DitInputs)} reporting the intermediates to {@code probe} (may be {@code null}). */
    public Tensor forward(DitInputs in, DitProbe probe) {
        return forward(in, probe, null);
    }

    /**
     * {@link #forward(DitInputs)} as the next step of the generation whose step cache is {@code cache}: the cache
     * decides whether the blocks run or its stored residual replaces them, and logs the decision. The final layer
     * always runs.
     *
     * @throws IllegalStateException if {@code cache} has seen all its steps or is closed
     */
    public Tensor forward(DitInputs in, StepCacheState cache) {
        return forward(in, null, cache);
    }

    /**
     * {@link #forward(DitInputs, StepCacheState)} reporting the intermediates to {@code probe}; either may be
     * {@code null}. Blocks skipped by the cache report nothing.
     */
    public Tensor forward(DitInputs in, DitProbe probe, StepCacheState cache) {
        Shapes shapes = Shapes.check(cfg, in);
        if (cache != null && cache.method() != StepCache.Kind.NONE && group.worldSize() > 1) {
            throw new IllegalArgumentException("stepCache: " + cache.method() + " is not supported with sequence "
                    + "parallelism (" + group.worldSize() + " ranks)");
        }
        Tensor out;
        try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            out = run(shapes, in, probe, cache);
            out.retainReference();
        }
        return Scopes.handOut(out);
    }

    private Tensor run(Shapes shapes, DitInputs in, DitProbe probe, StepCacheState cache) {
        // Batch 1: drop the padded text tokens (exact, see JointAttention) so that every attention runs unmasked.
        Tensor txtStates = in.textStates().narrow(1, 0, shapes.textLength);
        Tensor txtMask = in.textMask().narrow(1, 0, shapes.textLength);
        DitProbe.emit(probe, "cu_seqlens", shapes.cuSeqlens());

        Tensor tDev = in.timesteps().to(device, ScalarType.Float);
        Tensor timeEmb = timeIn.forward(tDev);
        Tensor vecEmb = vectorIn.forward(in.pooledText().to(device, dtype));
        DitProbe.emit(probe, "time_in", timeEmb);
        DitProbe.emit(probe, "vector_in", vecEmb);
        Tensor vec = timeEmb.add(vecEmb);
        if (guidanceIn != null) {
            Tensor g = guidanceIn.forward(in.guidance().to(device, ScalarType.Float));
            DitProbe.emit(probe, "guidance_in", g);
            vec = vec.add(g);
        }
        DitProbe.emit(probe, "vec", vec);
        // Every modulation Linear reads SiLU(vec): computed once for all blocks.
        Tensor siluVec = torch.silu(vec);

        Tensor img = imgIn.forward(onDevice(in.latents()), dtype);
        if (group.worldSize() > 1) {
            img = SequenceParallel.shard(img, group.rank(), group.worldSize());
        }
        DitProbe.emit(probe, "img_in", img);
        Tensor txt = txtIn.forward(onDevice(txtStates), tDev, onDevice(txtMask), shapes.padded(), probe);
        DitProbe.emit(probe, "txt_in", txt);

        Blocks blocks = new Blocks(txt, siluVec, rope(shapes.grid, shapes.textLength),
                new ShardedAttention(group, shapes.valid, shapes.imageTokens,
                        attentionKernels.get(in.attention())), probe);
        Tensor image = cache == null ? blocks.from(0, img) : cached(img, blocks, cache);
        Tensor tokens = finalLayer.forward(image, siluVec);
        if (group.worldSize() > 1) {
            // per token: each rank's shard goes through the final layer, the narrow outputs are gathered
            tokens = SequenceParallel.allTokens(group, tokens, shapes.imageTokens);
        }
        DitProbe.emit(probe, "final_layer", tokens);
        return Unpatchify.apply(tokens, shapes.grid, shapes.patch);
    }

    /**
     * The image tokens after the blocks, or after the cache's stand-in for them: TeaCache decides on double block
     * 0's modulated input before any block runs; First-Block Cache runs double block 0 and decides on the residual it
     * added. A computed step keeps the residual of the blocks the cache may skip later.
     */
    private Tensor cached(Tensor img, Blocks blocks, StepCacheState cache) {
        switch (cache.method()) {
            case TEA_CACHE -> {
                boolean compute;
                boolean[] decision = new boolean[1];
                withBlock(0, () -> {
                    try (PointerScope scope = new PointerScope()) {
                        decision[0] = cache.teaCacheComputes(doubleBlocks.get(0).modulatedImage(img, blocks.siluVec));
                    }
                });
                compute = decision[0];
                StageTimer.lap("step cache: decision");
                return compute ? blocks.keepingResidual(0, img, cache) : skipped(img, cache);
            }
            case FIRST_BLOCK -> {
                Tensor residual = img.clone();
                blocks.doubleBlock(0, img);
                torch.rsub_out(residual, residual, img);
                boolean compute = cache.firstBlockComputes(residual);
                StageTimer.lap("step cache: decision");
                return compute ? blocks.keepingResidual(1, img, cache) : skipped(img, cache);
            }
            default -> {
                cache.recordComputed();
                return blocks.from(0, img);
            }
        }
    }

    private static Tensor skipped(Tensor img, StepCacheState cache) {
        Tensor out = cache.addResidual(img);
        StageTimer.lap("step cache: stored residual added");
        return out;
    }

    /** The blocks of one forward, with what every block reads besides the image tokens. */
    private final class Blocks {
        private final Tensor text;
        private final Tensor siluVec;
        private final FusedRope rope;
        private final ShardedAttention attention;
        private final DitProbe probe;

        Blocks(Tensor text, Tensor siluVec, FusedRope rope, ShardedAttention attention, DitProbe probe) {
            this.text = text;
            this.siluVec = siluVec;
            this.rope = rope;
            this.attention = attention;
            this.probe = probe;
        }

        /** Double block {@code i}, updating {@code img} and the text tokens in place. */
        void doubleBlock(int i, Tensor img) {
            withBlock(i, () -> doubleBlocks.get(i).forward(img, text, siluVec, rope, attention));
            DitProbe.emit(probe, "double_blocks." + i + ".img", img);
            DitProbe.emit(probe, "double_blocks." + i + ".txt", text);
        }

        /** Double blocks {@code first…} and every single block; the image tokens after them (a view). */
        Tensor from(int first, Tensor img) {
            for (int i = first; i < doubleBlocks.size(); i++) {
                doubleBlock(i, img);
            }
            long imageTokens = img.size(1);
            Tensor joined = torch.cat(new TensorArrayRef(new TensorVector(img, text)), 1);
            img.close();
            text.close();
            for (int i = 0; i < singleBlocks.size(); i++) {
                SingleStreamBlock block = singleBlocks.get(i);
                withBlock(doubleBlocks.size() + i, () -> block.forward(joined, siluVec, rope, attention));
                DitProbe.emit(probe, "single_blocks." + i, joined);
            }
            return joined.narrow(1, 0, imageTokens);
        }

        /** {@link #from} on a computed step of a cache, which keeps the residual these blocks add. */
        Tensor keepingResidual(int first, Tensor img, StepCacheState cache) {
            cache.keepInput(img);
            StageTimer.lap("step cache: residual kept");
            Tensor out = from(first, img);
            cache.keepResidual(out);
            StageTimer.lap("step cache: residual kept");
            return out;
        }
    }

    /** {@code t} on the model's device, in its own dtype. */
    private Tensor onDevice(Tensor t) {
        return t.to(device, t.scalar_type());
    }

    /**
     * The RoPE of the image tokens of {@code grid} followed by {@code textTokens} text tokens, rebuilt only when either
     * changes. The official tables ({@link Rope3d#freqs}, built on the CPU in float32 like the original's) give the
     * image rows, one column per rotation pair (each angle is repeated for both members of a pair); the text tokens
     * get identity rows (cos 1, sin 0), which the blocks' joined q and k need. Under sequence parallelism the image
     * rows are this rank's shard of them; the zero rows of a padded shard rotate only padding tokens, which never
     * reach the attention.
     */
    private FusedRope rope(long[] grid, long textTokens) {
        if (rope != null && Arrays.equals(grid, ropeGrid) && textTokens == ropeTextTokens) {
            return rope;
        }
        if (rope != null) {
            rope.close();
            rope = null;
        }
        try (PointerScope scope = new PointerScope()) {
            long[] dims = cfg.ropeDimList().stream().mapToLong(Integer::longValue).toArray();
            Tensor[] official = Rope3d.freqs(dims, grid, cfg.ropeTheta());
            long d = official[0].size(1);
            long[] text = {textTokens, d / 2};
            TensorOptions f32 = new TensorOptions(ScalarType.Float);
            Tensor cos = torch.cat(new TensorArrayRef(new TensorVector(
                    imageRows(official[0].slice(1, new LongOptional(0), new LongOptional(d), 2)),
                    torch.ones(text, f32))), 0);
            Tensor sin = torch.cat(new TensorArrayRef(new TensorVector(
                    imageRows(official[1].slice(1, new LongOptional(0), new LongOptional(d), 2)),
                    torch.zeros(text, f32))), 0);
            rope = device.is_cpu() ? FusedRope.of(cos, sin)
                    : FusedRope.of(cos.to(device, ScalarType.Float), sin.to(device, ScalarType.Float));
        }
        ropeGrid = grid.clone();
        ropeTextTokens = textTokens;
        return rope;
    }

    /** This rank's rows of a table of every image token {@code [L_img, D/2]} (all of them on one rank). */
    private Tensor imageRows(Tensor table) {
        if (group.worldSize() == 1) {
            return table;
        }
        return SequenceParallel.shard(table.unsqueeze(0), group.rank(), group.worldSize()).squeeze(0);
    }

    /** Releases all weights and the cached RoPE tables. */
    @Override
    public void close() {
        for (int i = boxes.size() - 1; i >= 0; i--) {
            Scopes.closeAll(boxes.get(i));
        }
        boxes.clear();
        if (streamed != null) {
            streamed.close();
        }
        if (rope != null) {
            rope.close();
            rope = null;
        }
        device.releaseReference();
    }

    /** Validated shapes of one forward call, and the attention segmentation derived from the text mask. */
    private record Shapes(long[] grid, long[] patch, long imageTokens, long textLength, long[] valid) {
        static Shapes check(DitConfig cfg, DitInputs in) {
            Tensor x = in.latents();
            require(x != null && x.dim() == 5 && x.size(1) == cfg.inChannels(), "latents",
                    "[B, " + cfg.inChannels() + ", T, H, W]", x);
            long b = x.size(0);
            long[] patch = cfg.patchSize().stream().mapToLong(Integer::longValue).toArray();
            long[] grid = new long[3];
            for (int i = 0; i < 3; i++) {
                if (x.size(2 + i) % patch[i] != 0) {
                    throw new IllegalArgumentException("latents: T, H, W " + Arrays.toString(Tensors.shape(x))
                            + " must be divisible by the patch " + Arrays.toString(patch));
                }
                grid[i] = x.size(2 + i) / patch[i];
            }
            long li = grid[0] * grid[1] * grid[2];
            Tensor t = in.timesteps();
            require(t != null && t.dim() == 1 && t.size(0) == b, "timesteps", "[" + b + "]", t);
            Tensor textStates = in.textStates();
            require(textStates != null && textStates.dim() == 3 && textStates.size(0) == b
                    && textStates.size(2) == cfg.textStatesDim(), "textStates",
                    "[" + b + ", L_txt, " + cfg.textStatesDim() + "]", textStates);
            long lt = textStates.size(1);
            Tensor textMask = in.textMask();
            require(textMask != null && textMask.dim() == 2 && textMask.size(0) == b && textMask.size(1) == lt,
                    "textMask", "[" + b + ", " + lt + "]", textMask);
            Tensor pooled = in.pooledText();
            require(pooled != null && pooled.dim() == 2 && pooled.size(0) == b
                    && pooled.size(1) == cfg.textStatesDim2(), "pooledText",
                    "[" + b + ", " + cfg.textStatesDim2() + "]", pooled);
            if (cfg.guidanceEmbed()) {
                Tensor guidance = in.guidance();
                require(guidance != null && guidance.dim() == 1 && guidance.size(0) == b, "guidance",
                        "[" + b + "] (required by a guidance-distilled model)", guidance);
            }
            long[] mask = Tensors.toLongArray(textMask);
            long[] validText = new long[(int) b];
            for (int s = 0; s < b; s++) {
                int n = 0;
                while (n < lt && mask[(int) (s * lt + n)] == 1) {
                    n++;
                }
                for (long j = n; j < lt; j++) {
                    if (mask[(int) (s * lt + j)] != 0) {
                        throw new IllegalArgumentException("textMask row " + s + " must be 1s then 0s (right "
                                + "padding), found " + mask[(int) (s * lt + j)] + " at position " + j);
                    }
                }
                if (n == 0) {
                    throw new IllegalArgumentException("textMask row " + s + " has no valid token");
                }
                validText[s] = n;
            }
            long textLength = b == 1 ? validText[0] : lt;
            long[] valid = Arrays.stream(validText).map(n -> li + n).toArray();
            return new Shapes(grid, patch, li, textLength, valid);
        }

        private static void require(boolean ok, String name, String expected, Tensor got) {
            if (!ok) {
                throw new IllegalArgumentException(name + " must be " + expected + ", got "
                        + (got == null ? "null" : Arrays.toString(Tensors.shape(got))));
            }
        }

        /** Whether any sample has padded text tokens left (batch &gt; 1 only). */
        boolean padded() {
            return Arrays.stream(valid).anyMatch(v -> v != imageTokens + textLength);
        }

        /** The official {@code cu_seqlens}: per sample, the end of the first segment and of the padded one. */
        Tensor cuSeqlens() {
            long total = imageTokens + textLength;
            long[] cu = new long[2 * valid.length + 1];
            for (int s = 0; s < valid.length; s++) {
                cu[2 * s + 1] = s * total + valid[s];
                cu[2 * s + 2] = (s + 1) * total;
            }
            return Tensors.fromLongs(cu, cu.length);
        }
    }
}
