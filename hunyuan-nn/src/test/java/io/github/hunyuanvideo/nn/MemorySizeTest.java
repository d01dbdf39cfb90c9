package io.github.hunyuanvideo.nn;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemorySizeTest {
    private static final String OPTION = "--max-gpu-memory";
    private static final long K = 1L << 10;
    private static final long M = 1L << 20;
    private static final long G = 1L << 30;

    static Stream<Arguments> valid() {
        return Stream.of(
                Arguments.of("24G", 24 * G),
                Arguments.of("24GB", 24 * G),
                Arguments.of("24GiB", 24 * G),
                Arguments.of("12GiB", 12 * G),
                Arguments.of("12gib", 12 * G),
                Arguments.of("12 GiB", 12 * G),
                Arguments.of("24 g", 24 * G),
                Arguments.of(" 24G ", 24 * G),
                Arguments.of("16000M", 16000 * M),
                Arguments.of("16000MB", 16000 * M),
                Arguments.of("16000mb", 16000 * M),
                Arguments.of("512MiB", 512 * M),
                Arguments.of("1.5G", 3 * G / 2),
                Arguments.of("0.5G", G / 2),
                Arguments.of("8192K", 8 * M),
                Arguments.of("8192KiB", 8 * M),
                Arguments.of("8192kb", 8 * M),
                Arguments.of("1073741824", G),
                Arguments.of("1", 1L),
                Arguments.of("0.3K", 307L),
                Arguments.of("007G", 7 * G),
                Arguments.of("1048576G", MemorySize.MAX),
                Arguments.of("1125899906842624", MemorySize.MAX));
    }

    @ParameterizedTest(name = "{0} = {1} bytes")
    @MethodSource("valid")
    void parsesBinaryUnits(String text, long bytes) {
        assertEquals(bytes, MemorySize.parse(OPTION, text));
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("", "is not a size"),
                Arguments.of("   ", "is not a size"),
                Arguments.of("24X", "is not a size"),
                Arguments.of("G", "is not a size"),
                Arguments.of("GiB", "is not a size"),
                Arguments.of("1e3G", "is not a size"),
                Arguments.of("1e3", "is not a size"),
                Arguments.of("NaN", "is not a size"),
                Arguments.of("Infinity", "is not a size"),
                Arguments.of("1.5", "is not a size"),
                Arguments.of(".5G", "is not a size"),
                Arguments.of("5.G", "is not a size"),
                Arguments.of("24T", "is not a size"),
                Arguments.of("24GG", "is not a size"),
                Arguments.of("24B", "is not a size"),
                Arguments.of("+24G", "is not a size"),
                Arguments.of("24,5G", "is not a size"),
                Arguments.of("0x10G", "is not a size"),
                Arguments.of("２４G", "is not a size"),
                Arguments.of("-1G", "is negative"),
                Arguments.of("-1", "is negative"),
                Arguments.of("0", "is zero"),
                Arguments.of("0G", "is zero"),
                Arguments.of("0.0M", "is zero"),
                Arguments.of("0.0001K", "less than one byte"),
                Arguments.of("1048577G", "more than 1 PiB"),
                Arguments.of("1125899906842625", "more than 1 PiB"),
                Arguments.of("9223372036854775808", "more than 1 PiB"),
                Arguments.of("99999999999999999999999999999999G", "more than 1 PiB"));
    }

    @ParameterizedTest(name = "''{0}'' {1}")
    @MethodSource("invalid")
    void refusesAnythingElseNamingTheOptionAndTheForms(String text, String why) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MemorySize.parse(OPTION, text));
        assertEquals(OPTION + ": '" + text + "' " + (why.startsWith("is") ? why : "is " + why)
                + "; use a number with K, M or G (24G, 12GiB, 16000M)", e.getMessage());
    }

    @Test
    void nullIsRefusedNamingTheOption() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemorySize.parse(OPTION, null));
        assertTrue(e.getMessage().startsWith(OPTION + ": "), e.getMessage());
    }

    /** Seeded random strings over the characters sizes are made of, plus some they are not. */
    static IntStream fuzzCases() {
        return IntStream.range(0, 1000);
    }

    private static final String ALPHABET = "0123456789012345678901234567890123456789..  \t-+eEKkMmGgiIBbXN\u0663\uff14";

    @ParameterizedTest(name = "case {0}")
    @MethodSource("fuzzCases")
    void randomTextIsEitherASizeOrAnIllegalArgument(int seed) {
        Random r = new Random(seed);
        StringBuilder s = new StringBuilder();
        // mostly short strings; every tenth long enough to overflow a long
        int length = seed % 10 == 0 ? 20 + r.nextInt(40) : r.nextInt(12);
        for (int i = 0; i < length; i++) {
            s.append(ALPHABET.charAt(r.nextInt(ALPHABET.length())));
        }
        String text = s.toString();
        try {
            long bytes = MemorySize.parse(OPTION, text);
            assertTrue(bytes > 0 && bytes <= MemorySize.MAX, "'" + text + "' gave " + bytes);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith(OPTION + ": ") && e.getMessage().endsWith("16000M)"),
                    "'" + text + "': " + e.getMessage());
        }
    }

    /** Sizes whose two decimals are exact print as text that parses back to them. */
    @ParameterizedTest
    @ValueSource(strings = {"24G", "12GiB", "512MiB", "8192K", "1.5G", "1.25M"})
    void formatAndParseAgree(String text) {
        long bytes = MemorySize.parse(OPTION, text);
        String printed = MemorySize.format(bytes);
        assertEquals(bytes, MemorySize.parse(OPTION, printed.replace(" ", "")));
    }

    @Test
    void formatsInTheLargestUnitWithTwoDecimals() {
        assertEquals("24.00 GiB", MemorySize.format(24 * G));
        assertEquals("1.50 GiB", MemorySize.format(3 * G / 2));
        assertEquals("15.63 GiB", MemorySize.format(16000 * M));
        assertEquals("512.00 MiB", MemorySize.format(512 * M));
        assertEquals("8.00 KiB", MemorySize.format(8 * K));
        assertEquals("1023 B", MemorySize.format(1023));
        assertEquals("0 B", MemorySize.format(0));
        assertEquals("-2.00 GiB", MemorySize.format(-2 * G));
        assertEquals("8589934592.00 GiB", MemorySize.format(Long.MAX_VALUE));
    }
}
