package io.github.hunyuanvideo.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The directory of a zip archive (zip64 included), read with positioned reads so that the file offset of every
 * entry's data is known. {@code java.util.zip} hides those offsets and would copy the data; a torch checkpoint's
 * storages must be mapped in place instead. Every length and offset read from the file is checked against the file
 * before it is used, so a corrupt or hostile archive fails with {@link CheckpointFormatException}. Entry data can be
 * checked against its CRC-32 by {@link #readSmall} and, for mapped entries, by the caller through
 * {@link #verifyCrc32}.
 */
final class ZipArchive {
    /** Central directories larger than this are refused (a million entries need about 64 MB). */
    static final long MAX_CENTRAL_DIRECTORY_BYTES = 64L << 20;

    private static final int EOCD_SIG = 0x06054b50;
    private static final int EOCD64_LOCATOR_SIG = 0x07064b50;
    private static final int EOCD64_SIG = 0x06064b50;
    private static final int CENTRAL_SIG = 0x02014b50;
    private static final int LOCAL_SIG = 0x04034b50;
    private static final int EOCD_LEN = 22;
    private static final int EOCD64_LOCATOR_LEN = 20;
    private static final int EOCD64_LEN = 56;
    private static final int CENTRAL_LEN = 46;
    private static final int LOCAL_LEN = 30;
    private static final int ZIP64_EXTRA_ID = 0x0001;
    private static final long U32_SENTINEL = 0xFFFFFFFFL;
    private static final int U16_SENTINEL = 0xFFFF;

    /**
     * One entry.
     *
     * @param name       its path inside the archive
     * @param method     0 = stored; anything else is compressed
     * @param encrypted  general purpose flag bit 0
     * @param size       uncompressed size
     * @param storedSize bytes occupied in the file
     * @param dataOffset file offset of its first data byte
     * @param crc32      the CRC-32 of its uncompressed bytes, from the central directory
     */
    record Entry(String name, int method, boolean encrypted, long size, long storedSize, long dataOffset,
                 long crc32) {
        boolean stored() {
            return method == 0 && !encrypted && size == storedSize;
        }
    }

    private final Path path;
    private final long fileSize;
    private final Map<String, Entry> entries;
    private final boolean checksummed;

    private ZipArchive(Path path, long fileSize, Map<String, Entry> entries) {
        this.path = path;
        this.fileSize = fileSize;
        this.entries = entries;
        // torch.save under torch.serialization.set_crc32_options(False) writes 0 for every entry; any entry with
        // data (torch.save always writes a non-empty "version") that has a non-zero CRC-32 shows they were computed.
        this.checksummed = entries.values().stream().anyMatch(e -> e.size() > 0 && e.crc32() != 0);
    }

    /** Entries by name, in central directory order. */
    Map<String, Entry> entries() {
        return entries;
    }

    long fileSize() {
        return fileSize;
    }

    /**
     * Whether the entries carry CRC-32s; {@code false} when every entry's is 0, as torch.save writes them under
     * {@code torch.serialization.set_crc32_options(False)} (its own reader never checks them).
     */
    boolean checksummed() {
        return checksummed;
    }

    /**
     * Throws unless {@code computed} is {@code e}'s stored CRC-32 (only meaningful if the archive is
     * {@link #checksummed}).
     *
     * @throws CheckpointFormatException naming the entry and both values on a mismatch
     */
    void verifyCrc32(Entry e, long computed) throws CheckpointFormatException {
        if (computed != e.crc32()) {
            throw new CheckpointFormatException(path, String.format(Locale.ROOT,
                    "%s: CRC-32 mismatch (stored 0x%08x, computed 0x%08x): the file is corrupt", e.name(),
                    e.crc32(), computed));
        }
    }

    /**
     * Reads the central directory of {@code path}.
     *
     * @throws CheckpointFormatException if the file is not a well-formed single-disk zip archive
     */
    static ZipArchive read(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return read(path, ch);
        }
    }

    private static ZipArchive read(Path path, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        int tailLen = (int) Math.min(fileSize, EOCD_LEN + 0xFFFFL);
        ByteBuffer tail = readAt(ch, path, fileSize - tailLen, tailLen);
        int eocd = -1;
        for (int i = tailLen - EOCD_LEN; i >= 0; i--) {
            if (tail.getInt(i) == EOCD_SIG && i + EOCD_LEN + u16(tail, i + 20) <= tailLen) {
                eocd = i;
                break;
            }
        }
        if (eocd < 0) {
            boolean pickle = fileSize > 0 && readAt(ch, path, 0, 1).get(0) == (byte) 0x80;
            throw new CheckpointFormatException(path, "not a zip archive (no end of central directory record)"
                    + (pickle ? "; it looks like a legacy (non-zip) torch.save file: re-save it with torch >= 1.6"
                    : ""));
        }
        long eocdPos = fileSize - tailLen + eocd;
        int disk = u16(tail, eocd + 4);
        int cdDisk = u16(tail, eocd + 6);
        long count = u16(tail, eocd + 10);
        long cdSize = u32(tail, eocd + 12);
        long cdOffset = u32(tail, eocd + 16);
        long cdLimit = eocdPos;
        boolean hasLocator = eocdPos >= EOCD64_LOCATOR_LEN
                && readAt(ch, path, eocdPos - EOCD64_LOCATOR_LEN, 4).getInt(0) == EOCD64_LOCATOR_SIG;
        if (hasLocator) {
            ByteBuffer loc = readAt(ch, path, eocdPos - EOCD64_LOCATOR_LEN, EOCD64_LOCATOR_LEN);
            long eocd64Pos = loc.getLong(8);
            if (loc.getInt(4) != 0 || loc.getInt(16) > 1) {
                throw new CheckpointFormatException(path, "multi-disk zip archives are not supported");
            }
            if (eocd64Pos < 0 || eocd64Pos > eocdPos - EOCD64_LOCATOR_LEN - EOCD64_LEN) {
                throw new CheckpointFormatException(path, "zip64 end record offset " + eocd64Pos
                        + " lies outside the file");
            }
            ByteBuffer e64 = readAt(ch, path, eocd64Pos, EOCD64_LEN);
            if (e64.getInt(0) != EOCD64_SIG) {
                throw new CheckpointFormatException(path, "zip64 end record signature missing at " + eocd64Pos);
            }
            disk = e64.getInt(16);
            cdDisk = e64.getInt(20);
            count = e64.getLong(32);
            cdSize = e64.getLong(40);
            cdOffset = e64.getLong(48);
            cdLimit = eocd64Pos;
        } else if (count == U16_SENTINEL || cdSize == U32_SENTINEL || cdOffset == U32_SENTINEL) {
            throw new CheckpointFormatException(path, "zip64 sizes announced but no zip64 end record locator");
        }
        if (disk != 0 || cdDisk != 0) {
            throw new CheckpointFormatException(path, "multi-disk zip archives are not supported");
        }
        if (cdSize < 0 || cdOffset < 0 || cdSize > MAX_CENTRAL_DIRECTORY_BYTES || cdOffset > cdLimit
                || cdSize > cdLimit - cdOffset) {
            throw new CheckpointFormatException(path, "central directory [" + cdOffset + ", +" + cdSize
                    + ") does not fit before the end records at " + cdLimit + " (limit "
                    + MAX_CENTRAL_DIRECTORY_BYTES + " bytes)");
        }
        if (count < 0 || count > cdSize / CENTRAL_LEN) {
            throw new CheckpointFormatException(path, "entry count " + count + " cannot fit a " + cdSize
                    + "-byte central directory");
        }
        ByteBuffer cd = readAt(ch, path, cdOffset, (int) cdSize);
        Map<String, Entry> entries = new LinkedHashMap<>();
        int p = 0;
        for (long i = 0; i < count; i++) {
            Entry e = parseCentral(ch, path, cd, p, cdOffset);
            p = nextCentral(cd, p);
            if (entries.put(e.name(), e) != null) {
                throw new CheckpointFormatException(path, "duplicate zip entry '" + e.name() + "'");
            }
        }
        return new ZipArchive(path, fileSize, Collections.unmodifiableMap(entries));
    }

    private static int nextCentral(ByteBuffer cd, int p) {
        return p + CENTRAL_LEN + u16(cd, p + 28) + u16(cd, p + 30) + u16(cd, p + 32);
    }

    private static Entry parseCentral(FileChannel ch, Path path, ByteBuffer cd, int p, long dataLimit)
            throws IOException {
        if (p > cd.limit() - CENTRAL_LEN || cd.getInt(p) != CENTRAL_SIG) {
            throw new CheckpointFormatException(path, "central directory entry at +" + p + " is truncated or has "
                    + "no signature");
        }
        int flags = u16(cd, p + 8);
        int method = u16(cd, p + 10);
        long crc32 = u32(cd, p + 16);
        long storedSize = u32(cd, p + 20);
        long size = u32(cd, p + 24);
        int nameLen = u16(cd, p + 28);
        int extraLen = u16(cd, p + 30);
        int commentLen = u16(cd, p + 32);
        int diskStart = u16(cd, p + 34);
        long localOffset = u32(cd, p + 42);
        if ((long) p + CENTRAL_LEN + nameLen + extraLen + commentLen > cd.limit()) {
            throw new CheckpointFormatException(path, "central directory entry at +" + p
                    + " runs past the directory");
        }
        byte[] nameBytes = new byte[nameLen];
        cd.get(p + CENTRAL_LEN, nameBytes);
        String name = new String(nameBytes, StandardCharsets.UTF_8);
        int extra = p + CENTRAL_LEN + nameLen;
        int extraEnd = extra + extraLen;
        while (extra + 4 <= extraEnd) {
            int id = u16(cd, extra);
            int len = u16(cd, extra + 2);
            int data = extra + 4;
            if (data + len > extraEnd) {
                throw new CheckpointFormatException(path, "extra field of entry '" + name + "' is truncated");
            }
            if (id == ZIP64_EXTRA_ID) {
                int q = data;
                // Only the fields whose 32-bit slot holds the sentinel are present, in this order.
                if (size == U32_SENTINEL) {
                    size = zip64Field(cd, path, name, q, data + len);
                    q += 8;
                }
                if (storedSize == U32_SENTINEL) {
                    storedSize = zip64Field(cd, path, name, q, data + len);
                    q += 8;
                }
                if (localOffset == U32_SENTINEL) {
                    localOffset = zip64Field(cd, path, name, q, data + len);
                    q += 8;
                }
                if (diskStart == U16_SENTINEL) {
                    if (q + 4 > data + len) {
                        throw new CheckpointFormatException(path, "zip64 field of entry '" + name
                                + "' is truncated");
                    }
                    diskStart = cd.getInt(q);
                }
            }
            extra = data + len;
        }
        if (diskStart != 0) {
            throw new CheckpointFormatException(path, "entry '" + name + "' starts on another disk");
        }
        if (size < 0 || storedSize < 0 || localOffset < 0 || localOffset > dataLimit - LOCAL_LEN) {
            throw new CheckpointFormatException(path, "entry '" + name + "' has local header offset "
                    + localOffset + " or sizes outside the file");
        }
        ByteBuffer local = readAt(ch, path, localOffset, LOCAL_LEN);
        if (local.getInt(0) != LOCAL_SIG) {
            throw new CheckpointFormatException(path, "entry '" + name + "' has no local header at "
                    + localOffset);
        }
        int localNameLen = u16(local, 26);
        int localExtraLen = u16(local, 28);
        long dataOffset = localOffset + LOCAL_LEN + localNameLen + localExtraLen;
        if (localNameLen != nameLen || dataOffset > dataLimit || storedSize > dataLimit - dataOffset) {
            throw new CheckpointFormatException(path, "entry '" + name + "' (data at " + dataOffset + ", "
                    + storedSize + " bytes) does not fit before the central directory at " + dataLimit);
        }
        ByteBuffer localName = readAt(ch, path, localOffset + LOCAL_LEN, nameLen);
        for (int i = 0; i < nameLen; i++) {
            if (localName.get(i) != nameBytes[i]) {
                throw new CheckpointFormatException(path, "entry '" + name
                        + "': local header names another file");
            }
        }
        return new Entry(name, method, (flags & 1) != 0, size, storedSize, dataOffset, crc32);
    }

    private static long zip64Field(ByteBuffer cd, Path path, String name, int q, int end)
            throws CheckpointFormatException {
        if (q + 8 > end) {
            throw new CheckpointFormatException(path, "zip64 field of entry '" + name + "' is truncated");
        }
        return cd.getLong(q);
    }

    /**
     * The bytes of a stored entry (small entries only: the pickle, the byte order marker), checked against its
     * CRC-32 if {@code verifyCrc32}.
     *
     * @throws CheckpointFormatException if the entry is compressed, encrypted, larger than {@code maxBytes} or
     *                                   (when verified) does not match its CRC-32
     */
    byte[] readSmall(Entry e, long maxBytes, boolean verifyCrc32) throws IOException {
        requireStored(e);
        if (e.size() > maxBytes) {
            throw new CheckpointFormatException(path, "entry '" + e.name() + "' is " + e.size()
                    + " bytes, more than the " + maxBytes + " allowed");
        }
        byte[] data;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            data = readAt(ch, path, e.dataOffset(), (int) e.size()).array();
        }
        if (verifyCrc32) {
            CRC32 crc = new CRC32();
            crc.update(data);
            verifyCrc32(e, crc.getValue());
        }
        return data;
    }

    /** Throws unless {@code e}'s bytes lie uncompressed in the file, where they can be mapped. */
    void requireStored(Entry e) throws CheckpointFormatException {
        if (e.encrypted()) {
            throw new CheckpointFormatException(path, "entry '" + e.name() + "' is encrypted");
        }
        if (e.method() != 0 || e.size() != e.storedSize()) {
            throw new CheckpointFormatException(path, "entry '" + e.name() + "' is compressed (method "
                    + e.method() + "); only stored (uncompressed) entries can be read in place - save with "
                    + "torch.save's default zip writer");
        }
    }

    private static ByteBuffer readAt(FileChannel ch, Path path, long pos, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        while (buf.hasRemaining()) {
            if (ch.read(buf, pos + buf.position()) < 0) {
                throw new CheckpointFormatException(path, "unexpected end of file at " + (pos + buf.position()));
            }
        }
        return buf;
    }

    private static int u16(ByteBuffer b, int i) {
        return b.getShort(i) & 0xFFFF;
    }

    private static long u32(ByteBuffer b, int i) {
        return b.getInt(i) & U32_SENTINEL;
    }
}
