package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClipTextConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aFullClipConfigUsesItsTextConfig() throws Exception {
        // the text_config of openai/clip-vit-large-patch14 (text_encoder_2), with its legacy eos_token_id 2
        String s = "{'model_type':'clip','text_config':{'model_type':'clip_text_model','hidden_size':768,"
                + "'intermediate_size':3072,'num_attention_heads':12,'num_hidden_layers':12,"
                + "'max_position_embeddings':77,'vocab_size':49408,'hidden_act':'quick_gelu','layer_norm_eps':1e-05,"
                + "'bos_token_id':0,'eos_token_id':2,'pad_token_id':1},'vision_config':{'hidden_size':1024}}";
        ClipTextConfig c = ClipTextConfig.fromJson(JSON.readTree(s.replace('\'', '"')));
        assertEquals(ClipTextConfig.clipL(), c);
        assertEquals(ClipTextConfig.LEGACY_EOS_TOKEN_ID, c.eosTokenId());
    }

    @Test
    void unsupportedModelsAreRefused() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClipTextConfig.fromJson(JSON.readTree("{\"hidden_act\":\"gelu_new\"}")));
        assertTrue(e.getMessage().contains("gelu_new"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ClipTextConfig.fromJson(JSON.readTree("{\"model_type\":\"siglip_text_model\"}")));
    }
}
