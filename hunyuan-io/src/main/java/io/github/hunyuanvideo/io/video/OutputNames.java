package io.github.hunyuanvideo.io.video;

import java.io.File;
import java.nio.file.Path;
import java.text.Normalizer;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Set;

/**
 * File names of saved videos: the original's {@code {time_flag}_seed{seed}_{prompt[:100] without '/'}.mp4}
 * (the original's {@code sample_video.py}), made safe for any prompt, in one of two {@link Style}s:
 * <ul>
 *   <li>{@link Style#PORTABLE} (the default): {@code 2026-12-02T13-40-43_seed42_A_cat_walks.mp4}, an ISO date with
 *       {@code '-'} for {@code ':'}, every run of whitespace in the prompt one {@code '_'}, and the Windows rules below
 *       on every platform, so the name is valid on every common file system and needs no quoting in a shell;</li>
 *   <li>{@link Style#ORIGINAL}: the original's {@code 2026-12-02-13:40:43_seed42_A cat walks.mp4}, spaces kept, the
 *       Windows rules only on Windows.</li>
 * </ul>
 *
 * <p>Beyond the original's removal of {@code '/'}, {@link #safeFileName} guarantees a name that stays inside its
 * folder and that every common file system accepts:
 * <ul>
 *   <li>no path separator: {@code '/'} and {@code '\'} are removed;</li>
 *   <li>no control character: tab, newline and the other whitespace controls and line/paragraph separators become a
 *       space; NUL, the other C0/C1 controls, DEL, format characters (bidirectional overrides that could disguise the
 *       extension, zero-width characters, BOM) and unpaired surrogates are removed;</li>
 *   <li>no leading dot or space (no hidden file, no {@code .}/{@code ..}), no trailing space;</li>
 *   <li>at most {@code maxBytes} bytes of UTF-8, cut at a code point boundary;</li>
 *   <li>Unicode NFC, so the same prompt gives the same bytes on every platform;</li>
 *   <li>with {@code windowsSafe} (the default on Windows) also none of {@code < > : " | ? *} (replaced by
 *       {@code _}), no trailing dot, and no reserved device name ({@code CON}, {@code NUL}, {@code COM1}, ...; they
 *       get a {@code _} prefix). The time flag's colons then become {@code _} too.</li>
 * </ul>
 * {@link #baseName} keeps names to {@link #MAX_BASE_BYTES} so that with any of the suffixes used beside a video
 * (at most {@link #MAX_SUFFIX_BYTES}: a {@link #numbered} suffix up to {@code _}{@value #MAX_NUMBER} and one of
 * {@code .mp4}, {@link #SHEET}, {@link #GRID}, {@link #FRAMES}) a file name stays within {@link #MAX_NAME_BYTES}
 * bytes, below the 255-byte limit of ext4, APFS and NTFS.
 */
