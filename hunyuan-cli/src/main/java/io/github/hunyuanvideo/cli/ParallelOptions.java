package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.nn.parallel.Rendezvous;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The options of a run on several devices, one process (rank) per device: {@code --gpus N} starts the ranks on this
 * host; {@code --rank}, {@code --world-size}, {@code --master-addr}, {@code --master-port} and {@code --local-rank}
 * (defaults: torchrun's variables {@code RANK}, {@code WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT},
 * {@code LOCAL_RANK}) describe a process that another tool started; {@code --rendezvous-file} replaces the address
 * and port by a file. {@link #plan} checks them (a {@link ParameterException} naming the option).
 */
final class ParallelOptions {
    @Option(names = "--gpus", paramLabel = "N", description = "Render with N processes on this host, one per GPU "
            + "(rank r on cuda:r): starts N-1 worker JVMs (same java, classpath and options; their output prefixed "
            + "with [rank r]) and runs rank 0 in this one. Not with --rank. Default: one process.")
    Integer gpus;

    @Option(names = "--rank", paramLabel = "R", defaultValue = "${env:RANK}", description = "This process's rank, "
            + "0 to --world-size - 1, when another tool (torchrun, a cluster scheduler) starts the processes; rank 0 "
            + "writes the videos. Default: $RANK.")
    Integer rank;

    @Option(names = "--world-size", paramLabel = "W", defaultValue = "${env:WORLD_SIZE}",
            description = "The number of ranks. Default: $WORLD_SIZE, else 1.")
    Integer worldSize;

    @Option(names = "--master-addr", paramLabel = "HOST", defaultValue = "${env:MASTER_ADDR}",
            description = "Host of rank 0, which serves the rendezvous (a TCP store) on --master-port. Default: "
                    + "$MASTER_ADDR.")
    String masterAddr;

    @Option(names = "--master-port", paramLabel = "PORT", defaultValue = "${env:MASTER_PORT}",
            description = "Port of the rendezvous on --master-addr, 1 to 65535. Default: $MASTER_PORT.")
    Integer masterPort;

    @Option(names = "--local-rank", paramLabel = "L", defaultValue = "${env:LOCAL_RANK}",
            description = "This process's rank on its host: it renders on cuda:L. Default: $LOCAL_RANK, else --rank.")
    Integer localRank;

    @Option(names = "--rendezvous-file", paramLabel = "FILE", description = "Instead of --master-addr and "
            + "--master-port: a file every rank can reach (one host, or a shared file system) where the ranks meet. "
            + "It must not exist before the run; the last rank removes it.")
    Path rendezvousFile;

    @Option(names = "--collective-timeout", paramLabel = "SECONDS", defaultValue = "300", description = "Longest "
            + "wait for the other ranks, to meet and at each exchange: a rank that died or hangs ends the run with an "
            + "error after at most this.")
    long collectiveTimeout;

    /**
     * What the options ask for.
     *
     * @param rank       this process's rank
     * @param worldSize  the number of ranks (1: no other process)
     * @param localRank  the CUDA device index of this rank
     * @param launch     whether this process starts the other ranks ({@code --gpus} above 1)
     * @param rendezvous where the ranks meet; null when this process launches them (the launcher's file) or alone
     */
    record Plan(int rank, int worldSize, int localRank, boolean launch, Rendezvous rendezvous) {
    }

    /** The timeout of every wait for the other ranks. */
    Duration timeout() {
        return Duration.ofSeconds(collectiveTimeout);
    }

    /**
     * Checks the options together.
     *
     * @throws ParameterException naming the first option whose value is invalid or conflicts
     */
    Plan plan(CommandLine cl) {
        if (collectiveTimeout < 1 || collectiveTimeout > Duration.ofDays(1).toSeconds()) {
            throw bad(cl, "--collective-timeout", "must be 1 to 86400 seconds, got " + collectiveTimeout);
        }
        if (gpus != null) {
            if (gpus < 1) {
                throw bad(cl, "--gpus", "must be >= 1, got " + gpus);
            }
            if (rank != null) {
                throw bad(cl, "--gpus", "cannot be combined with --rank (or RANK in the environment): --gpus starts "
                        + "its own ranks");
            }
            for (String flag : List.of("--world-size", "--master-addr", "--master-port", "--local-rank",
                    "--rendezvous-file")) {
                if (cl.getParseResult().hasMatchedOption(flag)) {
                    throw bad(cl, "--gpus", "cannot be combined with " + flag + ": --gpus makes its own rendezvous "
                            + "on this host");
                }
            }
            return new Plan(0, gpus, 0, gpus > 1, null);
        }
        int world = worldSize == null ? 1 : worldSize;
        if (world < 1) {
            throw bad(cl, "--world-size", "must be >= 1, got " + world);
        }
        if (rank == null && world > 1) {
            throw bad(cl, "--rank", "is required with --world-size " + world);
        }
        int r = rank == null ? 0 : rank;
        if (r < 0 || r >= world) {
            throw bad(cl, "--rank", "must be in [0, " + world + ") for --world-size " + world + ", got " + r);
        }
        if (masterPort != null && (masterPort < 1 || masterPort > 65535)) {
            throw bad(cl, "--master-port", "must be 1 to 65535, got " + masterPort);
        }
        int local = localRank == null ? r : localRank;
        if (local < 0) {
            throw bad(cl, "--local-rank", "must be >= 0, got " + local);
        }
        if (world == 1) {
            return new Plan(0, 1, local, false, null);
        }
        Rendezvous rendezvous;
        if (rendezvousFile != null) {
            for (String flag : List.of("--master-addr", "--master-port")) {
                if (cl.getParseResult().hasMatchedOption(flag)) {
                    throw bad(cl, "--rendezvous-file", "cannot be combined with " + flag);
                }
            }
            rendezvous = Rendezvous.file(rendezvousFile, r, world);
        } else if (masterAddr == null || masterAddr.isBlank()) {
            throw bad(cl, "--master-addr", "is required with --world-size " + world + " (or --rendezvous-file)");
        } else if (masterPort == null) {
            throw bad(cl, "--master-port", "is required with --master-addr");
        } else {
            rendezvous = Rendezvous.tcp(masterAddr, masterPort, r, world);
        }
        return new Plan(r, world, local, false, rendezvous.withTimeout(timeout()));
    }

    /**
     * The device of this rank for {@code --device} {@code device}: with several ranks {@code auto} and {@code cuda}
     * become {@code cuda:L} (the local rank; the CPU where CUDA is missing for {@code auto}), {@code cpu} stays.
     *
     * @param cudaDevices the CUDA devices this process sees (0 without CUDA)
     * @throws ParameterException for {@code cuda:N} with several ranks, or more ranks on a host than its GPUs
     */
    String rankDevice(CommandLine cl, Plan plan, String device, int cudaDevices) {
        if (plan.worldSize() == 1) {
            return device;
        }
        if (device.startsWith("cuda:")) {
            throw bad(cl, "--device", "'" + device + "' cannot be used with several ranks: each takes cuda:L of its "
                    + "local rank L (use --device cuda or auto)");
        }
        boolean cuda = device.equals("cuda") || device.equals("auto") && cudaDevices > 0;
        if (!cuda) {
            return device.equals("auto") ? "cpu" : device;
        }
        if (plan.launch() && gpus > cudaDevices) {
            throw bad(cl, "--gpus", gpus + " ranks need " + gpus + " GPUs, CUDA sees " + cudaDevices);
        }
        if (!plan.launch() && plan.localRank() >= cudaDevices) {
            throw bad(cl, "--local-rank", plan.localRank() + " needs cuda:" + plan.localRank() + ", CUDA sees "
                    + cudaDevices + " device(s)");
        }
        return "cuda:" + plan.localRank();
    }

    /**
     * The command line of worker rank {@code rank} of {@code --gpus}: this JVM's ({@code jvm}: the executable and
     * every argument, as the operating system has them) with the program's arguments {@code cliArgs} at its end,
     * without {@code --gpus} and a debugger agent (its port is taken), plus the rank's options (the other options,
     * {@code --collective-timeout} too, are the same).
     *
     * @throws IllegalStateException if {@code jvm} does not end with {@code cliArgs}
     */
    static List<String> workerCommand(List<String> jvm, List<String> cliArgs, int rank, int worldSize,
                                      Path rendezvousFile) {
        int start = jvm.size() - cliArgs.size();
        if (start < 1 || !jvm.subList(start, jvm.size()).equals(cliArgs)) {
            throw new IllegalStateException("cannot start the workers: this JVM's command line " + jvm
                    + " does not end with the program's arguments");
        }
        List<String> command = new ArrayList<>();
        for (String arg : jvm.subList(0, start)) {
            if (!arg.startsWith("-agentlib:jdwp") && !arg.startsWith("-Xrunjdwp")) {
                command.add(arg);
            }
        }
        for (int i = 0; i < cliArgs.size(); i++) {
            String arg = cliArgs.get(i);
            if (arg.equals("--gpus")) {
                i++;  // and its value
            } else if (!arg.startsWith("--gpus=")) {
                command.add(arg);
            }
        }
        command.addAll(List.of("--rank", String.valueOf(rank), "--world-size", String.valueOf(worldSize),
                "--local-rank", String.valueOf(rank), "--rendezvous-file", rendezvousFile.toString()));
        return command;
    }

    private static ParameterException bad(CommandLine cl, String flag, String why) {
        return new ParameterException(cl, "Invalid value for option '" + flag + "': " + why);
    }
}
