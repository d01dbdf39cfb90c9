package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.nn.parallel.Rendezvous;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The options of several ranks: what they resolve to, each invalid combination refused at once (exit 2, one line
 * naming the option, nothing started), torchrun's variables as defaults, and the command line of a worker.
 */
class ParallelOptionsTest {
    @TempDir
    Path tmp;

    static Stream<Arguments> invalid() {
        String file = " --rendezvous-file /tmp/hunyuan-video-test-never-created";
        return Stream.of(
                bad("--gpus", "--gpus 0"),
                bad("--gpus", "--gpus -2"),
                bad("--gpus", "--gpus 2 --rank 0"),
                bad("--gpus", "--gpus 2 --world-size 2"),
                bad("--gpus", "--gpus 2 --master-port 29500"),
                bad("--gpus", "--gpus 2 --rendezvous-file x"),
                bad("--gpus", "--gpus 2 --device cuda"),  // no CUDA here: 0 GPUs visible
                bad("--world-size", "--world-size 0"),
                bad("--rank", "--world-size 2" + file),
                bad("--rank", "--rank 2 --world-size 2" + file),
                bad("--rank", "--rank -1 --world-size 2" + file),
                bad("--rank", "--rank 1"),
                bad("--master-addr", "--rank 0 --world-size 2"),
                bad("--master-port", "--rank 0 --world-size 2 --master-addr localhost"),
                bad("--master-port", "--rank 0 --world-size 2 --master-addr localhost --master-port 65536"),
                bad("--master-port", "--rank 0 --world-size 2 --master-addr localhost --master-port 0"),
                bad("--rendezvous-file", "--rank 0 --world-size 2 --master-addr localhost" + file),
                bad("--local-rank", "--rank 0 --world-size 2 --local-rank -1" + file),
                bad("--local-rank", "--rank 1 --world-size 2 --device cuda" + file),
                bad("--device", "--rank 1 --world-size 2 --device cuda:1" + file),
                bad("--collective-timeout", "--collective-timeout 0"),
                bad("--gpus", "--gpus two"));
    }

