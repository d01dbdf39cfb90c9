package io.github.hunyuanvideo.nn.parallel;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One rank of the multi-process Gloo tests: {@code rank world (file:PATH | tcp:HOST:PORT) timeoutMillis mode}.
 * Mode {@code check} runs {@link CollectiveChecks} and exits 0 when every value is exact (1 otherwise, each mismatch
 * on stdout). Mode {@code victim} runs the same checks, prints {@code READY}, then the last rank waits without taking
 * part (the test kills it or lets it hang) while the others start an all-reduce: they print
 * {@code FAILED <millis> <message>} and exit {@value #EXIT_FAILED} on a {@link CollectiveException}. Mode
 * {@code split} runs {@link CollectiveChecks#split} instead (sub-groups and their collectives), likewise exiting 0
 * with {@code ok}.
 */
public final class GlooWorker {
    static final int EXIT_FAILED = 3;

    private GlooWorker() {
    }

    public static void main(String[] args) throws InterruptedException {
        int rank = Integer.parseInt(args[0]);
        int world = Integer.parseInt(args[1]);
        Rendezvous rendezvous = rendezvous(args[2], rank, world)
                .withTimeout(Duration.ofMillis(Long.parseLong(args[3])));
        boolean victim = args[4].equals("victim");
        Device cpu = new Device("cpu");
        try (Communicator c = rendezvous.connect(cpu)) {
            List<String> problems = args[4].equals("split") ? CollectiveChecks.split(c, cpu)
                    : CollectiveChecks.run(c, cpu);
            problems.forEach(System.out::println);
            if (!problems.isEmpty()) {
                System.exit(1);
            }
            if (!victim) {
                System.out.println("ok");
                return;
            }
            System.out.println("READY");
            System.out.flush();
            if (rank == world - 1) {
                Thread.sleep(Long.MAX_VALUE);
            }
            long start = System.nanoTime();
            try {
                c.allReduceSum(torch.ones(4));
                System.out.println("UNEXPECTED allReduceSum completed without the last rank");
                System.exit(4);
            } catch (CollectiveException e) {
                System.out.println("FAILED " + (System.nanoTime() - start) / 1_000_000 + " " + e.getMessage());
                System.out.flush();
                // leave without closing: the group's destructor would wait for the failed transfer's own timeout
                Runtime.getRuntime().halt(EXIT_FAILED);
            }
        }
    }

    static Rendezvous rendezvous(String where, int rank, int world) {
        if (where.startsWith("file:")) {
            return Rendezvous.file(Path.of(where.substring(5)), rank, world);
        }
        String[] hostPort = where.substring(4).split(":");
        return Rendezvous.tcp(hostPort[0], Integer.parseInt(hostPort[1]), rank, world);
    }
}
