package io.github.hunyuanvideo.cli;

/**
 * A stand-in worker for {@link LauncherTest} (no libtorch, starts fast): {@code exitCode sleepMillis} prints the
 * NVLink multicast variables and {@code RANK} as it sees them, sleeps, then exits with {@code exitCode}.
 */
public final class FakeRank {
    private FakeRank() {
    }

    public static void main(String[] args) throws InterruptedException {
        for (String name : new String[]{"NCCL_NVLS_ENABLE", "TORCH_SYMM_MEM_DISABLE_MULTICAST", "NVSHMEM_DISABLE_NVLS",
                "RANK"}) {
            System.out.println(name + "=" + System.getenv(name));
        }
        System.err.println("a line on stderr");
        System.out.flush();
        Thread.sleep(Long.parseLong(args[1]));
        System.exit(Integer.parseInt(args[0]));
    }
}
