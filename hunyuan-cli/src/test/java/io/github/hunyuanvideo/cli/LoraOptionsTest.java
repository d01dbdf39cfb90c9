package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.io.SafetensorsWriter;
import io.github.hunyuanvideo.sampler.SamplerConfig;
import io.github.hunyuanvideo.sampler.demo.DemoCheckpoint;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --lora FILE[:SCALE]} (repeatable) and {@code --lora-ignore-unmatched}: parsed into {@link SamplerConfig};
 * a missing file or a bad scale ends the program with exit code 2 and one line naming {@code --lora} while the
 * command line is parsed, and a file that fits no DiT weight before any generation.
 */
class LoraOptionsTest {
    @TempDir
    static Path tmp;
    static Path a;
    static Path b;

    @BeforeAll
    static void files() throws IOException {
        a = Files.writeString(tmp.resolve("a.safetensors"), "");
        b = Files.writeString(tmp.resolve("b.safetensors"), "");
    }

    @Test
    void adaptersAreParsedInOrderWithTheirScales() {
        SamplerConfig c = HunyuanVideoCliTest.parse("--lora", a.toString(), "--lora", b + ":0.5", "--lora",
                a + ":-1e-1").config();
        assertEquals(List.of(new SamplerConfig.Lora(a, 1.0), new SamplerConfig.Lora(b, 0.5),
                new SamplerConfig.Lora(a, -0.1)), c.loras());
        assertFalse(c.loraIgnoreUnmatched());
        assertTrue(HunyuanVideoCliTest.parse("--lora", a.toString(), "--lora-ignore-unmatched").config()
                .loraIgnoreUnmatched());
        assertEquals(List.of(), HunyuanVideoCliTest.parse().config().loras());
    }

    @Test
    void aFileNameWithAColonIsTheWholeValue() throws IOException {
        Path colon = Files.writeString(tmp.resolve("style:v2.safetensors"), "");
        assertEquals(List.of(new SamplerConfig.Lora(colon, 1.0)),
                HunyuanVideoCliTest.parse("--lora", colon.toString()).config().loras());
        assertEquals(List.of(new SamplerConfig.Lora(colon, 2.0)),
                HunyuanVideoCliTest.parse("--lora", colon + ":2").config().loras());
    }

    @ParameterizedTest
    @ValueSource(strings = {"missing.safetensors", "missing.safetensors:0.5", "A:abc", "A:NaN", "A:Infinity",
            "A:", "B:1e400"})
    void aMissingFileOrBadScaleIsRefusedNamingTheOption(String value) {
        String arg = value.replace("A", a.toString()).replace("B", b.toString());
        HunyuanVideoCliTest.Run r = HunyuanVideoCliTest.run("--prompt", "x", "--save-path", tmp.resolve("out")
                .toString(), "--lora", arg);
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("'--lora'") && r.err().contains(arg), r.err());
        assertFalse(Files.exists(tmp.resolve("out")), "parsing failed before anything was prepared");
    }

    @Test
    void aFileThatMatchesNoDitWeightIsRefusedBeforeGeneration() throws IOException {
        Path demo = DemoCheckpoint.ensure(tmp.resolve("demo"));
        Path foreign = tmp.resolve("foreign.safetensors");
        String key = "diffusion_model.double_blocks.0.not_a_layer";
        try (PointerScope scope = new PointerScope()) {
            SafetensorsWriter.write(foreign, Map.of(key + ".lora_A.weight", torch.zeros(4, 8),
                    key + ".lora_B.weight", torch.zeros(8, 4)), Map.of());
        }
        HunyuanVideoCliTest.Run r = HunyuanVideoCliTest.run("--demo", "--demo-dir", demo.toString(), "--save-path",
                tmp.resolve("videos").toString(), "--lora", foreign.toString());
        assertEquals(2, r.code(), r.err());
        String last = r.errLines().get(r.errLines().size() - 1);
        assertTrue(last.contains("'--lora'") && last.contains(foreign.toString())
                && last.contains(key + ".lora_A.weight") && last.contains(key + ".lora_B.weight"), r.err());
        assertTrue(r.out().isEmpty(), r.out());
    }
}
