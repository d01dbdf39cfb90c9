package io.github.hunyuanvideo.sampler;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointLayoutTest {
    private static final String DIT = "hunyuan-video-t2v-720p/transformers/mp_rank_00_model_states.pt";

    private static void touch(Path root, String... files) throws IOException {
        for (String f : files) {
            Path p = root.resolve(f);
            Files.createDirectories(p.getParent());
            Files.write(p, new byte[]{0});
        }
    }

    private static void official(Path root) throws IOException {
        touch(root, DIT, "hunyuan-video-t2v-720p/vae/config.json", "hunyuan-video-t2v-720p/vae/pytorch_model.pt",
                "text_encoder/config.json", "text_encoder/tokenizer.json", "text_encoder/model.safetensors.index.json",
                "text_encoder/model-00001-of-00004.safetensors", "text_encoder_2/config.json",
                "text_encoder_2/tokenizer.json", "text_encoder_2/model.safetensors");
    }

    @Test
    void findsTheOfficialLayout(@TempDir Path root) throws IOException {
        official(root);
        CheckpointLayout l = CheckpointLayout.resolve(root, SamplerConfig.defaults());
        assertEquals(CheckpointLayout.Kind.OFFICIAL, l.kind());
        assertEquals(root.resolve(DIT), l.ditWeights());
        assertEquals(root.resolve("hunyuan-video-t2v-720p/vae/pytorch_model.pt"), l.vaeWeights());
        assertEquals(root.resolve("text_encoder"), l.textEncoderDir());
        assertEquals(root.resolve("text_encoder_2"), l.tokenizer2Dir());
    }

    @Test
    void everyMissingFileIsNamedByPathBeforeAnythingLoads(@TempDir Path root) throws IOException {
        official(root);
        Files.delete(root.resolve(DIT));
        Files.delete(root.resolve("hunyuan-video-t2v-720p/vae/config.json"));
        Files.delete(root.resolve("text_encoder_2/tokenizer.json"));
        MissingCheckpointException e = assertThrows(MissingCheckpointException.class,
                () -> HunyuanVideoSampler.fromPretrained(root, SamplerConfig.builder().device("cpu").build()));
        List<String> p = e.problems();
        assertEquals(3, p.size(), p.toString());
        assertTrue(p.get(0).startsWith(root.resolve(DIT) + ": missing (expected the DiT checkpoint"), p.get(0));
        assertTrue(p.get(1).startsWith(root.resolve("hunyuan-video-t2v-720p/vae/config.json") + ": missing"),
                p.get(1));
        assertTrue(p.get(2).startsWith(root.resolve("text_encoder_2/tokenizer.json") + ": missing"), p.get(2));
        assertTrue(e.getMessage().contains(root.resolve(DIT).toString()), e.getMessage());
    }

    @Test
    void textEncodersAreOptionalWhenNotLoaded(@TempDir Path root) throws IOException {
        touch(root, DIT, "hunyuan-video-t2v-720p/vae/config.json", "hunyuan-video-t2v-720p/vae/pytorch_model.pt");
        CheckpointLayout l = CheckpointLayout.resolve(root,
                SamplerConfig.builder().loadTextEncoders(false).build());
        assertEquals(null, l.textEncoderDir());
        MissingCheckpointException e = assertThrows(MissingCheckpointException.class,
                () -> CheckpointLayout.resolve(root, SamplerConfig.defaults()));
        assertTrue(e.problems().get(0).startsWith(root.resolve("text_encoder") + ": folder missing"),
                e.problems().toString());
    }

    @Test
    void fp8NeedsTheFp8FileAndItsScaleMap(@TempDir Path root) throws IOException {
        official(root);
        SamplerConfig fp8 = SamplerConfig.builder().useFp8(true).build();
        MissingCheckpointException e = assertThrows(MissingCheckpointException.class,
                () -> CheckpointLayout.resolve(root, fp8));
        assertEquals(2, e.problems().size(), e.problems().toString());
        assertTrue(e.problems().get(0).contains("mp_rank_00_model_states_fp8.pt"), e.problems().get(0));
        assertTrue(e.problems().get(1).contains("mp_rank_00_model_states_fp8_map.pt"), e.problems().get(1));
        touch(root, "hunyuan-video-t2v-720p/transformers/mp_rank_00_model_states_fp8.pt",
                "hunyuan-video-t2v-720p/transformers/mp_rank_00_model_states_fp8_map.pt");
        CheckpointLayout l = CheckpointLayout.resolve(root, fp8);
        assertTrue(l.ditFp8Map().endsWith("mp_rank_00_model_states_fp8_map.pt"));
    }

    @Test
    void aSafetensorsDitBesideTheExpectedPtIsUsed(@TempDir Path root) throws IOException {
        official(root);
        Files.delete(root.resolve(DIT));
        touch(root, DIT.replace(".pt", ".safetensors"));
        assertEquals(root.resolve(DIT.replace(".pt", ".safetensors")),
                CheckpointLayout.resolve(root, SamplerConfig.defaults()).ditWeights());
    }

    @Test
    void ditWeightOverrideMayBeAFolder(@TempDir Path root) throws IOException {
        official(root);
        touch(root, "other/a_model_states.pt", "other/b_model_states.pt");
        SamplerConfig c = SamplerConfig.builder().ditWeight(root.resolve("other")).build();
        assertEquals(root.resolve("other/a_model_states.pt"), CheckpointLayout.resolve(root, c).ditWeights());
        MissingCheckpointException e = assertThrows(MissingCheckpointException.class, () -> CheckpointLayout
                .resolve(root, SamplerConfig.builder().ditWeight(root.resolve("nowhere.pt")).build()));
        assertTrue(e.problems().get(0).startsWith(root.resolve("nowhere.pt") + ": missing"), e.getMessage());
    }

    @Test
    void findsTheDiffusersLayout(@TempDir Path root) throws IOException {
        touch(root, "model_index.json", "transformer/config.json",
                "transformer/diffusion_pytorch_model.safetensors.index.json",
                "transformer/diffusion_pytorch_model-00001-of-00003.safetensors", "vae/config.json",
                "vae/diffusion_pytorch_model.safetensors", "text_encoder/config.json",
                "text_encoder/model.safetensors", "tokenizer/tokenizer.json", "text_encoder_2/config.json",
                "text_encoder_2/model.safetensors", "tokenizer_2/tokenizer.json",
                "scheduler/scheduler_config.json");
        CheckpointLayout l = CheckpointLayout.resolve(root, SamplerConfig.defaults());
        assertEquals(CheckpointLayout.Kind.DIFFUSERS, l.kind());
        assertEquals(root.resolve("transformer"), l.ditWeights());
        assertEquals(root.resolve("transformer/config.json"), l.ditConfig());
        assertEquals(root.resolve("tokenizer"), l.tokenizerDir());
        assertEquals(root.resolve("tokenizer_2"), l.tokenizer2Dir());
        Files.delete(root.resolve("vae/diffusion_pytorch_model.safetensors"));
        MissingCheckpointException e = assertThrows(MissingCheckpointException.class,
                () -> CheckpointLayout.resolve(root, SamplerConfig.defaults()));
        assertTrue(e.problems().get(0).startsWith(root.resolve("vae/diffusion_pytorch_model.safetensors")
                + ": missing (expected the VAE weights)"), e.getMessage());
    }

    @Test
    void textLengthsAreCheckedAgainstTheEncoderConfigsBeforeAnyWeightIsRead(@TempDir Path root) throws IOException {
        official(root);
        // a 3-layer LLM made for 512 positions and CLIP's 77; every weight file stays a 1-byte stub nobody can read
        Files.writeString(root.resolve("text_encoder/config.json"), "{\"model_type\":\"llama\",\"hidden_size\":32,"
                + "\"num_attention_heads\":2,\"num_hidden_layers\":3,\"max_position_embeddings\":512}");
        Files.writeString(root.resolve("text_encoder_2/config.json"), "{\"max_position_embeddings\":77}");
        SamplerConfig fits = SamplerConfig.builder().device("cpu").textLen(512 - 95).textLen2(77)
                .hiddenStateSkipLayer(3).build();
        HunyuanVideoSampler.check(root, fits);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HunyuanVideoSampler.fromPretrained(root, fits.toBuilder().textLen(512 - 95 + 1).build()));
        assertTrue(e.getMessage().startsWith("textLen:") && e.getMessage().contains("512")
                && e.getMessage().contains("largest textLen for this LLM is " + (512 - 95)), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HunyuanVideoSampler.fromPretrained(root, fits.toBuilder().textLen2(78).build()));
        assertTrue(e.getMessage().startsWith("textLen2:") && e.getMessage().contains("77"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HunyuanVideoSampler.fromPretrained(root, fits.toBuilder().hiddenStateSkipLayer(4).build()));
        assertTrue(e.getMessage().startsWith("hiddenStateSkipLayer:") && e.getMessage().contains("3 layers"),
                e.getMessage());
        // without encoders their limits do not apply
        HunyuanVideoSampler.check(root, fits.toBuilder().textLen(4000).loadTextEncoders(false).build());
    }

    @Test
    void aMissingModelFolderIsNamed(@TempDir Path root) {
        Path nowhere = root.resolve("ckpts");
        MissingCheckpointException e = assertThrows(MissingCheckpointException.class,
                () -> CheckpointLayout.resolve(nowhere, SamplerConfig.defaults()));
        assertTrue(e.getMessage().contains(nowhere + ": model folder not found"), e.getMessage());
    }
}
