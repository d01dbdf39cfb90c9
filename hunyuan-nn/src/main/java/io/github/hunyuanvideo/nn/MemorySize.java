package io.github.hunyuanvideo.nn;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Memory sizes as people type them ({@code 24G}, {@code 12GiB}, {@code 16000M}) and as this project prints them
 * ({@code 24.00 GiB}).
 *
 * <p>Every unit is binary: {@code K}, {@code KB} and {@code KiB} all mean 2<sup>10</sup> bytes, {@code M}/{@code MB}/
 * {@code MiB} 2<sup>20</sup>, {@code G}/{@code GB}/{@code GiB} 2<sup>30</sup>. GPU memory is quoted in binary units
 * (a "24 GB" card holds 24 GiB less what the driver keeps), and {@code nvidia-smi} and torch report GiB, so
 * {@code --max-gpu-memory 24GB} means the number those tools show, not 24·10<sup>9</sup> bytes.
 */
public final class MemorySize {
    /** The largest size accepted, 1 PiB: beyond any device, so a larger value is a typo. */
    public static final long MAX = 1L << 50;

    private static final long KIB = 1L << 10;
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;
    /** A decimal number (a fraction only with a unit) and an optional K/M/G unit with an optional B or iB. */
    private static final Pattern SIZE = Pattern.compile("(\\d+)(?:(\\.\\d+)?\\s*([KMG])(?:i?B)?)?",
            Pattern.CASE_INSENSITIVE);
    private static final String FORMS = "use a number with K, M or G (24G, 12GiB, 16000M)";

    private MemorySize() {
    }

    /**
     * Parses a size: digits, optionally with a fraction, then K, M or G, each optionally followed by {@code B} or
     * {@code iB} (case-insensitive, a space allowed before the unit: {@code 24G}, {@code 24 GB}, {@code 12GiB},
     * {@code 1.5g}, {@code 16000M}, {@code 8192K}); plain digits count bytes ({@code 1073741824}). A fraction of a
     * byte is dropped ({@code 0.3K} is 307 bytes).
     *
     * @param option the option the text came from, first in every error message
     * @param text   the size
     * @return the size in bytes, at least 1 and at most {@link #MAX}
     * @throws IllegalArgumentException starting with {@code option:} and giving the accepted forms, for anything
     *                                  else: empty, signed, zero, a unit without a number, exponents, NaN, or more
     *                                  than 1 PiB
     */
    public static long parse(String option, String text) {
        if (text == null) {
            throw bad(option, "no size given");
        }
        String t = text.strip();
        Matcher m = SIZE.matcher(t);
        if (!m.matches()) {
            boolean negative = t.startsWith("-") && SIZE.matcher(t.substring(1)).matches();
            throw bad(option, "'" + text + "' is " + (negative ? "negative" : "not a size"));
        }
        long unit = m.group(3) == null ? 1 : switch (m.group(3).toUpperCase(Locale.ROOT)) {
            case "K" -> KIB;
            case "M" -> MIB;
            default -> GIB;
        };
        String number = m.group(2) == null ? m.group(1) : m.group(1) + m.group(2);
        BigDecimal bytes = new BigDecimal(number).multiply(BigDecimal.valueOf(unit)).setScale(0, RoundingMode.DOWN);
        if (bytes.signum() == 0) {
            throw bad(option, "'" + text + "' is " + (new BigDecimal(number).signum() == 0 ? "zero"
                    : "less than one byte"));
        }
        if (bytes.compareTo(BigDecimal.valueOf(MAX)) > 0) {
            throw bad(option, "'" + text + "' is more than 1 PiB");
        }
        return bytes.longValueExact();
    }

    /**
     * {@code bytes} for people, with two decimals in the largest binary unit that keeps the number at least 1:
     * {@code 24.00 GiB}, {@code 512.00 MiB}, {@code 8.00 KiB}, {@code 100 B}; negative values (differences) keep
     * their sign.
     */
    public static String format(long bytes) {
        double magnitude = Math.abs((double) bytes);
        if (magnitude < KIB) {
            return bytes + " B";
        }
        long unit = magnitude < MIB ? KIB : magnitude < GIB ? MIB : GIB;
        String name = unit == KIB ? "KiB" : unit == MIB ? "MiB" : "GiB";
        return String.format(Locale.ROOT, "%.2f %s", bytes / (double) unit, name);
    }

    private static IllegalArgumentException bad(String option, String why) {
        return new IllegalArgumentException(option + ": " + why + "; " + FORMS);
    }
}
