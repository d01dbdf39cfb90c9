package io.github.hunyuanvideo.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchOptionsTest {
    @Test
    void readsGivenValuesAndFallsBackForTheRest() {
        BenchOptions o = BenchOptions.parse(new String[]{"--reps", "7", "--kv", "0.5, 0.25"}, "--reps", "--kv",
                "--device");
        assertEquals(7, o.getLong("--reps", 1));
        assertEquals(List.of(0.5, 0.25), o.getNumbers("--kv", List.of()));
        assertEquals("cuda", o.get("--device", "cuda"));
    }

    @Test
    void rejectsUnknownOptionsMissingValuesAndBadNumbers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchOptions.parse(new String[]{"--rep", "7"}, "--reps"));
        assertTrue(e.getMessage().contains("--rep"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse(new String[]{"--reps"}, "--reps"));
        assertTrue(e.getMessage().contains("needs a value"), e.getMessage());
        BenchOptions o = BenchOptions.parse(new String[]{"--reps", "x"}, "--reps");
        e = assertThrows(IllegalArgumentException.class, () -> o.getLong("--reps", 1));
        assertTrue(e.getMessage().contains("--reps"), e.getMessage());
    }
}