public final class OutputNames {
    /** Upper bound of a complete file name in UTF-8 bytes. */
    public static final int MAX_NAME_BYTES = 200;
    /** Room kept for suffixes appended to a base name. */
    public static final int MAX_SUFFIX_BYTES = 16;
    /** Upper bound of {@link #baseName} in UTF-8 bytes. */
    public static final int MAX_BASE_BYTES = MAX_NAME_BYTES - MAX_SUFFIX_BYTES;
    /** Characters of the prompt the original keeps. */
    public static final int PROMPT_CHARS = 100;
    /** The original's {@code %Y-%m-%d-%H:%M:%S}. */
    public static final DateTimeFormatter TIME_FLAG = DateTimeFormatter.ofPattern("yyyy-MM-dd-HH:mm:ss", Locale.ROOT);
    /** The time flag of {@link Style#PORTABLE} names: ISO 8601 with {@code '-'} for {@code ':'}. */
    public static final DateTimeFormatter PORTABLE_TIME_FLAG = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm-ss",
            Locale.ROOT);
    /** Highest number {@link #numbered} gives. */
    public static final int MAX_NUMBER = 9999;
    /** Suffix of a video's contact sheet, in place of {@code .mp4}. */
    public static final String SHEET = "_sheet.png";
    /** Suffix of a video's frames folder, in place of {@code .mp4}. */
    public static final String FRAMES = "_frames";
    /** Suffix of the grid of several videos, in place of the first video's {@code .mp4}. */
    public static final String GRID = "_grid.mp4";

    /** How {@link #baseName(LocalDateTime, long, String, Style)} spells a name. */
    public enum Style {
        /** ISO date without colons, {@code '_'} for whitespace, valid on every common file system. */
        PORTABLE,
        /** The original's: {@link #TIME_FLAG}, spaces kept, Windows rules only on Windows. */
        ORIGINAL
    }

    private static final Set<String> WINDOWS_RESERVED = Set.of("CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3",
            "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7",
            "LPT8", "LPT9", "CONIN$", "CONOUT$");
    private static final String WINDOWS_FORBIDDEN = "<>:\"|?*";

    private OutputNames() {
    }

    /** Whether names default to the Windows rules (the platform's separator is a backslash). */
    public static boolean windowsDefault() {
        return File.separatorChar == '\\';
    }

    /** The {@link Style#PORTABLE} name: {@link #baseName(LocalDateTime, long, String, Style)}. */
    public static String baseName(LocalDateTime time, long seed, String prompt) {
        return baseName(time, seed, prompt, Style.PORTABLE);
    }

    /**
     * The name of video files without extension, {@code {time_flag}_seed{seed}_{prompt part}}, in {@code style}:
     * {@link #portableBaseName} or {@link #originalBaseName} with the platform's rules.
     */
    public static String baseName(LocalDateTime time, long seed, String prompt, Style style) {
        return switch (style) {
            case PORTABLE -> portableBaseName(time, seed, prompt);
            case ORIGINAL -> originalBaseName(time, seed, prompt, windowsDefault());
        };
    }

    /**
     * {@code {PORTABLE_TIME_FLAG}_seed{seed}_{prompt part}}: the prompt part is the first {@value #PROMPT_CHARS} code
     * points of {@code prompt} with {@code '/'} removed, whitespace at its ends dropped and every other run of
     * whitespace (control characters such as tab and newline included) replaced by one {@code '_'}; the whole name
     * made safe by {@link #safeFileName} with the Windows rules and cut to at most {@link #MAX_BASE_BYTES} bytes.
     */
    public static String portableBaseName(LocalDateTime time, long seed, String prompt) {
        return safeFileName(PORTABLE_TIME_FLAG.format(time) + "_seed" + seed + "_"
                + underscoreSpaces(clean(promptHead(prompt), true)), MAX_BASE_BYTES, true);
    }

    /**
     * The original's {@code {TIME_FLAG}_seed{seed}_{prompt part}}: the prompt part is the first
     * {@value #PROMPT_CHARS} code points of {@code prompt} with {@code '/'} removed (as the original); the whole name
     * made safe by {@link #safeFileName} and cut so it has at most {@link #MAX_BASE_BYTES} bytes.
     */
    public static String originalBaseName(LocalDateTime time, long seed, String prompt, boolean windowsSafe) {
        return safeFileName(TIME_FLAG.format(time) + "_seed" + seed + "_" + promptHead(prompt), MAX_BASE_BYTES,
                windowsSafe);
    }

    /** The first {@value #PROMPT_CHARS} code points of {@code prompt} without {@code '/'}, as the original. */
    private static String promptHead(String prompt) {
        String head = prompt.codePointCount(0, prompt.length()) > PROMPT_CHARS
                ? prompt.substring(0, prompt.offsetByCodePoints(0, PROMPT_CHARS)) : prompt;
        return head.replace("/", "");
    }

    /** Drops whitespace at the ends of {@code s} and replaces each inner run of it by one {@code '_'}. */
    private static String underscoreSpaces(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean gap = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
                gap = b.length() > 0;
            } else {
                if (gap) {
                    b.append('_');
                    gap = false;
                }
                b.appendCodePoint(cp);
            }
        }
        return b.toString();
    }

    /** The {@link Style#PORTABLE} {@link #baseName} plus {@code .mp4}. */
    public static String videoFileName(LocalDateTime time, long seed, String prompt) {
        return baseName(time, seed, prompt) + ".mp4";
    }

    /**
     * {@code fileName} with number {@code n}: unchanged for 0, else with {@code _n} before the extension (the part from
     * the last {@code '.'}; at the end when there is none): {@code a.mp4}, {@code a_1.mp4}, {@code a_2.mp4}, ...
     *
     * @throws IllegalArgumentException if {@code n} is outside 0..{@value #MAX_NUMBER}
     */
    public static String numbered(String fileName, int n) {
        if (n < 0 || n > MAX_NUMBER) {
            throw new IllegalArgumentException("n must be in 0.." + MAX_NUMBER + ", got " + n);
        }
        if (n == 0) {
            return fileName;
        }
        int dot = fileName.lastIndexOf('.');
        return dot <= 0 ? fileName + "_" + n : fileName.substring(0, dot) + "_" + n + fileName.substring(dot);
    }

    /**
     * The file beside {@code file} that belongs to it: its name with the extension replaced by {@code suffix}, e.g.
     * {@code a_1.mp4} and {@link #SHEET} give {@code a_1_sheet.png}.
     */
    public static Path companion(Path file, String suffix) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return file.resolveSibling((dot <= 0 ? name : name.substring(0, dot)) + suffix);
    }

    /**
     * Turns any string into one safe file name of at most {@code maxBytes} UTF-8 bytes (rules in the class comment);
     * never empty: a name with nothing left becomes {@code "_"}.
     *
     * @throws IllegalArgumentException if {@code maxBytes} is below 8 (too small for a reserved-name prefix and a
     *                                  4-byte character)
     */
    public static String safeFileName(String name, int maxBytes, boolean windowsSafe) {
        if (maxBytes < 8) {
            throw new IllegalArgumentException("maxBytes must be >= 8, got " + maxBytes);
        }
        String s = Normalizer.normalize(clean(name, windowsSafe), Normalizer.Form.NFC);
        s = stripEnds(s, windowsSafe);
        if (windowsSafe) {
            int dot = s.indexOf('.');
            String stem = (dot < 0 ? s : s.substring(0, dot)).stripTrailing().toUpperCase(Locale.ROOT);
            if (WINDOWS_RESERVED.contains(stem)) {
                s = "_" + s;
            }
        }
        s = stripEnds(truncateUtf8(s, maxBytes), windowsSafe);
        return s.isEmpty() ? "_" : s;
    }

    private static String clean(String s, boolean windowsSafe) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            int type = Character.getType(cp);
            if (cp == '/' || cp == '\\') {
                continue;
            }
            if (cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x0B || cp == '\f' || cp == 0x85
                    || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR) {
                b.append(' ');
            } else if (type == Character.CONTROL || type == Character.FORMAT || type == Character.SURROGATE) {
                continue;
            } else if (windowsSafe && WINDOWS_FORBIDDEN.indexOf(cp) >= 0) {
                b.append('_');
            } else {
                b.appendCodePoint(cp);
            }
        }
        return b.toString();
    }

    private static String stripEnds(String s, boolean windowsSafe) {
        int start = 0;
        while (start < s.length() && (s.charAt(start) == '.' || Character.isWhitespace(s.charAt(start))
                || Character.isSpaceChar(s.charAt(start)))) {
            start++;
        }
        int end = s.length();
        while (end > start && (Character.isWhitespace(s.charAt(end - 1)) || Character.isSpaceChar(s.charAt(end - 1))
                || (windowsSafe && s.charAt(end - 1) == '.'))) {
            end--;
        }
        return s.substring(start, end);
    }

    /** The longest prefix of {@code s} of at most {@code maxBytes} UTF-8 bytes that ends on a code point boundary. */
    static String truncateUtf8(String s, int maxBytes) {
        int bytes = 0;
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + n > maxBytes) {
                break;
            }
            bytes += n;
            i += Character.charCount(cp);
        }
        return s.substring(0, i);
    }
}