    static Arguments bad(String flag, String args) {
        return Arguments.of(flag, args);
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("invalid")
    void eachInvalidCombinationGivesOneLineNamingTheOption(String flag, String args) {
        List<String> all = new ArrayList<>(Arrays.asList(args.split(" ")));
        all.addAll(List.of("--prompt", "a cat", "--save-path", tmp.resolve("out").toString()));
        HunyuanVideoCliTest.Run r = HunyuanVideoCliTest.run(all.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("'" + flag + "'"), r.err());
        assertEquals("", r.out());
        assertFalse(Files.exists(tmp.resolve("out")), "refused before anything is made");
    }

    static ParallelOptions parse(String... args) {
        HunyuanVideoCli cli = new HunyuanVideoCli();
        HunyuanVideoCli.commandLine(cli).parseArgs(args);
        return cli.parallel;
    }

    static ParallelOptions.Plan plan(String... args) {
        HunyuanVideoCli cli = new HunyuanVideoCli();
        CommandLine cl = HunyuanVideoCli.commandLine(cli);
        cl.parseArgs(args);
        return cli.parallel.plan(cl);
    }

    @Test
    void oneProcessByDefault() {
        ParallelOptions.Plan p = plan();
        assertEquals(new ParallelOptions.Plan(0, 1, 0, false, null), p);
        assertEquals(Duration.ofMinutes(5), parse().timeout());
    }

    @Test
    void gpusLaunchesFromRankZeroAndMakesItsOwnRendezvous() {
        assertEquals(new ParallelOptions.Plan(0, 4, 0, true, null), plan("--gpus", "4"));
        assertEquals(new ParallelOptions.Plan(0, 1, 0, false, null), plan("--gpus", "1"));
    }

    @Test
    void aRankStartedByAnotherToolMeetsAtTheMasterOrAFile() {
        ParallelOptions.Plan tcp = plan("--rank", "2", "--world-size", "3", "--master-addr", "node0",
                "--master-port", "29500", "--local-rank", "0", "--collective-timeout", "30");
        assertEquals(new ParallelOptions.Plan(2, 3, 0, false,
                Rendezvous.tcp("node0", 29500, 2, 3).withTimeout(Duration.ofSeconds(30))), tcp);
        ParallelOptions.Plan file = plan("--rank", "1", "--world-size", "2", "--rendezvous-file", "/x/r");
        assertEquals(1, file.localRank(), "the local rank defaults to the rank");
        assertEquals(Path.of("/x/r"), file.rendezvous().file());
    }

    @Test
    void eachRankTakesTheCudaDeviceOfItsLocalRank() {
        HunyuanVideoCli cli = new HunyuanVideoCli();
        CommandLine cl = HunyuanVideoCli.commandLine(cli);
        cl.parseArgs("--rank", "1", "--world-size", "4", "--local-rank", "3", "--rendezvous-file", "/x/r");
        ParallelOptions.Plan p = cli.parallel.plan(cl);
        assertEquals("cuda:3", cli.parallel.rankDevice(cl, p, "auto", 4));
        assertEquals("cuda:3", cli.parallel.rankDevice(cl, p, "cuda", 4));
        assertEquals("cpu", cli.parallel.rankDevice(cl, p, "auto", 0), "no CUDA: the ranks run on the CPU");
        assertEquals("cpu", cli.parallel.rankDevice(cl, p, "cpu", 4));
        assertThrows(CommandLine.ParameterException.class, () -> cli.parallel.rankDevice(cl, p, "cuda", 3));
        ParallelOptions.Plan alone = new ParallelOptions.Plan(0, 1, 0, false, null);
        assertEquals("cuda:1", cli.parallel.rankDevice(cl, alone, "cuda:1", 0), "one rank: --device as given");
    }

    @Test
    void gpusNeedsAsManyDevicesOnlyWhenCudaIsUsed() {
        HunyuanVideoCli cli = new HunyuanVideoCli();
        CommandLine cl = HunyuanVideoCli.commandLine(cli);
        cl.parseArgs("--gpus", "3");
        ParallelOptions.Plan p = cli.parallel.plan(cl);
        assertEquals("cuda:0", cli.parallel.rankDevice(cl, p, "auto", 3));
        assertEquals("cpu", cli.parallel.rankDevice(cl, p, "cpu", 1));
        assertEquals("cpu", cli.parallel.rankDevice(cl, p, "auto", 0));
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
                () -> cli.parallel.rankDevice(cl, p, "auto", 2));
        assertTrue(e.getMessage().contains("--gpus") && e.getMessage().contains("CUDA sees 2"), e.getMessage());
    }

    @Test
    void torchrunVariablesAreTheDefaults() throws IOException, InterruptedException {
        ProcessBuilder b = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), HunyuanVideoCli.class.getName(), "--prompt", "a cat",
                "--save-path", tmp.resolve("out").toString());
        b.environment().putAll(Map.of("RANK", "1", "WORLD_SIZE", "2", "MASTER_ADDR", "localhost",
                "MASTER_PORT", "70000"));
        Process p = b.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(2, p.exitValue(), err);
        assertTrue(err.contains("'--master-port': must be 1 to 65535, got 70000"), err);
    }

    @Test
    void aWorkerRunsThisJvmWithoutGpusAndWithItsRank() {
        List<String> jvm = List.of("/jdk/bin/java", "-Xmx8g", "-agentlib:jdwp=transport=dt_socket,address=5005",
                "-cp", "a.jar", "Main", "--gpus", "2", "--demo", "--gpus=2", "--prompt", "x");
        List<String> cli = jvm.subList(6, jvm.size());
        assertEquals(List.of("/jdk/bin/java", "-Xmx8g", "-cp", "a.jar", "Main", "--demo", "--prompt", "x",
                "--rank", "1", "--world-size", "2", "--local-rank", "1", "--rendezvous-file", "/r/f"),
                ParallelOptions.workerCommand(jvm, cli, 1, 2, Path.of("/r/f")));
        assertThrows(IllegalStateException.class,
                () -> ParallelOptions.workerCommand(jvm, List.of("--other"), 1, 2, Path.of("/r/f")));
        assertNull(parse().gpus);
    }
}
