package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LlamaConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s.replace('\'', '"'));
    }

    @Test
    void transformers5LayoutOfTheGoldenCase() {
        try (ReferenceCase ref = ReferenceCase.load("text_llm_tiny")) {
            JsonNode full = ref.config().get("full_config");
            LlamaConfig c = LlamaConfig.fromJson(full);
            assertEquals(full.get("vocab_size").asInt(), c.vocabSize());
            assertEquals(full.get("num_hidden_layers").asInt(), c.numLayers());
            assertEquals(full.get("num_key_value_heads").asInt(), c.numKvHeads());
            assertEquals(full.get("head_dim").asInt(), c.headDim());
            assertEquals(full.get("rope_parameters").get("rope_theta").asDouble(), c.ropeTheta());
            assertEquals(full.get("rms_norm_eps").asDouble(), c.rmsNormEps());
            assertEquals(full.get("max_position_embeddings").asInt(), c.maxPositionEmbeddings());
            assertNull(c.ropeScaling());
        }
    }

    @Test
    void transformers4AndLlavaLayouts() throws Exception {
        String llama = "{'model_type':'llama','hidden_size':4096,'num_attention_heads':32,'num_key_value_heads':8,"
                + "'num_hidden_layers':32,'intermediate_size':14336,'vocab_size':128256,'rms_norm_eps':1e-05,"
                + "'rope_theta':500000.0,'rope_scaling':null,'hidden_act':'silu','bos_token_id':128000,"
                + "'max_position_embeddings':8192}";
        assertEquals(LlamaConfig.llama3_8b(), LlamaConfig.fromJson(json(llama)));
        assertEquals(LlamaConfig.llama3_8b(), LlamaConfig.fromJson(json("{'model_type':'llava','text_config':"
                + llama + "}")));
    }

    @Test
    void maxPositionEmbeddingsDefaultsAsInTransformersAndMustBePositive() throws Exception {
        assertEquals(2048, LlamaConfig.fromJson(json("{'model_type':'llama'}")).maxPositionEmbeddings());
        assertEquals(2048, TinyLlama.CONFIG.maxPositionEmbeddings());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlamaConfig.fromJson(json("{'max_position_embeddings':0}")));
        assertTrue(e.getMessage().contains("max_position_embeddings"), e.getMessage());
    }

    @Test
    void llama31RopeScalingIsReadAndOthersAreRefused() throws Exception {
        ObjectNode n = (ObjectNode) json("{'rope_theta':500000.0,'rope_scaling':{'rope_type':'llama3','factor':8.0,"
                + "'low_freq_factor':1.0,'high_freq_factor':4.0,'original_max_position_embeddings':8192}}");
        LlamaConfig.Llama3RopeScaling s = LlamaConfig.fromJson(n).ropeScaling();
        assertEquals(new LlamaConfig.Llama3RopeScaling(8.0, 1.0, 4.0, 8192), s);
        n.set("rope_scaling", json("{'type':'yarn','factor':4.0}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(n));
        assertTrue(e.getMessage().contains("yarn"), e.getMessage());
        n.set("rope_scaling", json("{'rope_type':'llama3','factor':8.0}"));
        assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(n));
    }

    @Test
    void otherArchitecturesAreRefused() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(json("{'model_type':'mistral'}")));
        assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(json("{'hidden_act':'gelu'}")));
        assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(
                json("{'num_attention_heads':32,'num_key_value_heads':6}")));
    }

    @Test
    void theEightBillionConfigHasAbout7Point5BillionParameters() {
        // the Llama-3-8B tower without lm_head (what AutoModel loads from text_encoder/) has ≈7.5 B parameters
        assertEquals(7.5e9, LlamaConfig.llama3_8b().parameterCount(), 0.05e9);
        assertFalse(LlamaConfig.llama3_8b().attentionBias());
    }
}
