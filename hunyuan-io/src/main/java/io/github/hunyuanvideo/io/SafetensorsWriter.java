package io.github.hunyuanvideo.io;

import io.github.hunyuanvideo.nn.Tensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes tensors to a <a href="https://github.com/huggingface/safetensors">safetensors</a> file that
 * {@link SafetensorsFile} (and the Python library) reads back.
 *
 * <p>Tensors are stored in name order, contiguous and little-endian, in their own dtype; the JSON header is padded
 * with spaces to a multiple of 8 bytes, as the reference implementation does, so every tensor starts 8-byte aligned
 * relative to the data section. Tensor bytes are copied as they lie in memory, which is little-endian on every
 * platform libtorch ships for (x86-64, arm64). The file is written to a temporary file in the same folder and renamed when complete.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Largest slice copied from native memory at once. */
    private static final long CHUNK = 1L << 26;

    private SafetensorsWriter() {
    }

    /**
     * Writes {@code tensors} (any device, any supported dtype; non-contiguous ones are copied) with optional
     * {@code __metadata__} string pairs.
     *
     * @throws IllegalArgumentException if a name is empty or {@code __metadata__}, or a dtype has no safetensors code
     * @throws IOException              if the file cannot be written
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Tensor> sorted = new TreeMap<>(tensors);
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            new TreeMap<>(metadata).forEach(meta::put);
        }
        List<Tensor> data = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            String name = e.getKey();
            if (name.isEmpty() || name.equals("__metadata__")) {
                throw new IllegalArgumentException("invalid tensor name '" + name + "'");
            }
            Tensor t = e.getValue().cpu().contiguous();
            DType dtype = dtypeOf(name, t);
            long nbytes = t.numel() * dtype.byteSize();
            ObjectNode entry = header.putObject(name);
            entry.put("dtype", dtype.name());
            ArrayNode shape = entry.putArray("shape");
            for (long d : Tensors.shape(t)) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + nbytes);
            offset += nbytes;
            data.add(t);
        }
        ByteBuffer head = headerBytes(header);

        Path abs = file.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path temp = Files.createTempFile(abs.getParent(), ".safetensors-", ".part");
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(ch, head);
                for (Tensor t : data) {
                    long nbytes = t.numel() * t.element_size();
                    if (nbytes == 0) {
                        continue; // an empty tensor has no data pointer
                    }
                    BytePointer p = new BytePointer(t.data_ptr()).capacity(nbytes);
                    for (long pos = 0; pos < nbytes; pos += CHUNK) {
                        long n = Math.min(CHUNK, nbytes - pos);
                        // getPointer: asByteBuffer on a position past 2 GiB would clamp it
                        writeFully(ch, p.getPointer(pos).capacity(n).asByteBuffer());
                    }
                }
            }
            Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * The file's start for {@code header}: its little-endian length, then the JSON padded with spaces so the data
     * section starts 8-byte aligned, as safetensors writers do. Ready to write (flipped).
     */
    public static ByteBuffer headerBytes(ObjectNode header) throws IOException {
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        return head.flip();
    }

    private static DType dtypeOf(String name, Tensor t) {
        var st = t.scalar_type().intern();
        for (DType d : DType.values()) {
            if (d.scalarType() == st) {
                return d;
            }
        }
        throw new IllegalArgumentException("tensor '" + name + "' has dtype " + st + ", which safetensors cannot store");
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
