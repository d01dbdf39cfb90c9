package io.github.hunyuanvideo.io.video;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OutputNamesTest {
    static final LocalDateTime TIME = LocalDateTime.of(2025, 1, 2, 3, 4, 5);

    @TempDir
    Path dir;

    @Test
    void ordinaryPromptGivesTheOriginalName() {
        assertEquals("2025-01-02-03:04:05_seed42_A cat walks on the grass, realistic style.",
                OutputNames.baseName(TIME, 42, "A cat walks on the grass, realistic style.", false));
    }

    @Test
    void videoFileNameAddsTheExtensionWithThePlatformRules() {
        assertEquals(OutputNames.baseName(TIME, 3, "a/b", OutputNames.windowsDefault()) + ".mp4",
                OutputNames.videoFileName(TIME, 3, "a/b"));
    }

    @Test
    void promptIsCutAtOneHundredCharactersBeforeSlashesAreRemoved() {
        String prompt = "a/b".repeat(40); // 120 chars; the first 100 are 33 × "a/b" + "a", 33 slashes
        String part = OutputNames.baseName(TIME, 7, prompt, false).substring("2025-01-02-03:04:05_seed7_".length());
        assertEquals(prompt.substring(0, 100).replace("/", ""), part);
        assertEquals(67, part.length());
    }

    @Test
    void hundredCodePointsNotHundredUtf16Units() {
        String emoji = "\uD83D\uDE00"; // 😀, one code point, two chars, four UTF-8 bytes
        String name = OutputNames.baseName(TIME, 1, "x" + emoji.repeat(200), false);
        assertTrue(name.getBytes(StandardCharsets.UTF_8).length <= OutputNames.MAX_BASE_BYTES);
        assertFalse(name.endsWith("\uD83D"), "cut inside a surrogate pair");
        assertEquals(name, new String(name.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
    }

    static Stream<String> nastyPrompts() {
        return Stream.of(
                "../../etc/passwd",
                "..\\..\\windows\\system32",
                "/",
                "",
                "   ",
                ".hidden",
                "a\u0000b\u0001c\u007fd\u009fe",
                "line\nbreak\rreturn\ttab",
                "evil\u202Egnp.exe",
                "zero\u200Bwidth\uFEFFbom",
                "lone \uD800 surrogate \uDC00",
                "CON",
                "nul.txt",
                "trailing dots...",
                "ends with space ",
                "quote\"colon:pipe|star*question?<angle>",
                "e\u0301 combining vs \u00e9 precomposed",
                "\u2028\u2029 separators",
                "日本語のプロンプト".repeat(20),
                "x".repeat(5000));
    }

    @ParameterizedTest
    @MethodSource("nastyPrompts")
    void nastyPromptsGiveSafeNamesOnBothRuleSets(String prompt) throws IOException {
        for (boolean windows : new boolean[]{false, true}) {
            String base = OutputNames.baseName(TIME, 123, prompt, windows);
            assertSafe(base, windows);
            assertTrue(base.startsWith(windows ? "2025-01-02-03_04_05_seed123_" : "2025-01-02-03:04:05_seed123_"),
                    base);
            String file = base + ".mp4";
            assertTrue(file.getBytes(StandardCharsets.UTF_8).length <= OutputNames.MAX_NAME_BYTES);
        }
        // and the file system takes it, inside the folder
        Path p = dir.resolve(OutputNames.baseName(TIME, 123, prompt, OutputNames.windowsDefault()) + "_sheet.png");
        assertEquals(dir, p.getParent());
        Files.writeString(p, "ok");
        assertTrue(Files.exists(p));
    }

    @ParameterizedTest
    @MethodSource("nastyPrompts")
    void safeFileNameAloneHandlesNastyNames(String name) {
        for (boolean windows : new boolean[]{false, true}) {
            String s = OutputNames.safeFileName(name, 64, windows);
            assertSafe(s, windows);
            assertFalse(s.isEmpty());
            assertTrue(s.getBytes(StandardCharsets.UTF_8).length <= 64);
        }
    }

    @Test
    void specificCleanups() {
        assertEquals("etcpasswd", OutputNames.safeFileName("../../etc/passwd", 100, false));
        assertEquals("_", OutputNames.safeFileName("..", 100, false));
        assertEquals("_", OutputNames.safeFileName("/", 100, false));
        assertEquals("abcde", OutputNames.safeFileName("a\u0000b\u0001c\u007fd\u009fe", 100, false));
        assertEquals("line break", OutputNames.safeFileName("line\nbreak", 100, false));
        assertEquals("evilgnp.exe", OutputNames.safeFileName("evil\u202Egnp.exe", 100, false));
        assertEquals("_CON", OutputNames.safeFileName("CON", 100, true));
        assertEquals("_nul.txt", OutputNames.safeFileName("nul.txt", 100, true));
        assertEquals("CON", OutputNames.safeFileName("CON", 100, false));
        assertEquals("trailing dots", OutputNames.safeFileName("trailing dots...", 100, true));
        assertEquals("trailing dots...", OutputNames.safeFileName("trailing dots...", 100, false));
        assertEquals("a_b_c", OutputNames.safeFileName("a:b?c", 100, true));
        assertEquals("a:b?c", OutputNames.safeFileName("a:b?c", 100, false));
        assertEquals("\u00e9", OutputNames.safeFileName("e\u0301", 100, false));
    }

    @Test
    void randomStringsAlwaysGiveSafeNames() {
        Random r = new Random(20250102);
        for (int i = 0; i < 2000; i++) {
            StringBuilder b = new StringBuilder();
            int n = r.nextInt(300);
            for (int k = 0; k < n; k++) {
                int cp = switch (r.nextInt(4)) {
                    case 0 -> r.nextInt(0x80);
                    case 1 -> r.nextInt(0x800);
                    case 2 -> r.nextInt(0x10000);
                    default -> r.nextInt(0x110000);
                };
                b.appendCodePoint(cp);
            }
            for (boolean windows : new boolean[]{false, true}) {
                String base = OutputNames.baseName(TIME, r.nextLong(), b.toString(), windows);
                assertSafe(base, windows);
                assertTrue(base.getBytes(StandardCharsets.UTF_8).length <= OutputNames.MAX_BASE_BYTES);
            }
        }
    }

    static void assertSafe(String s, boolean windows) {
        assertFalse(s.isEmpty());
        assertFalse(s.contains("/") || s.contains("\\"), s);
        assertFalse(s.startsWith(".") || s.startsWith(" "), s);
        assertFalse(s.endsWith(" "), s);
        s.codePoints().forEach(cp -> {
            int t = Character.getType(cp);
            assertFalse(t == Character.CONTROL || t == Character.FORMAT || t == Character.SURROGATE
                    || t == Character.LINE_SEPARATOR || t == Character.PARAGRAPH_SEPARATOR, () -> "U+"
                    + Integer.toHexString(cp) + " in " + s);
        });
        if (windows) {
            for (char c : "<>:\"|?*".toCharArray()) {
                assertFalse(s.indexOf(c) >= 0, s);
            }
            assertFalse(s.endsWith("."), s);
        }
    }
}
