/**
 * HunyuanVideo's two text encoders (the original's {@code TextEncoder} for {@code llm} and {@code clipL}); the
 * repository's {@code docs/text-encoders.md} describes what they compute and the checkpoints they read.
 *
 * <ul>
 *   <li>{@link io.github.hunyuanvideo.text.LlmTextEncoder}: LLaVA-Llama-3-8B's language tower. The prompt is put in
 *       a {@link io.github.hunyuanvideo.text.PromptTemplate}, tokenized to {@code max_length = 351} (one BOS, right
 *       padding, truncation with a warning), run through the first 30 of 32 decoder layers, and the hidden state is
 *       returned without the template's 95 (video) / 36 (image) tokens:
 *       {@link io.github.hunyuanvideo.text.TextEncoding} {@code [B, 256, 4096]} + mask.</li>
 *   <li>{@link io.github.hunyuanvideo.text.ClipTextEncoder}: CLIP-L's text transformer, pooled output
 *       {@code [B, 768]}.</li>
 *   <li>{@link io.github.hunyuanvideo.text.PromptEncodingCache}: per-prompt LRU cache over both.</li>
 * </ul>
 *
 * <p>Typical use (fp16 on the GPU, as the original):
 * <pre>{@code
 * Device cuda = new Device("cuda");
 * try (LlmTextEncoder llm = LlmTextEncoder.fromPretrained(ckpts.resolve("text_encoder"),
 *          LlmEncoderOptions.defaults(), cuda, ScalarType.Half);
 *      ClipTextEncoder clip = ClipTextEncoder.fromPretrained(ckpts.resolve("text_encoder_2"), cuda, ScalarType.Half);
 *      PromptEncodingCache cache = new PromptEncodingCache(32)) {
 *     TextEncoding text = cache.encode(llm, List.of(prompt), PromptTemplate.forVideoLength(videoLength));
 *     Tensor pooled = cache.encode(clip, List.of(prompt));
 *     llm.release();   // give the card to the DiT; a later cache miss reloads the weights
 *     clip.release();
 *     ...
 * }
 * }</pre>
 *
 * <p>Folders: {@code text_encoder/} needs {@code config.json}, {@code tokenizer.json} (+ optional
 * {@code tokenizer_config.json}) and safetensors (single, or shards with {@code model.safetensors.index.json});
 * {@code text_encoder_2/} likewise with a CLIP config. DJL reads only {@code tokenizer.json}; a folder with just
 * {@code vocab.json}/{@code merges.txt} must be re-saved with transformers first.
 *
 * <p>Tokenizers run offline: DJL's native library is inside its jar and is extracted to {@code ~/.djl.ai} (set
 * {@code DJL_CACHE_DIR} where the home folder is not writable); the CUDA-flavour download DJL would attempt on a
 * GPU machine is avoided by setting {@code RUST_FLAVOR=cpu} (see {@code HfTokenizer}).
 *
 * <p>Returned tensors are created under {@code InferenceMode} and owned by the caller ({@code close()} /
 * {@code releaseReference()}).
 */
package io.github.hunyuanvideo.text;
