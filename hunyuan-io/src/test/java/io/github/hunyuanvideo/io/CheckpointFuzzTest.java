package io.github.hunyuanvideo.io;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded mutation fuzzing of the three parsers (2,160 cases): safetensors headers, zip structures of torch.save
 * archives, and the pickles inside them. Each case writes the mutated file, opens it and, if it opens, materialises
 * every tensor. The only acceptable failures are an {@link IOException} (in practice {@link CheckpointFormatException})
 * from {@code open} and, from {@code tensor}, an {@link UncheckedIOException} carrying a
 * {@link CheckpointFormatException} (a storage whose CRC-32 does not match, checked when first read); any other
 * exception or error fails, as does a case running over 10 s or allocating more than 64 MB of heap (a lying length
 * field must never drive an allocation). A failing case names its seed.
 */
class CheckpointFuzzTest {
    private static final int CASES_PER_FAMILY = 720;
    private static final long MAX_CASE_ALLOCATION = 64L << 20;
    private static final long[] INTERESTING = {0, 1, 2, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x10000,
        0x7FFFFFFFL, 0x80000000L, 0xFFFFFFFFL, 0x100000000L, Long.MAX_VALUE, Long.MIN_VALUE, -1, -2};

    @TempDir
    static Path tmp;

    private static byte[] safetensors;
    private static final List<byte[]> ARCHIVES = new ArrayList<>();
    private static final List<byte[]> PICKLES = new ArrayList<>();
    private static final List<Map<String, byte[]>> PICKLE_STORAGES = new ArrayList<>();
    /** Per family: [cases that opened, cases refused]. */
    private static final Map<String, int[]> OUTCOMES = new ConcurrentHashMap<>();

