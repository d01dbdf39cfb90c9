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
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OutputNamesTest {
    static final LocalDateTime TIME = LocalDateTime.of(2025, 1, 2, 3, 4, 5);

    @TempDir
    Path dir;

    @Test
    void ordinaryPromptGivesTheOriginalName() {
        assertEquals("2025-01-02-03:04:05_seed42_A cat walks on the grass, realistic style.",
                OutputNames.originalBaseName(TIME, 42, "A cat walks on the grass, realistic style.", false));
        assertEquals(OutputNames.originalBaseName(TIME, 42, "a cat", OutputNames.windowsDefault()),
                OutputNames.baseName(TIME, 42, "a cat", OutputNames.Style.ORIGINAL));
    }

    @Test
    void portableNamesAreTheDefault() {
        // the Windows rules drop the trailing dot (no "style..mp4")
        assertEquals("2025-01-02T03-04-05_seed42_A_cat_walks_on_the_grass,_realistic_style",
                OutputNames.baseName(TIME, 42, "A cat walks on the grass, realistic style."));
        assertEquals(OutputNames.portableBaseName(TIME, 42, "a cat"),
                OutputNames.baseName(TIME, 42, "a cat", OutputNames.Style.PORTABLE));
    }

    @Test
    void portableNamesTurnEachRunOfWhitespaceIntoOneUnderscore() {
        String head = "2025-01-02T03-04-05_seed7_";
        assertEquals(head + "a_cat_on_a_mat", OutputNames.portableBaseName(TIME, 7, "a cat / on a mat"));
        assertEquals(head + "tab_and_newline", OutputNames.portableBaseName(TIME, 7, "  tab\tand\r\nnewline \u3000"));
        assertEquals(head + "no_break_space", OutputNames.portableBaseName(TIME, 7, "no\u00a0break\u2028space"));
        assertEquals(head + "a_b_c_d", OutputNames.portableBaseName(TIME, 7, "a:b?c d"));
        assertEquals("2025-01-02T03-04-05_seed-3_", OutputNames.portableBaseName(TIME, -3, "   "));
    }

    @Test
    void videoFileNameAddsTheExtensionToThePortableName() {
        assertEquals("2025-01-02T03-04-05_seed3_ab.mp4", OutputNames.videoFileName(TIME, 3, "a/b"));
    }

    @Test
    void numberedNamesPutTheNumberBeforeTheExtension() {
        assertEquals("a.mp4", OutputNames.numbered("a.mp4", 0));
        assertEquals("a_1.mp4", OutputNames.numbered("a.mp4", 1));
        assertEquals("x. y_12_sheet_3.png", OutputNames.numbered("x. y_12_sheet.png", 3));
        assertEquals("frames_2", OutputNames.numbered("frames", 2));
        assertThrows(IllegalArgumentException.class, () -> OutputNames.numbered("a.mp4", -1));
        assertThrows(IllegalArgumentException.class, () -> OutputNames.numbered("a.mp4", OutputNames.MAX_NUMBER + 1));
        assertEquals(Path.of("d", "a_1_sheet.png"), OutputNames.companion(Path.of("d", "a_1.mp4"), OutputNames.SHEET));
        assertEquals(Path.of("d", "a.b_frames"), OutputNames.companion(Path.of("d", "a.b.mp4"), OutputNames.FRAMES));
    }

    @Test
    void suffixRoomHoldsTheLargestNumberAndEveryCompanion() {
        for (String suffix : List.of(".mp4", OutputNames.SHEET, OutputNames.FRAMES, OutputNames.GRID)) {
            String numbered = OutputNames.numbered("x" + suffix, OutputNames.MAX_NUMBER).substring(1);
            assertTrue(numbered.getBytes(StandardCharsets.UTF_8).length <= OutputNames.MAX_SUFFIX_BYTES, numbered);
        }
    }

    @Test
    void promptIsCutAtOneHundredCharactersBeforeSlashesAreRemoved() {
        String prompt = "a/b".repeat(40); // 120 chars; the first 100 are 33 × "a/b" + "a", 33 slashes
        String part = OutputNames.originalBaseName(TIME, 7, prompt, false)
                .substring("2025-01-02-03:04:05_seed7_".length());
        assertEquals(prompt.substring(0, 100).replace("/", ""), part);
        assertEquals(67, part.length());
        assertEquals(part, OutputNames.portableBaseName(TIME, 7, prompt).substring("2025-01-02T03-04-05_seed7_"
                .length()));
    }

    @Test
    void hundredCodePointsNotHundredUtf16Units() {
        String emoji = "\uD83D\uDE00"; // 😀, one code point, two chars, four UTF-8 bytes
        for (String name : List.of(OutputNames.originalBaseName(TIME, 1, "x" + emoji.repeat(200), false),
                OutputNames.portableBaseName(TIME, 1, "x" + emoji.repeat(200)))) {
            assertTrue(name.getBytes(StandardCharsets.UTF_8).length <= OutputNames.MAX_BASE_BYTES);
            assertFalse(name.endsWith("\uD83D"), "cut inside a surrogate pair");
            assertEquals(name, new String(name.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
        }
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
            String base = OutputNames.originalBaseName(TIME, 123, prompt, windows);
            assertSafe(base, windows);
            assertTrue(base.startsWith(windows ? "2025-01-02-03_04_05_seed123_" : "2025-01-02-03:04:05_seed123_"),
                    base);
            String file = base + ".mp4";
            assertTrue(file.getBytes(StandardCharsets.UTF_8).length <= OutputNames.MAX_NAME_BYTES);
        }
        String portable = OutputNames.portableBaseName(TIME, 123, prompt);
        assertPortable(portable);
        assertTrue(portable.startsWith("2025-01-02T03-04-05_seed123_"), portable);
        // and the file system takes both, inside the folder
        for (OutputNames.Style style : OutputNames.Style.values()) {
            Path p = dir.resolve(OutputNames.baseName(TIME, 123, prompt, style) + "_sheet.png");
            assertEquals(dir, p.getParent());
            Files.writeString(p, "ok");
            assertTrue(Files.exists(p));
        }
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
                String base = OutputNames.originalBaseName(TIME, r.nextLong(), b.toString(), windows);
                assertSafe(base, windows);
                assertTrue(base.getBytes(StandardCharsets.UTF_8).length <= OutputNames.MAX_BASE_BYTES);
            }
            String portable = OutputNames.portableBaseName(TIME, r.nextLong(), b.toString());
            assertPortable(portable);
            assertTrue(portable.getBytes(StandardCharsets.UTF_8).length <= OutputNames.MAX_BASE_BYTES);
        }
    }

    /** Safe on every platform's rules, no whitespace of any kind, and the portable time flag in front. */
    static void assertPortable(String s) {
        assertSafe(s, true);
        s.codePoints().forEach(cp -> assertFalse(Character.isWhitespace(cp) || Character.isSpaceChar(cp),
                () -> "U+" + Integer.toHexString(cp) + " in " + s));
        assertTrue(s.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d_seed-?\\d+_.*"), s);
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
