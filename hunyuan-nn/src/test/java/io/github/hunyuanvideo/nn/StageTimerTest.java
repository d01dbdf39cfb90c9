package io.github.hunyuanvideo.nn;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StageTimerTest {
    @Test
    void lapsSumPerStageInOrderOfFirstAppearance() throws InterruptedException {
        Map<String, Double> totals;
        try (StageTimer timer = StageTimer.start(false)) {
            Thread.sleep(20);
            StageTimer.lap("b");
            Thread.sleep(5);
            StageTimer.lap("a");
            Thread.sleep(20);
            StageTimer.lap("b");
            totals = timer.totals();
        }
        assertEquals(List.of("b", "a"), List.copyOf(totals.keySet()));
        assertTrue(totals.get("b") >= 40 && totals.get("b") < 40 + 2000, totals.toString());
        assertTrue(totals.get("a") >= 5 && totals.get("a") < totals.get("b"), totals.toString());
    }

    @Test
    void lapWithoutATimerDoesNothingAndTimersDoNotNest() {
        StageTimer.lap("nobody listens");
        try (StageTimer timer = StageTimer.start(false)) {
            assertThrows(IllegalStateException.class, () -> StageTimer.start(false));
            assertTrue(timer.totals().isEmpty());
        }
        try (StageTimer again = StageTimer.start(false)) {
            StageTimer.lap("x");
            assertEquals(List.of("x"), List.copyOf(again.totals().keySet()));
        }
    }
}
