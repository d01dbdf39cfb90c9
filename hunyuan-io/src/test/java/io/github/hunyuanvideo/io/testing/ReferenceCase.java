package io.github.hunyuanvideo.io.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.hunyuanvideo.io.SafetensorsFile;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One golden case of the reference folder: {@code NAME.json} (config, shapes, notes) and {@code NAME.safetensors}
 * (weights under official names, {@code in.*}, {@code mid.*}, {@code out.*}). The folder comes from the system
 * property {@code hunyuan.reference.dir}.
 */
public final class ReferenceCase implements AutoCloseable {
    private final String name;
    private final JsonNode json;
    private final Weights tensors;

    private ReferenceCase(String name, JsonNode json, Weights tensors) {
        this.name = name;
        this.json = json;
        this.tensors = tensors;
    }

    /** The reference folder: {@code -Dhunyuan.reference.dir}, else {@code ../shared/reference}. */
    public static Path dir() {
        String p = System.getProperty("hunyuan.reference.dir");
        Path d = p != null ? Paths.get(p) : Paths.get("..", "..", "shared", "reference");
        if (!Files.isDirectory(d)) {
            fail("reference folder " + d.toAbsolutePath() + " does not exist (set -Dhunyuan.reference.dir)");
        }
        return d;
    }

    /** Opens case {@code name}; the safetensors file is optional (scheduler.json has none). */
    public static ReferenceCase load(String name) {
        Path d = dir();
        try {
            JsonNode json = new ObjectMapper().readTree(d.resolve(name + ".json").toFile());
            Path st = d.resolve(name + ".safetensors");
            Weights w = Files.exists(st) ? Weights.open(st) : Weights.of(List.of());
            return new ReferenceCase(name, json, w);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load reference case " + name + " from " + d, e);
        }
    }

    public String name() {
        return name;
    }

    /** The whole JSON document. */
    public JsonNode json() {
        return json;
    }

    /** The {@code config} object of the JSON. */
    public JsonNode config() {
        return json.get("config");
    }

    /** All tensors of the case (weights under official names plus in/mid/out). */
    public Weights tensors() {
        return tensors;
    }

    /**
     * The case's model weights under their official names: every tensor but its {@code in.*}, {@code mid.*} and
     * {@code out.*} ones (a view of {@link #tensors()}).
     */
    public Weights modelWeights() {
        return tensors.rename(n -> n.startsWith("in.") || n.startsWith("mid.") || n.startsWith("out.") ? null : n);
    }

    /** One tensor of the case (a zero-copy view). */
    public Tensor tensor(String key) {
        return tensors.get(key);
    }

    /** Asserts ‖actual − ref‖/‖ref‖ ≤ tol for reference tensor {@code key}, and returns the error. */
    public double assertClose(String key, Tensor actual, double tol) {
        double err = Tensors.relativeError(actual, tensor(key));
        assertTrue(err <= tol, name + ": " + key + " relative error " + err + " > " + tol);
        return err;
    }

    @Override
    public void close() {
        tensors.close();
    }
}
