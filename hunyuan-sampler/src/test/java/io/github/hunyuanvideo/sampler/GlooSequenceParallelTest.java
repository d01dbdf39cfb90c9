package io.github.hunyuanvideo.sampler;

import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sequence-parallel DiT and pipeline across real processes, one JVM per rank joined by the Gloo communicator
 * ({@link ParallelWorker}): with 2, 3 and 4 ranks every rank's DiT velocity and final latents, and rank 0's video,
 * equal the one-rank results within 1e-5 relative; the other ranks get no video. Under true CFG 2 and 4 ranks split
 * in two halves (CFG parallelism; with 4, two ranks share each branch by sequence parallelism), 3 do not.
 */
class GlooSequenceParallelTest {
    private static final double TOL = 1e-5;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} processes")
    @ValueSource(ints = {2, 3, 4})
    void processesMatchTheOneRankResults(int world) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> ranks = new ArrayList<>();
        try {
            for (int r = 0; r < world; r++) {
                ranks.add(new ProcessBuilder(java, "-Xmx1g",
                        "-Dhunyuan.reference.dir=" + ReferenceCase.dir().toAbsolutePath(),
                        "-cp", System.getProperty("java.class.path"), ParallelWorker.class.getName(),
                        String.valueOf(r), String.valueOf(world), dir.resolve("store").toString())
                        .redirectErrorStream(true).redirectOutput(dir.resolve("rank" + r + ".log").toFile()).start());
            }
            for (int r = 0; r < world; r++) {
                assertTrue(ranks.get(r).waitFor(400, TimeUnit.SECONDS), "rank " + r + " did not finish: " + log(r));
                assertEquals(0, ranks.get(r).exitValue(), "rank " + r + ": " + log(r));
                Map<String, String> checks = checks(log(r));
                assertTrue(checks.containsKey("done"), log(r));
                Set<String> errors = world == 2 ? Set.of("dit", "cfg.latents", "golden.latents")
                        : Set.of("dit", "cfg.latents");
                for (String name : errors) {
                    assertTrue(Double.parseDouble(checks.get(name)) < TOL, "rank " + r + " " + name + ": " + log(r));
                }
                for (String video : world == 2 ? List.of("cfg.video", "golden.video") : List.of("cfg.video")) {
                    if (r == 0) {
                        assertTrue(Double.parseDouble(checks.get(video)) < TOL, video + ": " + log(r));
                    } else {
                        assertEquals("none", checks.get(video), "rank " + r + " " + video);
                    }
                }
            }
        } finally {
            ranks.forEach(Process::destroyForcibly);
        }
    }

    private String log(int rank) throws IOException {
        return Files.readString(dir.resolve("rank" + rank + ".log"), StandardCharsets.UTF_8);
    }

    /** The worker's {@code name value} lines ({@code done} maps to the empty string). */
    private static Map<String, String> checks(String log) {
        Map<String, String> out = new HashMap<>();
        log.lines().map(l -> l.split(" ", 2)).filter(p -> p.length == 2 || p[0].equals("done"))
                .forEach(p -> out.put(p[0], p.length == 2 ? p[1] : ""));
        return out;
    }
}
