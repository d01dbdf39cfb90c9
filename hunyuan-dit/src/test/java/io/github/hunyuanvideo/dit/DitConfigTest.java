package io.github.hunyuanvideo.dit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Configuration records: the official values, the case JSON, and rejected combinations. */
class DitConfigTest {
    private static List<Integer> ints(JsonNode arr) {
        List<Integer> out = new ArrayList<>();
        arr.forEach(e -> out.add(e.asInt()));
        return out;
    }

    @Test
    void tinyCaseConfigIsReadFieldByField() {
        try (ReferenceCase ref = ReferenceCase.load("dit_tiny")) {
            JsonNode c = ref.config();
            DitConfig cfg = DitConfig.fromJson(c);
            assertEquals(ints(c.get("patch_size")), cfg.patchSize());
            assertEquals(c.get("in_channels").asInt(), cfg.inChannels());
            assertEquals(c.get("out_channels").asInt(), cfg.outChannels());
            assertEquals(c.get("hidden_size").asInt(), cfg.hiddenSize());
            assertEquals(c.get("heads_num").asInt(), cfg.headsNum());
            assertEquals(c.get("mlp_width_ratio").asDouble(), cfg.mlpWidthRatio());
            assertEquals(c.get("mm_double_blocks_depth").asInt(), cfg.doubleBlocks());
            assertEquals(c.get("mm_single_blocks_depth").asInt(), cfg.singleBlocks());
            assertEquals(ints(c.get("rope_dim_list")), cfg.ropeDimList());
            assertEquals(c.get("rope_theta").asDouble(), cfg.ropeTheta());
            assertEquals(c.get("qkv_bias").asBoolean(), cfg.qkvBias());
            assertEquals(c.get("qk_norm").asBoolean(), cfg.qkNorm());
            assertEquals(c.get("guidance_embed").asBoolean(), cfg.guidanceEmbed());
            assertEquals(c.get("text_states_dim").asInt(), cfg.textStatesDim());
            assertEquals(c.get("text_states_dim_2").asInt(), cfg.textStatesDim2());
        }
    }

    @Test
    void officialConfigsByName() {
        DitConfig d = DitConfig.byName("HYVideo-T/2-cfgdistill");
        assertEquals(DitConfig.cfgDistill(), d);
        assertTrue(d.guidanceEmbed());
        assertEquals(128, d.headDim());
        assertEquals(12288, d.mlpHidden());
        assertEquals(64, d.outFeatures());
        assertEquals(256.0, d.ropeTheta());
        DitConfig t2 = DitConfig.byName("HYVideo-T/2");
        assertFalse(t2.guidanceEmbed());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DitConfig.byName("T/3"));
        assertTrue(e.getMessage().contains("HYVideo-T/2-cfgdistill"), e.getMessage());
    }

    @Test
    void rejectsInconsistentOrUnsupportedSettings() {
        ObjectMapper om = new ObjectMapper();
        ObjectNode ropeMismatch = om.createObjectNode();
        ropeMismatch.putArray("rope_dim_list").add(16).add(56).add(58);
        assertThrows(IllegalArgumentException.class, () -> DitConfig.fromJson(ropeMismatch));
        ObjectNode heads = om.createObjectNode().put("heads_num", 7);
        assertThrows(IllegalArgumentException.class, () -> DitConfig.fromJson(heads));
        ObjectNode act = om.createObjectNode().put("mlp_act_type", "relu");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DitConfig.fromJson(act));
        assertTrue(e.getMessage().contains("mlp_act_type"), e.getMessage());
        ObjectNode mask = om.createObjectNode().put("use_attention_mask", false);
        assertThrows(IllegalArgumentException.class, () -> DitConfig.fromJson(mask));
        ObjectNode outDefault = om.createObjectNode().put("in_channels", 4);
        assertEquals(4, DitConfig.fromJson(outDefault).outChannels());
    }
}
