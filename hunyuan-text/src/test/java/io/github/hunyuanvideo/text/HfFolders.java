package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.Weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Writes Hugging Face style model folders (config.json + float32 safetensors, optionally sharded) for tests. */
final class HfFolders {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfFolders() {
    }

    static void writeConfig(Path dir, JsonNode config) throws IOException {
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);
    }

    /**
     * Writes the tensors of {@code source} accepted by {@code rename} (a {@code null} name drops a tensor) as
     * float32, into {@code shards} files with a {@code model.safetensors.index.json} when {@code shards > 1}, else
     * into {@code model.safetensors}.
     */
    static void writeWeights(Path dir, Weights source, Function<String, String> rename, int shards)
            throws IOException {
        Map<String, String> names = new LinkedHashMap<>();
        for (String n : source.names()) {
            String to = rename.apply(n);
            if (to != null) {
                names.put(n, to);
            }
        }
        List<List<String>> parts = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            parts.add(new ArrayList<>());
        }
        int k = 0;
        for (String n : names.keySet()) {
            parts.get(k++ * shards / names.size()).add(n);
        }
        ObjectNode weightMap = JSON.createObjectNode();
        for (int s = 0; s < shards; s++) {
            String file = shards == 1 ? "model.safetensors"
                    : String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
            Map<String, float[]> data = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            for (String n : parts.get(s)) {
                data.put(names.get(n), Tensors.toFloatArray(source.get(n)));
                shapes.put(names.get(n), Tensors.shape(source.get(n)));
                weightMap.put(names.get(n), file);
            }
            writeSafetensors(dir.resolve(file), data, shapes);
        }
        if (shards > 1) {
            ObjectNode index = JSON.createObjectNode();
            index.putObject("metadata");
            index.set("weight_map", weightMap);
            JSON.writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
        }
    }

    private static void writeSafetensors(Path file, Map<String, float[]> data, Map<String, long[]> shapes)
            throws IOException {
        ObjectNode header = JSON.createObjectNode();
        long offset = 0;
        for (Map.Entry<String, float[]> e : data.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            var shape = t.putArray("shape");
            for (long d : shapes.get(e.getKey())) {
                shape.add(d);
            }
            long end = offset + 4L * e.getValue().length;
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        StringBuilder h = new StringBuilder(JSON.writeValueAsString(header));
        while ((h.length() + 8) % 8 != 0) {
            h.append(' ');
        }
        byte[] hb = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + hb.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(hb.length).put(hb);
        for (float[] v : data.values()) {
            for (float f : v) {
                buf.putFloat(f);
            }
        }
        buf.flip();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        }
    }

    /** Copies the tokenizer files of {@code from} into {@code to}. */
    static void copyTokenizer(Path from, Path to) throws IOException {
        for (String f : new String[]{HfTokenizer.TOKENIZER_FILE, HfTokenizer.TOKENIZER_CONFIG_FILE}) {
            if (Files.exists(from.resolve(f))) {
                Files.copy(from.resolve(f), to.resolve(f));
            }
        }
    }
}
