package io.github.hunyuanvideo.sampler.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlowMatchDiscreteSchedulerTest {
    private static final double EXACT = 1e-6;

    @Test
    void schedulesMatchTheOfficialForEverySetting() {
        try (ReferenceCase c = ReferenceCase.load("scheduler"); PointerScope scope = new PointerScope()) {
            JsonNode schedules = c.json().get("schedules");
            assertTrue(schedules.size() > 0, "no schedules in scheduler.json");
            for (JsonNode s : schedules) {
                FlowMatchDiscreteScheduler sch = new FlowMatchDiscreteScheduler(1000, s.get("shift").asDouble(),
                        s.get("reverse").asBoolean(), FlowMatchDiscreteScheduler.EULER);
                sch.setTimesteps(s.get("num_inference_steps").asInt());
                String what = "steps=" + s.get("num_inference_steps") + " shift=" + s.get("shift") + " reverse="
                        + s.get("reverse");
                assertArray(what + " sigmas", s.get("sigmas"), sch.sigmas());
                assertArray(what + " timesteps", s.get("timesteps"), sch.timesteps());
            }
        }
    }

    @Test
    void twoEulerStepsMatchTheOfficial() {
        try (ReferenceCase c = ReferenceCase.load("scheduler_step"); PointerScope scope = new PointerScope()) {
            JsonNode cfg = c.config();
            FlowMatchDiscreteScheduler sch = new FlowMatchDiscreteScheduler(1000, cfg.get("shift").asDouble(),
                    cfg.get("reverse").asBoolean(), cfg.get("solver").asText());
            sch.setTimesteps(cfg.get("num_inference_steps").asInt());
            c.assertClose("out.sigmas", Tensors.fromFloats(sch.sigmas(), sch.sigmas().length), EXACT);
            c.assertClose("out.timesteps", Tensors.fromFloats(sch.timesteps(), sch.timesteps().length), EXACT);
            JsonNode dt = c.json().get("dt");
            for (int i = 0; i < dt.size(); i++) {
                assertEquals((float) dt.get(i).asDouble(), sch.dt(i), "dt[" + i + "]");
            }

            float t0 = c.tensor("in.timestep_0").item_float();
            Tensor prev0 = sch.step(c.tensor("in.model_output_0"), t0, c.tensor("in.sample"));
            assertEquals(1, sch.stepIndex());
            c.assertClose("out.prev_sample_0", prev0, EXACT);
            float t1 = c.tensor("in.timestep_1").item_float();
            Tensor prev1 = sch.step(c.tensor("in.model_output_1"), t1, prev0);
            assertEquals(2, sch.stepIndex());
            c.assertClose("out.prev_sample_1", prev1, EXACT);
        }
    }

    @Test
    void rejectsBadSettingsNamingTheOption() {
        assertMessage("flowShift", () -> new FlowMatchDiscreteScheduler(1000, 0, true, "euler"));
        assertMessage("flowShift", () -> new FlowMatchDiscreteScheduler(1000, Double.NaN, true, "euler"));
        assertMessage("flowSolver", () -> new FlowMatchDiscreteScheduler(1000, 7, true, "heun"));
        assertMessage("inferSteps", () -> FlowMatchDiscreteScheduler.of(7).setTimesteps(0));
        FlowMatchDiscreteScheduler s = FlowMatchDiscreteScheduler.of(7);
        assertThrows(IllegalStateException.class, s::sigmas);
    }

    @Test
    void defaultDirectionRunsFromOneToZero() {
        FlowMatchDiscreteScheduler s = FlowMatchDiscreteScheduler.of(7.0);
        assertTrue(s.reverse());
        s.setTimesteps(3);
        float[] sig = s.sigmas();
        assertEquals(1.0f, sig[0]);
        assertEquals(0.0f, sig[sig.length - 1]);
    }

    private static void assertMessage(String name, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(name), ex.getMessage());
    }

    private static void assertArray(String what, JsonNode expected, float[] actual) {
        assertEquals(expected.size(), actual.length, what + " length");
        for (int i = 0; i < actual.length; i++) {
            double e = expected.get(i).asDouble();
            assertTrue(Math.abs(actual[i] - e) <= EXACT * Math.max(1.0, Math.abs(e)),
                    what + "[" + i + "]: " + actual[i] + " vs " + e);
        }
    }
}
