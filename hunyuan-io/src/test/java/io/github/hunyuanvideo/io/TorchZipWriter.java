package io.github.hunyuanvideo.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Test helper: writes zip archives laid out like torch.save's (stored entries, data aligned to 64 bytes by padding
 * the local extra field), with zip64 records when sizes or offsets need them or when forced, and with sparse
 * entries (zeros that take no disk) so archives over 4 GB cost nothing to make. Every entry carries its CRC-32, or
 * 0 when so asked (as torch.save writes under {@code torch.serialization.set_crc32_options(False)}).
 */
final class TorchZipWriter implements AutoCloseable {
    private static final long MAX32 = 0xFFFFFFFFL;

    private record Central(byte[] name, long crc, long size, long offset) {
    }

    private final FileChannel ch;
    private final boolean forceZip64;
    private final boolean crc32;
    private final List<Central> central = new ArrayList<>();
    private long pos;

    TorchZipWriter(Path path, boolean forceZip64) throws IOException {
        this(path, forceZip64, true);
    }

    /** With {@code crc32} false, every entry's CRC-32 field is 0. */
    TorchZipWriter(Path path, boolean forceZip64, boolean crc32) throws IOException {
        this.ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
        this.forceZip64 = forceZip64;
        this.crc32 = crc32;
    }

    /** Writes a torch.save archive: {@code prefix/data.pkl}, {@code prefix/data/<key>} and the marker files. */
    static void write(Path path, String prefix, byte[] pickle, Map<String, byte[]> storages, boolean zip64)
            throws IOException {
        try (TorchZipWriter w = new TorchZipWriter(path, zip64)) {
            w.add(prefix + "/data.pkl", pickle);
            w.add(prefix + "/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            for (Map.Entry<String, byte[]> s : storages.entrySet()) {
                w.add(prefix + "/data/" + s.getKey(), s.getValue());
            }
            w.add(prefix + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    void add(String name, byte[] data) throws IOException {
        CRC32 crc = new CRC32();
        crc.update(data);
        long start = header(name, data.length, crc.getValue());
        ch.write(ByteBuffer.wrap(data), start);
        pos = start + data.length;
    }

    /** An entry of {@code size} bytes, zero except for {@code tail} at its end; the zeros are a file hole. */
    void addSparse(String name, long size, byte[] tail) throws IOException {
        CRC32 crc = new CRC32();
        ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
        for (long left = size - tail.length; left > 0; left -= zeros.limit()) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), left));
            crc.update(zeros);
        }
        crc.update(tail);
        long start = header(name, size, crc.getValue());
        ch.write(ByteBuffer.wrap(tail), start + size - tail.length);
        pos = start + size;
    }

    private boolean zip64(long size, long offset) {
        return forceZip64 || size >= MAX32 || offset >= MAX32;
    }

    /** Writes the local header, returns where the data starts. */
    private long header(String entryName, long size, long dataCrc) throws IOException {
        long crc = crc32 ? dataCrc : 0;
        byte[] name = entryName.getBytes(StandardCharsets.UTF_8);
        boolean z = zip64(size, pos);
        int zipExtra = z ? 20 : 0;
        long unpadded = pos + 30 + name.length + zipExtra + 4;
        int pad = (int) ((64 - unpadded % 64) % 64);
        ByteBuffer b = ByteBuffer.allocate(30 + name.length + zipExtra + 4 + pad).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x04034b50).putShort((short) (z ? 45 : 20)).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0).putShort((short) 0).putInt((int) crc)
                .putInt((int) (z ? MAX32 : size)).putInt((int) (z ? MAX32 : size))
                .putShort((short) name.length).putShort((short) (zipExtra + 4 + pad)).put(name);
        if (z) {
            b.putShort((short) 1).putShort((short) 16).putLong(size).putLong(size);
        }
        // Padding field (id 0x4346 as an arbitrary private id), so the data lands on a 64-byte boundary.
        b.putShort((short) 0x4346).putShort((short) pad).put(new byte[pad]);
        b.flip();
        ch.write(b, pos);
        central.add(new Central(name, crc, size, pos));
        return pos + b.limit();
    }

    @Override
    public void close() throws IOException {
        long cdStart = pos;
        for (Central c : central) {
            boolean z = zip64(c.size(), c.offset());
            ByteBuffer b = ByteBuffer.allocate(46 + c.name().length + (z ? 28 : 0)).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(0x02014b50).putShort((short) 45).putShort((short) (z ? 45 : 20)).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt((int) c.crc())
                    .putInt((int) (z ? MAX32 : c.size())).putInt((int) (z ? MAX32 : c.size()))
                    .putShort((short) c.name().length).putShort((short) (z ? 28 : 0)).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt(0).putInt((int) (z ? MAX32 : c.offset()))
                    .put(c.name());
            if (z) {
                b.putShort((short) 1).putShort((short) 24).putLong(c.size()).putLong(c.size()).putLong(c.offset());
            }
            b.flip();
            pos += ch.write(b, pos);
        }
        long cdSize = pos - cdStart;
        boolean z = forceZip64 || cdStart >= MAX32 || central.size() >= 0xFFFF;
        if (z) {
            long eocd64 = pos;
            ByteBuffer b = ByteBuffer.allocate(56 + 20).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                    .putLong(central.size()).putLong(central.size()).putLong(cdSize).putLong(cdStart);
            b.putInt(0x07064b50).putInt(0).putLong(eocd64).putInt(1);
            b.flip();
            pos += ch.write(b, pos);
        }
        ByteBuffer e = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
        e.putInt(0x06054b50).putShort((short) 0).putShort((short) 0)
                .putShort((short) (z ? 0xFFFF : central.size())).putShort((short) (z ? 0xFFFF : central.size()))
                .putInt((int) (z ? MAX32 : cdSize)).putInt((int) (z ? MAX32 : cdStart)).putShort((short) 0);
        e.flip();
        ch.write(e, pos);
        ch.close();
    }
}
