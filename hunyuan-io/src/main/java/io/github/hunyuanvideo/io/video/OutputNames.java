package io.github.hunyuanvideo.io.video;

import java.io.File;
import java.text.Normalizer;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Set;

/**
 * File names of saved videos: the original's {@code {time_flag}_seed{seed}_{prompt[:100] without '/'}.mp4}
 * (the original's {@code sample_video.py}), made safe for any prompt.
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
 * (at most {@link #MAX_SUFFIX_BYTES}, e.g. {@code .mp4}, {@code _sheet.png}) a file name stays within
 * {@link #MAX_NAME_BYTES} bytes, below the 255-byte limit of ext4, APFS and NTFS.
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

    /** {@link #baseName(LocalDateTime, long, String, boolean)} with the platform's rules. */
    public static String baseName(LocalDateTime time, long seed, String prompt) {
        return baseName(time, seed, prompt, windowsDefault());
    }

    /**
     * The name of video files without extension: {@code {time_flag}_seed{seed}_{prompt part}}, where the prompt part is
     * the first {@value #PROMPT_CHARS} code points of {@code prompt} with {@code '/'} removed (as the original), made
     * safe by {@link #safeFileName} and cut so the whole name has at most {@link #MAX_BASE_BYTES} bytes.
     */
    public static String baseName(LocalDateTime time, long seed, String prompt, boolean windowsSafe) {
        String head = prompt.codePointCount(0, prompt.length()) > PROMPT_CHARS
                ? prompt.substring(0, prompt.offsetByCodePoints(0, PROMPT_CHARS)) : prompt;
        return safeFileName(TIME_FLAG.format(time) + "_seed" + seed + "_" + head.replace("/", ""), MAX_BASE_BYTES,
                windowsSafe);
    }

    /** {@link #baseName} plus {@code .mp4}. */
    public static String videoFileName(LocalDateTime time, long seed, String prompt) {
        return baseName(time, seed, prompt) + ".mp4";
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
