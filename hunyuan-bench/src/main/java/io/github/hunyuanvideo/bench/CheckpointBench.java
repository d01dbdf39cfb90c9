package io.github.hunyuanvideo.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.io.SafetensorsWriter;
import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Checkpoint loading benchmark: writes a synthetic bf16 safetensors file (default 4 GB, in tensors of about 64 MB
 * like the DiT's large linears), opens it through {@link Weights#open} (header validation + mapping) and
 * materialises every tensor on a device in a dtype, then prints a markdown table and deletes the file.
 *
 * <p>Arguments (all optional):
 * <ul>
 *   <li>{@code --size-gb G} file size in GB (10^9 bytes), default 4</li>
 *   <li>{@code --tensor-mb M} size of each tensor in MB, default 64</li>
 *   <li>{@code --dir D} folder for the temporary file, default {@code java.io.tmpdir}</li>
 *   <li>{@code --device cpu|cuda|cuda:N} where tensors are copied, default cpu</li>
 *   <li>{@code --dtype stored|fp32|fp16|bf16} the copies' dtype, default stored (bf16)</li>
 *   <li>{@code --passes N} open + materialise passes, default 2 (the first one faults the pages in)</li>
 *   <li>{@code --small} a 64 MB file of 4 MB tensors, to check that the program runs</li>
 * </ul>
 * The file is freshly written, so the passes read it from the page cache when it fits in RAM; the table says so.
 * CPU copies of large tensors are dominated by first-touch page faults on the new allocations; run with the
 * environment variable {@code THP_MEM_ALLOC_ENABLE=1} to let libtorch use 2 MB pages for them.
 * Example: {@code java -cp ... io.github.hunyuanvideo.bench.CheckpointBench --device cuda --dtype bf16}.
 */
public final class CheckpointBench {
    private static final int COLS = 4096;
    private static final int BF16_BYTES = 2;

    private CheckpointBench() {
    }

    private record Options(double sizeGb, double tensorMb, Path dir, String device, String dtype, int passes) {
    }

    public static void main(String[] args) throws IOException {
        Options o = parse(args);
        Device device = new Device(o.device());
        if (device.is_cuda() && !torch.cuda_is_available()) {
            throw new IllegalArgumentException("--device " + o.device() + ": CUDA is not available");
        }
        ScalarType dtype = o.dtype().equals("stored") ? ScalarType.BFloat16 : Precision.parse(o.dtype())
                .scalarType();
        Path dir = Files.createTempDirectory(o.dir(), "checkpoint-bench");
        Path file = dir.resolve("synthetic.safetensors");
        try {
            long t0 = System.nanoTime();
            int tensors = write(file, (long) (o.sizeGb() * 1e9), (long) (o.tensorMb() * 1e6));
            double writeS = (System.nanoTime() - t0) / 1e9;
            long size = Files.size(file);
            System.out.printf(Locale.ROOT, "%n%s, %d cores, %.1f GB RAM, device %s, %s%n%n", cpuModel(),
                    Runtime.getRuntime().availableProcessors(), totalRamGb(), o.device(),
                    "file in page cache (freshly written)");
            System.out.println("| pass | file | tensors | write | open (validate + map) | materialise → "
                    + o.device() + " " + dtype.name() + " | throughput |");
            System.out.println("|---|---|---|---|---|---|---|");
            for (int pass = 1; pass <= o.passes(); pass++) {
                long a = System.nanoTime();
                try (Weights w = Weights.open(file)) {
                    double openMs = (System.nanoTime() - a) / 1e6;
                    long b = System.nanoTime();
                    long bytes = 0;
                    for (String name : w.names()) {
                        try (PointerScope scope = new PointerScope()) {
                            Tensor t = w.get(name, device, dtype);
                            bytes += t.nbytes();
                        }
                    }
                    if (device.is_cuda()) {
                        torch.cuda_synchronize();
                    }
                    double matS = (System.nanoTime() - b) / 1e9;
                    System.out.printf(Locale.ROOT, "| %d | %.2f GB | %d | %s | %.1f ms | %.2f s (%.2f GB out) | "
                                    + "%.2f GB/s |%n", pass, size / 1e9, tensors,
                            pass == 1 ? String.format(Locale.ROOT, "%.1f s", writeS) : "-", openMs, matS,
                            bytes / 1e9, (size - headerBytes(file)) / 1e9 / matS);
                }
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    private static Options parse(String[] args) {
        double sizeGb = 4;
        double tensorMb = 64;
        Path dir = Paths.get(System.getProperty("java.io.tmpdir"));
        String device = "cpu";
        String dtype = "stored";
        int passes = 2;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--small")) {
                sizeGb = 0.064;
                tensorMb = 4;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + a + " needs a value (or is unknown)");
            }
            String v = args[++i];
            switch (a) {
                case "--size-gb" -> sizeGb = Double.parseDouble(v);
                case "--tensor-mb" -> tensorMb = Double.parseDouble(v);
                case "--dir" -> dir = Paths.get(v);
                case "--device" -> device = v;
                case "--dtype" -> {
                    if (!v.equals("stored")) {
                        Precision.parse(v);
                    }
                    dtype = v;
                }
                case "--passes" -> passes = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + a
                        + " (see the CheckpointBench Javadoc)");
            }
        }
        if (!(sizeGb > 0) || !(tensorMb > 0) || passes < 1) {
            throw new IllegalArgumentException("--size-gb and --tensor-mb must be > 0 and --passes >= 1");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--dir " + dir + " is not a folder");
        }
        return new Options(sizeGb, tensorMb, dir, device, dtype, passes);
    }

    /** Writes bf16 tensors of shape [rows, 4096] totalling about {@code totalBytes}; returns their count. */
    private static int write(Path file, long totalBytes, long tensorBytes) throws IOException {
        long rowBytes = (long) COLS * BF16_BYTES;
        long rowsPerTensor = Math.max(1, tensorBytes / rowBytes);
        long rowsLeft = Math.max(1, totalBytes / rowBytes);
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        long offset = 0;
        int count = 0;
        while (rowsLeft > 0) {
            long rows = Math.min(rowsPerTensor, rowsLeft);
            ObjectNode e = header.putObject(String.format(Locale.ROOT, "blocks.%05d.weight", count++));
            e.put("dtype", "BF16");
            e.putArray("shape").add(rows).add(COLS);
            e.putArray("data_offsets").add(offset).add(offset + rows * rowBytes);
            offset += rows * rowBytes;
            rowsLeft -= rows;
        }
        ByteBuffer head = SafetensorsWriter.headerBytes(header);
        byte[] noise = new byte[16 << 20];
        new Random(42).nextBytes(noise);
        ByteBuffer chunk = ByteBuffer.allocateDirect(noise.length).put(noise);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(head);
            long left = offset;
            while (left > 0) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), left));
                left -= ch.write(chunk);
            }
        }
        return count;
    }

    private static long headerBytes(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(b, 0);
            return 8 + b.getLong(0);
        }
    }

    private static String cpuModel() {
        try (Stream<String> lines = Files.lines(Paths.get("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
            return lines.filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(System.getProperty("os.arch"));
        } catch (IOException | RuntimeException e) {
            return System.getProperty("os.arch");
        }
    }

    private static double totalRamGb() {
        try {
            List<String> mem = Files.readAllLines(Paths.get("/proc/meminfo"));
            String kb = mem.get(0).replaceAll("[^0-9]", "");
            return Long.parseLong(kb) / 1e6 * 1.024;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
