package io.github.hunyuanvideo.nn.parallel;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Every collective of a {@link Communicator} with rank-dependent values, against the exact expected result; shared by
 * the multi-process Gloo tests (through {@link GlooWorker}), the group-of-one tests and the GPU check.
 */
public final class CollectiveChecks {
    /** Rows each rank sends to each rank (all-to-all) or contributes (all-gather). */
    private static final int ROWS = 2;

    private CollectiveChecks() {
    }

    /**
     * Runs every collective on {@code device} in float32, bfloat16 and int64 and returns one line per mismatch
     * (empty: all exact). Small integers, so that every dtype holds them exactly.
     */
    public static List<String> run(Communicator c, Device device) {
        List<String> problems = new ArrayList<>();
        for (torch.ScalarType type : List.of(torch.ScalarType.Float, torch.ScalarType.BFloat16,
                torch.ScalarType.Long)) {
            try (PointerScope scope = new PointerScope()) {
                check(problems, c, device, type);
            }
        }
        c.barrier();
        return problems;
    }

    /**
     * Splits {@code c} twice, interleaved ({@code rank % 2}) and then in halves ({@code rank < W/2}), and checks each
     * sub-group: its rank and size, every collective ({@link #run}) among its ranks, and that an all-gather of the
     * ranks in {@code c} lists exactly the ranks of its color in order. Afterwards {@code c} itself still sums
     * correctly. Returns one line per mismatch (empty: all exact).
     */
    public static List<String> split(Communicator c, Device device) {
        List<String> problems = new ArrayList<>();
        int r = c.rank();
        int w = c.worldSize();
        checkSplit(problems, c, device, "interleaved", r % 2, IntStream.range(0, w)
                .filter(s -> s % 2 == r % 2).toArray());
        boolean low = r < w / 2;
        checkSplit(problems, c, device, "halves", low ? 0 : 1, IntStream.range(0, w)
                .filter(s -> s < w / 2 == low).toArray());
        try (PointerScope scope = new PointerScope()) {
            Tensor sum = torch.ones(1).to(device, torch.ScalarType.Long);
            c.allReduceSum(sum);
            if (sum.item_long() != w) {
                problems.add("the parent group after the splits: sum of ones " + sum.item_long() + ", expected " + w);
            }
        }
        return problems;
    }

    private static void checkSplit(List<String> problems, Communicator c, Device device, String how, int color,
                                   int[] members) {
        try (Communicator sub = c.split(color); PointerScope scope = new PointerScope()) {
            int expectedRank = Arrays.binarySearch(members, c.rank());
            if (sub.rank() != expectedRank || sub.worldSize() != members.length) {
                problems.add(how + ": rank " + sub.rank() + " of " + sub.worldSize() + ", expected " + expectedRank
                        + " of " + members.length);
                return;
            }
            run(sub, device).forEach(p -> problems.add(how + ": " + p));
            Tensor ranks = torch.zeros(members.length).to(device, torch.ScalarType.Long);
            sub.allGather(ranks, torch.full(new long[]{1}, new Scalar(c.rank())).to(device, torch.ScalarType.Long));
            long[] got = new long[members.length];
            for (int i = 0; i < got.length; i++) {
                got[i] = ranks.cpu().get(i).item_long();
            }
            if (!Arrays.equals(got, Arrays.stream(members).asLongStream().toArray())) {
                problems.add(how + ": the sub-group of color " + color + " holds the ranks "
                        + Arrays.toString(got) + ", expected " + Arrays.toString(members));
            }
        }
    }

    private static void check(List<String> problems, Communicator c, Device device, torch.ScalarType type) {
        int r = c.rank();
        int w = c.worldSize();
        Tensor input = values(r, w * ROWS, type, device);
        Tensor output = torch.zeros_like(input);
        c.allToAll(output, input);
        List<Tensor> received = new ArrayList<>();
        for (int s = 0; s < w; s++) {
            received.add(values(s, w * ROWS, type, device).narrow(0, (long) r * ROWS, ROWS));  // chunk r of rank s
        }
        expect(problems, "allToAll " + type, cat(received), output);

        Tensor inPlace = values(r, w * ROWS, type, device);
        c.allToAll(inPlace, inPlace);
        expect(problems, "allToAll in place " + type, cat(received), inPlace);

        Tensor mine = values(r, ROWS, type, device);
        Tensor gathered = torch.zeros(new long[]{(long) w * ROWS, 3}, mine.options());
        c.allGather(gathered, mine);
        List<Tensor> all = new ArrayList<>();
        for (int s = 0; s < w; s++) {
            all.add(values(s, ROWS, type, device));
        }
        expect(problems, "allGather " + type, cat(all), gathered);

        Tensor broadcast = values(r, ROWS, type, device);
        c.broadcast(broadcast, w - 1);
        expect(problems, "broadcast from " + (w - 1) + " " + type, values(w - 1, ROWS, type, device), broadcast);

        Tensor sum = values(r, ROWS, type, device);
        c.allReduceSum(sum);
        Tensor expected = torch.zeros_like(sum);
        for (int s = 0; s < w; s++) {
            expected = expected.add(values(s, ROWS, type, device));
        }
        expect(problems, "allReduceSum " + type, expected, sum);
    }

    /** Rank {@code s}'s tensor {@code [rows, 3]}: {@code 32·s + 4·row + column}. */
    static Tensor values(int s, int rows, torch.ScalarType type, Device device) {
        Tensor row = torch.arange(new Scalar(rows)).reshape(rows, 1).mul(new Scalar(4));
        return row.add(torch.arange(new Scalar(3))).add(new Scalar(32 * s)).to(device, type);
    }

    private static Tensor cat(List<Tensor> parts) {
        return torch.cat(new TensorArrayRef(new TensorVector(parts.toArray(new Tensor[0]))));
    }

    private static void expect(List<String> problems, String what, Tensor expected, Tensor actual) {
        if (!torch.equal(expected, actual)) {
            problems.add(what + ": expected " + expected.cpu().to(torch.ScalarType.Float).reshape(-1)
                    + " got " + actual.cpu().to(torch.ScalarType.Float).reshape(-1));
        }
    }
}
