package io.github.hunyuanvideo.bench;

import io.github.hunyuanvideo.nn.CudaMemory;
import io.github.hunyuanvideo.nn.parallel.CollectiveChecks;
import io.github.hunyuanvideo.nn.parallel.NcclCommunicator;
import io.github.hunyuanvideo.nn.parallel.Rendezvous;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Runs every collective of {@link NcclCommunicator} in a group of one on CUDA tensors (NCCL allows one rank per GPU,
 * so one GPU checks a group of one): joining without a store (non-blocking init), all-to-all (also in place),
 * all-gather, broadcast, all-reduce and barrier in float32, bfloat16 and int64 against their exact values
 * ({@link CollectiveChecks}), sub-groups ({@code ncclCommSplit}), a CPU tensor refused, and closing. Prints one line
 * per check with PASS or FAIL and exits with 1 if one fails.
 *
 * <p>Arguments: optionally {@code --device N}, the CUDA device index (default 0). On the GPU machine the NCCL and
 * CUDA runtime glue of Bytedeco's CUDA presets must be loaded (the GPU launcher does where it finds them).
 */
public final class NcclGpuCheck {
    private NcclGpuCheck() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out) ? 0 : 1);
    }

    /** Runs the checks on the device of {@code args}, printing to {@code out}; returns whether all passed. */
    static boolean run(String[] args, PrintStream out) {
        if (args.length != 0 && (args.length != 2 || !args[0].equals("--device"))) {
            throw new IllegalArgumentException("usage: NcclGpuCheck [--device N]");
        }
        int device = args.length == 2 ? Integer.parseInt(args[1]) : 0;
        if (!CudaMemory.available()) {
            out.println("FAIL: CUDA is not available, NcclGpuCheck needs a GPU");
            return false;
        }
        boolean ok = true;
        long start = System.nanoTime();
        try (NcclCommunicator c = NcclCommunicator.connect(Rendezvous.alone().withTimeout(Duration.ofSeconds(60)),
                device); PointerScope scope = new PointerScope()) {
            out.printf(Locale.ROOT, "PASS: joined a group of one on cuda:%d in %.0f ms%n", device,
                    (System.nanoTime() - start) / 1e6);
            List<String> problems = CollectiveChecks.run(c, new Device("cuda:" + device));
            problems.forEach(p -> out.println("FAIL: " + p));
            ok = problems.isEmpty();
            if (ok) {
                out.println("PASS: allToAll (also in place), allGather, broadcast, allReduceSum, barrier: exact in "
                        + "float32, bfloat16 and int64");
            }
            try {
                c.allReduceSum(torch.ones(4));
                out.println("FAIL: a CPU tensor was accepted");
                ok = false;
            } catch (IllegalArgumentException expected) {
                out.println("PASS: a CPU tensor is refused (" + expected.getMessage() + ")");
            }
            // ncclCommSplit runs even in a group of one: the sub-groups' path of CFG parallelism
            List<String> splitProblems = CollectiveChecks.split(c, new Device("cuda:" + device));
            splitProblems.forEach(p -> out.println("FAIL: split: " + p));
            if (splitProblems.isEmpty()) {
                out.println("PASS: split (ncclCommSplit, twice), every collective in the sub-groups, the parent after");
            }
            ok &= splitProblems.isEmpty();
            long timed = System.nanoTime();
            for (int i = 0; i < 100; i++) {
                c.barrier();
            }
            out.printf(Locale.ROOT, "PASS: 100 barriers in %.1f ms%n", (System.nanoTime() - timed) / 1e6);
        } catch (RuntimeException e) {
            out.println("FAIL: " + e);
            return false;
        }
        out.println(ok ? "PASS: closed" : "FAIL: see above");
        return ok;
    }
}