    @BeforeAll
    static void bases() throws IOException {
        Path pt = ReferenceCase.dir().resolve("pt");
        safetensors = Files.readAllBytes(pt.resolve("generic.twin.safetensors"));
        for (String f : List.of("bare.pt", "parameters.pt")) {
            ARCHIVES.add(Files.readAllBytes(pt.resolve(f)));
            Map<String, byte[]> entries = TorchCheckpointTest.entries(pt.resolve(f));
            Map<String, byte[]> storages = new LinkedHashMap<>();
            byte[] pickle = null;
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                String name = e.getKey().substring(e.getKey().indexOf('/') + 1);
                if (name.equals("data.pkl")) {
                    pickle = e.getValue();
                } else if (name.startsWith("data/")) {
                    storages.put(name.substring(5), e.getValue());
                }
            }
            PICKLES.add(pickle);
            PICKLE_STORAGES.add(storages);
            // The same archive with zip64 records everywhere, so zip64 fields get mutated too.
            Path z64 = tmp.resolve("base64-" + f);
            try (TorchZipWriter w = new TorchZipWriter(z64, true)) {
                for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                    w.add(e.getKey(), e.getValue());
                }
            }
            ARCHIVES.add(Files.readAllBytes(z64));
        }
        // A protocol 4 pickle (FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE) over parameters.pt's storages.
        PickleWriter body = new PickleWriter().op('}').op(0x94).mark().shortStr("w").op(0x94)
                .stackGlobal("torch._utils", "_rebuild_tensor_v2").op(0x94).mark()
                .mark().shortStr("storage").stackGlobal("torch", "FloatStorage").shortStr("0").shortStr("cpu")
                .integer(4).op('t').op('Q').integer(0).tuple(2, 2).tuple(1, 2).op(0x89).op('}').op('t').op('R')
                .shortStr("b").op('h').op(2).mark().persistentStorage("FloatStorage", "1", 2).integer(1)
                .tuple(1).tuple(1).op(0x89).op('}').op('t').op('R').op('u').op('.');
        byte[] b = body.bytes();
        PICKLES.add(new PickleWriter().proto(4).op(0x95).le64(b.length).raw(b).bytes());
        PICKLE_STORAGES.add(PICKLE_STORAGES.get(1));
        // Unmutated, every base opens; this also loads libtorch before any case measures its allocations.
        for (int i = 0; i < PICKLES.size(); i++) {
            Path p = tmp.resolve("base-pickle-" + i + ".pt");
            TorchZipWriter.write(p, "base", PICKLES.get(i), PICKLE_STORAGES.get(i), false);
            assertTrue(openAndMaterialise(TorchCheckpoint::open, p).startsWith("opened"));
        }
        for (int i = 0; i < ARCHIVES.size(); i++) {
            Path p = Files.write(tmp.resolve("base-archive-" + i + ".pt"), ARCHIVES.get(i));
            assertTrue(openAndMaterialise(TorchCheckpoint::open, p).startsWith("opened"));
        }
        Path st = Files.write(tmp.resolve("base.safetensors"), safetensors);
        assertTrue(openAndMaterialise(SafetensorsFile::open, st).startsWith("opened"));
    }

    static LongStream seeds() {
        return LongStream.range(0, CASES_PER_FAMILY);
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void safetensorsHeaders(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] file = mutateSafetensors(r, safetensors.clone());
        runCase(seed, "st", file, ".safetensors", p -> SafetensorsFile.open(p));
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void zipStructures(long seed) {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5A5A5A5AL);
        byte[] file = mutateZip(r, ARCHIVES.get(r.nextInt(ARCHIVES.size())).clone());
        runCase(seed, "zip", file, ".pt", p -> TorchCheckpoint.open(p));
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void pickles(long seed) {
        SplittableRandom r = new SplittableRandom(seed ^ 0xC0FFEEL);
        int base = r.nextInt(PICKLES.size());
        byte[] pickle = mutatePickle(r, PICKLES.get(base).clone());
        Path p = tmp.resolve("pkl-" + seed + ".pt");
        try {
            TorchZipWriter.write(p, "fuzz", pickle, PICKLE_STORAGES.get(base), false);
            runCase(seed, "pickle", Files.readAllBytes(p), ".pt", f -> TorchCheckpoint.open(f));
            Files.delete(p);
        } catch (IOException e) {
            throw new AssertionError("could not write the case", e);
        }
    }

    @FunctionalInterface
    interface Opener {
        TensorSource open(Path p) throws IOException;
    }

    private static void runCase(long seed, String family, byte[] file, String suffix, Opener opener) {
        String what = family + " case seed " + seed;
        String outcome = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            Path p = tmp.resolve(family + "-" + seed + suffix);
            Files.write(p, file);
            com.sun.management.ThreadMXBean mx =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = mx.getCurrentThreadAllocatedBytes();
            String result;
            try (PointerScope scope = new PointerScope()) {
                result = openAndMaterialise(opener, p);
            } catch (IOException expected) {
                result = "refused";
            } catch (UncheckedIOException e) {
                if (!(e.getCause() instanceof CheckpointFormatException)) {
                    throw new AssertionError(what + ": untyped failure " + e, e);
                }
                result = "refused";
            } catch (RuntimeException | Error e) {
                throw new AssertionError(what + ": untyped failure " + e, e);
            }
            long allocated = mx.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < MAX_CASE_ALLOCATION, what + " allocated " + allocated + " bytes");
            Files.delete(p);
            return result;
        }, what + " hung");
        assertTrue(outcome.equals("refused") || outcome.startsWith("opened"), outcome);
        OUTCOMES.computeIfAbsent(family, f -> new int[2])[outcome.equals("refused") ? 1 : 0]++;
    }

    /** Mutations that are all refused (or all harmless) would test little: each family must see both. */
    @AfterAll
    static void bothOutcomesOccur() {
        OUTCOMES.forEach((family, n) -> {
            LoggerFactory.getLogger(CheckpointFuzzTest.class).info("{}: {} opened, {} refused", family, n[0], n[1]);
            assertTrue(n[0] > 0 && n[1] > 0, family + ": " + n[0] + " opened, " + n[1] + " refused");
        });
    }

    private static String openAndMaterialise(Opener opener, Path p) throws IOException {
        try (TensorSource src = opener.open(p)) {
            long bytes = 0;
            for (String n : src.names()) {
                bytes += TensorBytes.of(src.tensor(n)).length;
            }
            return "opened " + src.names().size() + " tensors, " + bytes + " bytes";
        }
    }

    // ---- mutations ----

    private static long interesting(SplittableRandom r, long fileSize) {
        return switch (r.nextInt(4)) {
            case 0 -> fileSize + r.nextInt(-2, 3);
            case 1 -> r.nextLong();
            default -> INTERESTING[r.nextInt(INTERESTING.length)];
        };
    }

    private static void putLE(byte[] b, int at, int width, long v) {
        for (int i = 0; i < width && at + i < b.length; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }

    private static byte[] flipBits(SplittableRandom r, byte[] b, int from, int to) {
        int n = 1 + r.nextInt(8);
        for (int i = 0; i < n && to > from; i++) {
            b[r.nextInt(from, to)] ^= (byte) (1 << r.nextInt(8));
        }
        return b;
    }

    private static byte[] truncate(SplittableRandom r, byte[] b) {
        return Arrays.copyOf(b, b.length == 0 ? 0 : r.nextInt(b.length));
    }

    private static byte[] mutateSafetensors(SplittableRandom r, byte[] f) {
        int headerLen = (int) ByteBuffer.wrap(f, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        switch (r.nextInt(6)) {
            case 0 -> {
                return flipBits(r, f, 0, 8 + headerLen);
            }
            case 1 -> {
                putLE(f, 0, 8, interesting(r, f.length));
                return f;
            }
            case 2 -> {
                return truncate(r, f);
            }
            default -> {
                // Edit the JSON text itself, then keep the length field honest so the JSON gets parsed.
                String json = new String(f, 8, headerLen, StandardCharsets.UTF_8);
                json = editJson(r, json);
                byte[] h = json.getBytes(StandardCharsets.UTF_8);
                byte[] data = Arrays.copyOfRange(f, 8 + headerLen, f.length);
                ByteBuffer out = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
                out.putLong(r.nextInt(10) == 0 ? interesting(r, f.length) : h.length).put(h).put(data);
                return out.array();
            }
        }
    }

    private static final String[] JSON_VALUES = {"-1", "0", "1e308", "18446744073709551615", "9223372036854775807",
        "4294967296", "3.5", "null", "\"F32\"", "\"Q9\"", "[]", "[1,2]", "{}", "[[[[[[[[[[[[1]]]]]]]]]]]]", "\"\"",
        "1" + "0".repeat(400)};

    private static String editJson(SplittableRandom r, String json) {
        int n = 1 + r.nextInt(3);
        for (int k = 0; k < n && !json.isEmpty(); k++) {
            int at = r.nextInt(json.length());
            switch (r.nextInt(5)) {
                case 0 -> { // replace a number
                    int s = at;
                    while (s < json.length() && !Character.isDigit(json.charAt(s))) {
                        s++;
                    }
                    int e = s;
                    while (e < json.length() && Character.isDigit(json.charAt(e))) {
                        e++;
                    }
                    json = json.substring(0, s) + JSON_VALUES[r.nextInt(JSON_VALUES.length)] + json.substring(e);
                }
                case 1 -> json = json.replaceFirst("\"(F32|BF16|F16|I64|F8_E4M3|BOOL|U8)\"",
                        r.nextBoolean() ? "\"F64\"" : "\"X" + r.nextInt(100) + "\"");
                case 2 -> json = json.substring(0, at) + json.substring(Math.min(json.length(), at + 1
                        + r.nextInt(8)));
                case 3 -> json = json.substring(0, at) + "{[\",:]}".charAt(r.nextInt(7)) + json.substring(at);
                default -> { // duplicate a span (duplicate keys, overlapping ranges)
                    int e = Math.min(json.length(), at + r.nextInt(80));
                    json = json.substring(0, e) + json.substring(at, e) + json.substring(e);
                }
            }
        }
        return json;
    }

    /** Offsets of zip records (local, central, end, zip64 end, zip64 locator) and their fixed lengths. */
    private static List<int[]> zipRecords(byte[] f) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i + 4 <= f.length; i++) {
            if (f[i] == 'P' && f[i + 1] == 'K') {
                int len = switch (f[i + 2] * 256 + f[i + 3]) {
                    case 0x0304 -> 30;
                    case 0x0102 -> 46;
                    case 0x0506 -> 22;
                    case 0x0606 -> 56;
                    case 0x0607 -> 20;
                    default -> 0;
                };
                if (len > 0) {
                    out.add(new int[] {i, len});
                }
            }
        }
        return out;
    }

    private static byte[] mutateZip(SplittableRandom r, byte[] f) {
        List<int[]> records = zipRecords(f);
        switch (r.nextInt(5)) {
            case 0 -> {
                return flipBits(r, f, 0, f.length);
            }
            case 1 -> {
                return truncate(r, f);
            }
            case 2 -> {
                byte[] junk = new byte[r.nextInt(1, 200)];
                r.nextBytes(junk);
                byte[] out = Arrays.copyOf(f, f.length + junk.length);
                System.arraycopy(junk, 0, out, f.length, junk.length);
                return out;
            }
            default -> {
                // Lie in 1 to 3 header fields: sizes, offsets, counts, name/extra lengths, zip64 values.
                int n = 1 + r.nextInt(3);
                for (int k = 0; k < n; k++) {
                    int[] rec = records.get(r.nextInt(records.size()));
                    int width = new int[] {2, 4, 8}[r.nextInt(3)];
                    putLE(f, rec[0] + r.nextInt(4, rec[1]), width, interesting(r, f.length));
                }
                return f;
            }
        }
    }

    private static final int[] OPCODES = {0x80, 0x95, '.', '(', '0', '1', '2', 'N', 0x88, 0x89, 'J', 'K', 'M', 0x8a,
        0x8b, 'G', 'X', 0x8d, 0x8c, 'T', 'U', 'B', 'C', 0x8e, 0x96, '}', ']', ')', 0x8f, 'd', 'l', 't', 0x85, 0x86,
        0x87, 0x91, 's', 'u', 'a', 'e', 0x90, 'q', 'r', 0x94, 'h', 'j', 'c', 0x93, 'R', 0x81, 0x92, 'b', 'Q', 'i',
        0x82, 'P', 'o', 0x97};

    private static byte[] mutatePickle(SplittableRandom r, byte[] p) {
        switch (r.nextInt(6)) {
            case 0 -> {
                return flipBits(r, p, 0, p.length);
            }
            case 1 -> { // lie in a length field: BINUNICODE / FRAME / any 4 or 8 bytes after an opcode
                List<Integer> lengths = new ArrayList<>();
                for (int i = 0; i + 5 <= p.length; i++) {
                    if (p[i] == 'X' || (p[i] & 0xFF) == 0x95) {
                        lengths.add(i + 1);
                    }
                }
                int at = lengths.isEmpty() ? r.nextInt(p.length) : lengths.get(r.nextInt(lengths.size()));
                putLE(p, at, r.nextBoolean() ? 4 : 8, interesting(r, p.length));
                return p;
            }
            case 2 -> { // insert opcodes with random operands
                int at = r.nextInt(p.length);
                byte[] ins = new byte[1 + r.nextInt(10)];
                r.nextBytes(ins);
                ins[0] = (byte) OPCODES[r.nextInt(OPCODES.length)];
                byte[] out = new byte[p.length + ins.length];
                System.arraycopy(p, 0, out, 0, at);
                System.arraycopy(ins, 0, out, at, ins.length);
                System.arraycopy(p, at, out, at + ins.length, p.length - at);
                return out;
            }
            case 3 -> { // delete a span
                int at = r.nextInt(p.length);
                int len = Math.min(p.length - at, 1 + r.nextInt(16));
                byte[] out = new byte[p.length - len];
                System.arraycopy(p, 0, out, 0, at);
                System.arraycopy(p, at + len, out, at, p.length - at - len);
                return out;
            }
            case 4 -> { // duplicate a span: repeated keys, doubled MARKs, memo reuse
                int at = r.nextInt(p.length);
                int len = Math.min(p.length - at, 1 + r.nextInt(64));
                byte[] out = new byte[p.length + len];
                System.arraycopy(p, 0, out, 0, at + len);
                System.arraycopy(p, at, out, at + len, p.length - at);
                return out;
            }
            default -> { // overwrite an operand byte with an interesting value
                int at = r.nextInt(p.length);
                putLE(p, at, 1 + r.nextInt(2), interesting(r, p.length));
                return p;
            }
        }
    }
}
