package io.github.hunyuanvideo.text;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LlmEncoderOptionsTest {
    @Test
    void defaultsAreTheOfficialOnes() {
        LlmEncoderOptions o = LlmEncoderOptions.defaults();
        // hyvideo/config.py: --text-len 256, --hidden-state-skip-layer 2, no --apply-final-norm;
        // the tokenizer max_length is text_len + the video template's crop_start: 256 + 95 = 351
        assertEquals(256, o.textLen());
        assertEquals(2, o.hiddenStateSkipLayer());
        assertFalse(o.applyFinalNorm());
        assertEquals(351, o.maxLength());
        assertEquals(30, o.layersToRun(LlamaConfig.llama3_8b().numLayers()));
        assertFalse(o.usesFinalNorm());
    }

    @Test
    void theFinalNormIsUsedWithSkipZeroOrWhenAsked() {
        assertTrue(new LlmEncoderOptions(256, 0, false).usesFinalNorm());
        assertTrue(new LlmEncoderOptions(256, 2, true).usesFinalNorm());
    }

    @Test
    void badValuesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new LlmEncoderOptions(0, 2, false));
        assertThrows(IllegalArgumentException.class, () -> new LlmEncoderOptions(256, -1, false));
        assertThrows(IllegalArgumentException.class, () -> new LlmEncoderOptions(256, 5, false).layersToRun(4));
    }
}
