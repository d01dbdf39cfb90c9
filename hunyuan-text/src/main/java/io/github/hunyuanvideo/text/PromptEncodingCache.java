package io.github.hunyuanvideo.text;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * A small least-recently-used cache of prompt encodings, so that a prompt used again (the same prompt for several
 * seeds, or the negative prompt of every CFG run) is not encoded again.
 *
 * <p>Entries are per prompt row. An LLM entry is keyed by the encoder's {@link LlmTextEncoder#id() id} (weights
 * folder, dtype, device), the prompt, the template and the {@link LlmEncoderOptions}; a CLIP entry by
 * {@link ClipTextEncoder#id()} and the prompt. A batch encodes only its missing prompts (each distinct prompt once)
 * and is assembled in the asked order, so results equal the encoder's own up to batching round-off.
 *
 * <p>When every prompt of a call is cached the encoder is not used at all, so its weights may stay released
 * ({@link LlmTextEncoder#release()}); a miss reloads them. Entries live on the encoder's device: an LLM row with the
 * defaults is {@code 256 × 4096} fp16 = 2 MiB. Thread-safe. {@link #close()} frees every entry.
 */
public final class PromptEncodingCache implements AutoCloseable {
    private record LlmKey(String encoderId, String prompt, PromptTemplate template, LlmEncoderOptions options) {
    }

    private record ClipKey(String encoderId, String prompt) {
    }

    /** One cached row: tensors with a reference owned by the cache. */
    private record Entry(Tensor first, Tensor second) {
        void release() {
            first.releaseReference();
            if (second != null) {
                second.releaseReference();
            }
        }
    }

    private final int capacity;
    private final LinkedHashMap<Object, Entry> entries;
    private long hits;
    private long misses;

    /** @param capacity prompt rows kept (LLM and CLIP rows together), at least 1 */
    public PromptEncodingCache(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true);
    }

    /**
     * {@link LlmTextEncoder#encode} through the cache.
     *
     * @return a new encoding owned by the caller
     */
    public synchronized TextEncoding encode(LlmTextEncoder encoder, List<String> prompts, PromptTemplate template) {
        Objects.requireNonNull(encoder, "encoder");
        Objects.requireNonNull(template, "template");
        LlmTokenizer.requirePrompts(prompts);
        List<Entry> rows = rows(prompts, p -> new LlmKey(encoder.id(), p, template, encoder.options()), missing -> {
            try (TextEncoding enc = encoder.encode(missing, template)) {
                List<Entry> out = new ArrayList<>();
                for (int i = 0; i < missing.size(); i++) {
                    out.add(new Entry(row(enc.states(), i), row(enc.mask(), i)));
                }
                return out;
            }
        });
        try (PointerScope scope = new PointerScope()) {
            Tensor states = cat(rows, Entry::first).retainReference();
            Tensor mask = cat(rows, Entry::second).retainReference();
            return new TextEncoding(states, mask);
        } finally {
            rows.forEach(Entry::release);
        }
    }

    /**
     * {@link ClipTextEncoder#encode} through the cache.
     *
     * @return pooled outputs {@code [B, hidden]}, owned by the caller
     */
    public synchronized Tensor encode(ClipTextEncoder encoder, List<String> prompts) {
        Objects.requireNonNull(encoder, "encoder");
        LlmTokenizer.requirePrompts(prompts);
        List<Entry> rows = rows(prompts, p -> new ClipKey(encoder.id(), p), missing -> {
            Tensor pooled = encoder.encode(missing);
            try {
                List<Entry> out = new ArrayList<>();
                for (int i = 0; i < missing.size(); i++) {
                    out.add(new Entry(row(pooled, i), null));
                }
                return out;
            } finally {
                pooled.releaseReference();
            }
        });
        try (PointerScope scope = new PointerScope()) {
            return cat(rows, Entry::first).retainReference();
        } finally {
            rows.forEach(Entry::release);
        }
    }

    /**
     * The row of every prompt, each with an extra reference for the caller (so eviction cannot free it while the
     * result is assembled); the distinct missing prompts are encoded by {@code encodeMissing} in one batch.
     */
    private List<Entry> rows(List<String> prompts, Function<String, Object> keyOf,
                             Function<List<String>, List<Entry>> encodeMissing) {
        Map<String, Entry> found = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String p : prompts) {
            if (found.containsKey(p) || missing.contains(p)) {
                continue;
            }
            Entry e = entries.get(keyOf.apply(p));
            if (e == null) {
                missing.add(p);
            } else {
                found.put(p, retained(e));
            }
        }
        hits += prompts.size() - missing.size();
        misses += missing.size();
        if (!missing.isEmpty()) {
            List<Entry> encoded;
            try {
                encoded = encodeMissing.apply(missing);
            } catch (RuntimeException e) {
                found.values().forEach(Entry::release);
                throw e;
            }
            for (int i = 0; i < missing.size(); i++) {
                Entry e = encoded.get(i);
                found.put(missing.get(i), retained(e));
                put(keyOf.apply(missing.get(i)), e);
            }
        }
        List<Entry> rows = new ArrayList<>(prompts.size());
        for (String p : prompts) {
            rows.add(retained(found.get(p)));
        }
        found.values().forEach(Entry::release);
        return rows;
    }

    private void put(Object key, Entry e) {
        Entry old = entries.put(key, e);
        if (old != null) {
            old.release();
        }
        while (entries.size() > capacity) {
            Map.Entry<Object, Entry> eldest = entries.entrySet().iterator().next();
            entries.remove(eldest.getKey());
            eldest.getValue().release();
        }
    }

    private static Entry retained(Entry e) {
        e.first().retainReference();
        if (e.second() != null) {
            e.second().retainReference();
        }
        return e;
    }

    /** A copy of row {@code i} of {@code t} (so a cached row does not keep the whole batch alive). */
    private static Tensor row(Tensor t, int i) {
        try (PointerScope scope = new PointerScope()) {
            return t.narrow(0, i, 1).clone().retainReference();
        }
    }

    private static Tensor cat(List<Entry> rows, Function<Entry, Tensor> part) {
        TensorVector v = new TensorVector();
        for (Entry e : rows) {
            v.push_back(part.apply(e));
        }
        return torch.cat(new TensorArrayRef(v), 0);
    }

    /** Prompt rows served from the cache so far. */
    public synchronized long hits() {
        return hits;
    }

    /** Prompt rows that had to be encoded so far. */
    public synchronized long misses() {
        return misses;
    }

    /** Cached rows. */
    public synchronized int size() {
        return entries.size();
    }

    /** Frees every entry. */
    public synchronized void clear() {
        entries.values().forEach(Entry::release);
        entries.clear();
    }

    @Override
    public void close() {
        clear();
    }
}
