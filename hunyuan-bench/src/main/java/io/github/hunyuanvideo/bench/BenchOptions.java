package io.github.hunyuanvideo.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --name value} command lines of the benchmark mains: parsed up front, so a typo fails before any GPU work.
 */
public final class BenchOptions {
    private final Map<String, String> values;

    private BenchOptions(Map<String, String> values) {
        this.values = values;
    }

    /**
     * Parses {@code args} as {@code --name value} pairs.
     *
     * @param known the accepted option names, with their dashes
     * @throws IllegalArgumentException for an unknown option or one without a value
     */
    public static BenchOptions parse(String[] args, String... known) {
        List<String> names = Arrays.asList(known);
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!names.contains(args[i])) {
                throw new IllegalArgumentException("unknown option " + args[i] + " (known: " + names + ")");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            values.put(args[i], args[i + 1]);
        }
        return new BenchOptions(values);
    }

    /** The value of {@code name}, or {@code fallback} if it was not given. */
    public String get(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    /** The integer value of {@code name}, or {@code fallback}. */
    public long getLong(String name, long fallback) {
        String v = values.get(name);
        try {
            return v == null ? fallback : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + name + " must be an integer, got " + v, e);
        }
    }

    /** The comma-separated numbers of {@code name}, or {@code fallback}. */
    public List<Double> getNumbers(String name, List<Double> fallback) {
        String v = values.get(name);
        try {
            return v == null ? fallback : Arrays.stream(v.split(",")).map(s -> Double.valueOf(s.trim())).toList();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + name + " must be comma-separated numbers, got " + v, e);
        }
    }
}
