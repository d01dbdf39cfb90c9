package io.github.hunyuanvideo.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated, memory-mapped <a href="https://github.com/huggingface/safetensors">safetensors</a> file.
 *
 * <p>The header is checked before any tensor is touched: its length is bounded, every dtype is on the whitelist,
 * every shape's byte size equals its data range, ranges lie inside the data section and do not overlap. Tensors are
 * zero-copy views of the mapped file.
 *
 * <p>The file must stay as it was while tensors are taken from it. Its size, last-modified time and identity are
 * recorded at {@link #open}, and {@link #tensor} checks them before touching the mapping: a file that shrank (whose
 * mapped pages past the new end would crash the JVM with SIGBUS when read), was rewritten or touched (its contents
 * may differ), replaced or deleted is refused with an {@link java.io.UncheckedIOException} whose
 * {@link CheckpointFormatException} cause names the file, e.g. "changed on disk since it was opened: size X → Y
 * bytes". Not caught: a truncation after that check, while libtorch reads the view (or a view taken earlier), still
 * raises SIGBUS in native code, which the JVM cannot catch; do not truncate a checkpoint that is being loaded.
 */
public final class SafetensorsFile implements TensorSource {
    /** Upper bound on the JSON header; real headers are a few MB at most. */
    public static final long MAX_HEADER_BYTES = 100L << 20;
    private static final int MAX_RANK = 16;

    private final Path path;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private final long dataStart;
    private final MappedFile mapped;

    private record Entry(TensorInfo info, long begin, long end) {
    }

    private SafetensorsFile(Path path, Map<String, Entry> entries, Map<String, String> metadata, long dataStart,
                            MappedFile mapped) {
        this.path = path;
        this.entries = entries;
        this.metadata = metadata;
        this.dataStart = dataStart;
        this.mapped = mapped;
    }

    /**
     * Opens and validates {@code path}.
     *
     * @throws CheckpointFormatException if the header is malformed or inconsistent with the file
     * @throws IOException               if the file cannot be read
     */
    public static SafetensorsFile open(Path path) throws IOException {
        long fileSize = Files.size(path);
        if (fileSize < 8) {
            throw new CheckpointFormatException(path, "too short for a safetensors file (" + fileSize + " bytes)");
        }
        byte[] header;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, path);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || headerLen > fileSize - 8) {
                throw new CheckpointFormatException(path, "header length " + Long.toUnsignedString(headerLen)
                        + " is outside 1.." + Math.min(MAX_HEADER_BYTES, fileSize - 8));
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8, path);
            header = hb.array();
        }
        long dataStart = 8 + header.length;
        long dataSize = fileSize - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Entry> entries = parseHeader(path, header, dataStart, dataSize, metadata);
        MappedFile mapped = MappedFile.map(path);
        return new SafetensorsFile(path, entries, metadata, dataStart, mapped);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path path) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new CheckpointFormatException(path, "unexpected end of file");
            }
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
            .build()).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private static Map<String, Entry> parseHeader(Path path, byte[] header, long dataStart, long dataSize,
                                                  Map<String, String> metadata) throws CheckpointFormatException {
        JsonNode root;
        try {
            root = JSON.readTree(new String(header, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CheckpointFormatException(path, "header is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointFormatException(path, "header is not a JSON object");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = root.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) {
                    throw new CheckpointFormatException(path, "__metadata__ is not an object");
                }
                v.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            entries.put(name, parseEntry(path, name, v, dataSize));
        }
        List<Entry> byOffset = new ArrayList<>(entries.values());
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long prevEnd = 0;
        String prevName = null;
        for (Entry e : byOffset) {
            if (e.begin() < prevEnd) {
                throw new CheckpointFormatException(path, "tensor '" + e.info().name() + "' overlaps '" + prevName
                        + "'");
            }
            if (e.end() > e.begin()) {
                prevEnd = e.end();
                prevName = e.info().name();
            }
        }
        return Collections.unmodifiableMap(entries);
    }

    private static Entry parseEntry(Path path, String name, JsonNode v, long dataSize)
            throws CheckpointFormatException {
        if (!v.isObject()) {
            throw new CheckpointFormatException(path, "entry '" + name + "' is not an object");
        }
        JsonNode dt = v.get("dtype");
        JsonNode sh = v.get("shape");
        JsonNode off = v.get("data_offsets");
        if (dt == null || !dt.isTextual()) {
            throw new CheckpointFormatException(path, "tensor '" + name + "' has no dtype string");
        }
        DType dtype;
        try {
            dtype = DType.fromSafetensors(dt.asText());
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(path, "tensor '" + name + "': " + e.getMessage());
        }
        if (sh == null || !sh.isArray() || sh.size() > MAX_RANK) {
            throw new CheckpointFormatException(path, "tensor '" + name + "' has no valid shape array");
        }
        long[] shape = new long[sh.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.canConvertToExactIntegral() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new CheckpointFormatException(path, "tensor '" + name + "' has invalid dimension " + d);
            }
            shape[i] = d.asLong();
            try {
                numel = Math.multiplyExact(numel, shape[i]);
            } catch (ArithmeticException e) {
                throw new CheckpointFormatException(path, "tensor '" + name + "' shape overflows");
            }
        }
        if (off == null || !off.isArray() || off.size() != 2) {
            throw new CheckpointFormatException(path, "tensor '" + name + "' has no [begin, end] data_offsets");
        }
        for (JsonNode o : off) {
            if (!o.canConvertToExactIntegral() || !o.canConvertToLong() || o.asLong() < 0) {
                throw new CheckpointFormatException(path, "tensor '" + name + "' has invalid data offset " + o);
            }
        }
        long begin = off.get(0).asLong();
        long end = off.get(1).asLong();
        if (begin > end || end > dataSize) {
            throw new CheckpointFormatException(path, "tensor '" + name + "' data range [" + begin + ", " + end
                    + ") lies outside the data section (" + dataSize + " bytes)");
        }
        long nbytes;
        try {
            nbytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new CheckpointFormatException(path, "tensor '" + name + "' byte size overflows");
        }
        if (nbytes != end - begin) {
            throw new CheckpointFormatException(path, "tensor '" + name + "' shape needs " + nbytes
                    + " bytes but its data range holds " + (end - begin));
        }
        return new Entry(new TensorInfo(name, dtype, shape, path), begin, end);
    }

    public Path path() {
        return path;
    }

    /** The {@code __metadata__} map (empty if absent). */
    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    @Override
    public Set<String> names() {
        return entries.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        Entry e = entries.get(name);
        return e == null ? null : e.info();
    }

    @Override
    public Tensor tensor(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + path);
        }
        return mapped.view(dataStart + e.begin(), e.info().dtype(), e.info().shape());
    }

    @Override
    public void close() {
        mapped.close();
    }
}
