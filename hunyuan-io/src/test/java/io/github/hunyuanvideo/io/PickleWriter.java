package io.github.hunyuanvideo.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Test helper: emits pickle opcodes one by one, to build the pickles torch.save would write (and worse). */
final class PickleWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleWriter op(int opcode) {
        out.write(opcode);
        return this;
    }

    PickleWriter raw(byte... bytes) {
        out.write(bytes, 0, bytes.length);
        return this;
    }

    PickleWriter le32(int v) {
        return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    PickleWriter le64(long v) {
        return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    PickleWriter proto(int p) {
        return op(0x80).op(p);
    }

    PickleWriter mark() {
        return op('(');
    }

    /** BINUNICODE. */
    PickleWriter str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op('X').le32(b.length).raw(b);
    }

    /** SHORT_BINUNICODE (protocol 4). */
    PickleWriter shortStr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op(0x8c).op(b.length).raw(b);
    }

    /** GLOBAL 'module name'. */
    PickleWriter global(String module, String name) {
        return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** STACK_GLOBAL (protocol 4). */
    PickleWriter stackGlobal(String module, String name) {
        return shortStr(module).shortStr(name).op(0x93);
    }

    /** The smallest int opcode for {@code v}. */
    PickleWriter integer(long v) {
        if (v >= 0 && v < 256) {
            return op('K').op((int) v);
        }
        if (v >= 0 && v < 65536) {
            return op('M').op((int) v & 0xFF).op((int) (v >>> 8));
        }
        if (v == (int) v) {
            return op('J').le32((int) v);
        }
        return op(0x8a).op(8).le64(v);
    }

    PickleWriter tuple(long... items) {
        mark();
        for (long v : items) {
            integer(v);
        }
        return op('t');
    }

    /** An empty OrderedDict, as torch.save writes one. */
    PickleWriter orderedDict() {
        return global("collections", "OrderedDict").op(')').op('R');
    }

    /**
     * {@code _rebuild_tensor_v2(storage(key), offset, shape, stride, False, OrderedDict())} over a storage of
     * {@code numel} elements of {@code storageClass} ("FloatStorage", ...).
     */
    PickleWriter tensorV2(String storageClass, String key, long numel, long offset, long[] shape, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        persistentStorage(storageClass, key, numel);
        integer(offset).tuple(shape).tuple(stride).op(0x89).orderedDict();
        return op('t').op('R');
    }

    /** Pushes the storage loaded through persistent id ('storage', torch.storageClass, key, 'cpu', numel). */
    PickleWriter persistentStorage(String storageClass, String key, long numel) {
        mark().str("storage").global("torch", storageClass).str(key).str("cpu").integer(numel).op('t');
        return op('Q');
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
