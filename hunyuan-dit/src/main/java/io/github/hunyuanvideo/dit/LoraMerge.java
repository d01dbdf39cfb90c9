package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * LoRA adapters resolved onto the weights of one DiT configuration, merged into those weights as they are bound:
 * {@code W' = W + Σ scale · (alpha / rank) · B · A} over the adapters, computed on the device in float32 from the
 * base weight in float32 and rounded once to the compute dtype. Weights no adapter targets are bound exactly as
 * without adapters. {@link #over} puts the merge inside a {@link Parameters.Source}, so every way of binding the DiT
 * (official, diffusers, FP8 after dequantisation, streamed blocks) merges the same way.
 *
 * <p>Each module maps onto the DiT's own official names: the original format directly, kohya by its underscored
 * official name, diffusers through {@link DiffusersNames} (a split q, k, v or MLP part updates its rows of the fused
 * weight, the final modulation's swapped halves land swapped back). The update is computed in the official row order
 * and the q/k rows are reordered into the halves layout afterwards, with the base weight, so it lands on the right rows.
 *
 * <p>A merge is fixed at load time: the rounded weights no longer hold {@code W}, so switching or removing adapters
 * means loading the DiT again. A step costs exactly what it costs without adapters.
 *
 * <p>Valid while its adapters are open.
 */
public final class LoraMerge {
    private static final Logger LOG = LoggerFactory.getLogger(LoraMerge.class);
    private static final String WEIGHT = ".weight";
    private static final LoraMerge NONE = new LoraMerge(Map.of(), Map.of());

    /**
     * Where one module of the file lands: rows {@code [row, row + rows)} of official weight {@code weight}, its B's rows
     * in swapped halves if {@code swapHalves}.
     */
    private record Slot(String weight, long row, long rows, boolean swapHalves) {
    }

    /** {@code weight[row, row + rows) += factor · B[upRow, upRow + rows) · A}. */
    private record Update(LoraAdapter adapter, LoraAdapter.Module module, long row, long upRow, long rows,
                          double factor) {
        void addTo(Tensor weight, Device device) {
            Tensor down = adapter.tensor(module.downKey()).to(device, ScalarType.Float);
            Tensor up = adapter.tensor(module.upKey()).narrow(0, upRow, rows).to(device, ScalarType.Float);
            weight.narrow(0, row, rows).addmm_(up, down, new Scalar(1.0), new Scalar(factor));
        }
    }

    /** Official weight name → its updates, in adapter order. */
    private final Map<String, List<Update>> updates;
    /** Official weight name → the shape it was resolved against. */
    private final Map<String, long[]> shapes;

    private LoraMerge(Map<String, List<Update>> updates, Map<String, long[]> shapes) {
        this.updates = updates;
        this.shapes = shapes;
    }

    /** No adapters: binding is unchanged. */
    public static LoraMerge none() {
        return NONE;
    }

    /**
     * Resolves every module of {@code adapters} onto the weights of a DiT of {@code cfg} and checks its shapes, before
     * anything is copied.
     *
     * @param ignoreUnmatched log keys that match no weight as a warning instead of refusing them
     * @throws IllegalArgumentException naming the adapter's file and, in full, the keys that match no weight (unless
     *                                  {@code ignoreUnmatched}), or the key, its shape and the shape of the weight it
     *                                  would update
     */
    public static LoraMerge of(DitConfig cfg, List<LoraAdapter> adapters, boolean ignoreUnmatched) {
        if (adapters.isEmpty()) {
            return NONE;
        }
        Map<String, long[]> expected = HunyuanVideoTransformer.expectedShapes(cfg);
        Map<LoraAdapter.Format, Map<String, Slot>> indexes = new HashMap<>();
        Map<String, List<Update>> updates = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (LoraAdapter a : adapters) {
            Map<String, Slot> index = indexes.computeIfAbsent(a.format(), f -> index(f, expected, cfg.hiddenSize()));
            List<String> unmatched = new ArrayList<>(a.unrecognisedKeys());
            int merged = 0;
            for (LoraAdapter.Module m : a.modules()) {
                Slot slot = index.get(m.name());
                if (slot == null) {
                    unmatched.addAll(m.keys());
                    continue;
                }
                long[] weight = expected.get(slot.weight());
                check(a, m.downKey(), m.downShape(), 1, weight[1], slot, weight);
                check(a, m.upKey(), m.upShape(), 0, slot.rows(), slot, weight);
                double factor = a.scale() * m.alpha() / m.rank();
                List<Update> list = updates.computeIfAbsent(slot.weight(), k -> new ArrayList<>());
                if (slot.swapHalves()) {
                    long half = slot.rows() / 2;
                    list.add(new Update(a, m, slot.row(), half, half, factor));
                    list.add(new Update(a, m, slot.row() + half, 0, half, factor));
                } else {
                    list.add(new Update(a, m, slot.row(), 0, slot.rows(), factor));
                }
                shapes.put(slot.weight(), weight);
                merged++;
            }
            if (!unmatched.isEmpty()) {
                String list = unmatched.size() + " LoRA key(s) that match no weight of the DiT: "
                        + String.join(", ", unmatched);
                if (!ignoreUnmatched) {
                    throw new IllegalArgumentException(a.file() + ": has " + list);
                }
                LOG.warn("{}: ignoring {}", a.file(), list);
            }
            LOG.info("LoRA {} ({} keys): {} pairs at scale {}", a.file(), a.format(), merged, a.scale());
        }
        return new LoraMerge(Collections.unmodifiableMap(updates), Collections.unmodifiableMap(shapes));
    }

    /** Module name in {@code format} → where it lands, for every Linear weight (2-D) of {@code expected}. */
    private static Map<String, Slot> index(LoraAdapter.Format format, Map<String, long[]> expected, long hidden) {
        Map<String, Slot> index = new HashMap<>();
        expected.forEach((name, shape) -> {
            if (shape.length != 2 || !name.endsWith(WEIGHT)) {
                return;
            }
            String module = name.substring(0, name.length() - WEIGHT.length());
            switch (format) {
                case ORIGINAL -> index.put(module, new Slot(name, 0, shape[0], false));
                case KOHYA -> index.put(module.replace('.', '_'), new Slot(name, 0, shape[0], false));
                case DIFFUSERS -> {
                    DiffusersNames.Mapping m = DiffusersNames.map(name, shape[0], hidden);
                    long row = 0;
                    for (int i = 0; i < m.parts().size(); i++) {
                        String part = m.parts().get(i);
                        index.put(part.substring(0, part.length() - WEIGHT.length()),
                                new Slot(name, row, m.rows()[i], m.swapHalves()));
                        row += m.rows()[i];
                    }
                }
            }
        });
        return index;
    }

    /** Checks {@code shape[dim] == size} of LoRA tensor {@code key}, which updates {@code slot} of {@code weight}. */
    private static void check(LoraAdapter a, String key, long[] shape, int dim, long size, Slot slot, long[] weight) {
        if (shape[dim] == size) {
            return;
        }
        String target = slot.rows() == weight[0] ? "'" + slot.weight() + "' has shape " + Arrays.toString(weight)
                : "rows " + slot.row() + ".." + (slot.row() + slot.rows()) + " of '" + slot.weight() + "' "
                + Arrays.toString(weight) + " have shape " + Arrays.toString(new long[]{slot.rows(), weight[1]});
        throw new IllegalArgumentException(a.file() + ": '" + key + "' has shape " + Arrays.toString(shape)
                + ", but the weight it updates, " + target);
    }

    /** The official names of the weights the adapters update. */
    public Set<String> targets() {
        return updates.keySet();
    }

    /**
     * {@code base} with the adapters merged into the weights they target: such a weight is taken from {@code base} in
     * float32 on the device, updated there in float32 and rounded once to the requested dtype; every other weight is
     * {@code base}'s own (without adapters, {@code base} itself).
     */
    public Parameters.Source over(Parameters.Source base) {
        if (updates.isEmpty()) {
            return base;
        }
        return (name, shape, device, dtype) -> {
            List<Update> list = updates.get(name);
            if (list == null) {
                return base.create(name, shape, device, dtype);
            }
            Tensor w = base.create(name, shape, device, ScalarType.Float);
            for (Update u : list) {
                u.addTo(w, device);
            }
            return w.to(dtype);
        };
    }

    /**
     * Checks that the weights were resolved against the shapes of {@code expected} (the DiT about to be bound).
     *
     * @throws IllegalArgumentException naming the first target that differs
     */
    void checkFits(Map<String, long[]> expected) {
        shapes.forEach((name, shape) -> {
            if (!Arrays.equals(shape, expected.get(name))) {
                throw new IllegalArgumentException("the LoRA merge was resolved for another DiT: weight '" + name
                        + "' has shape " + Arrays.toString(shape) + " there and " + Arrays.toString(expected.get(name))
                        + " here");
            }
        });
    }
}
