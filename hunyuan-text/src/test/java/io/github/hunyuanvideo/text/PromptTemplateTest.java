package io.github.hunyuanvideo.text;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PromptTemplateTest {
    @Test
    void officialTemplatesHaveTheSpecifiedLengthsAndCrops() {
        // hyvideo/constants.py PROMPT_TEMPLATE: dit-llm-encode-video is 512 characters with crop_start 95,
        // dit-llm-encode 241 characters with crop_start 36
        assertEquals(512, PromptTemplate.VIDEO.template().length());
        assertEquals(95, PromptTemplate.VIDEO.cropStart());
        assertEquals(241, PromptTemplate.IMAGE.template().length());
        assertEquals(36, PromptTemplate.IMAGE.cropStart());
        assertTrue(PromptTemplate.VIDEO.template().contains("the video.2. The color"), "items joined without space");
        for (PromptTemplate t : new PromptTemplate[]{PromptTemplate.VIDEO, PromptTemplate.IMAGE}) {
            assertTrue(t.prefix().endsWith("<|start_header_id|>user<|end_header_id|>\n\n"));
            assertTrue(t.template().endsWith("{}<|eot_id|>"));
        }
    }

    @Test
    void formatInsertsThePromptVerbatim() {
        String p = "a {curly} prompt with \\1 and $2";
        String s = PromptTemplate.IMAGE.format(p);
        assertEquals(PromptTemplate.IMAGE.prefix() + p + "<|eot_id|>", s);
    }

    @Test
    void theTemplateFollowsTheVideoLength() {
        assertSame(PromptTemplate.IMAGE, PromptTemplate.forVideoLength(1));
        assertSame(PromptTemplate.VIDEO, PromptTemplate.forVideoLength(129));
        assertThrows(IllegalArgumentException.class, () -> PromptTemplate.forVideoLength(0));
    }

    @Test
    void malformedTemplatesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new PromptTemplate("x", "no placeholder", 0));
        assertThrows(IllegalArgumentException.class, () -> new PromptTemplate("x", "{} and {}", 0));
        assertThrows(IllegalArgumentException.class, () -> new PromptTemplate("x", "{} {name}", 0));
        assertThrows(IllegalArgumentException.class, () -> new PromptTemplate("x", "{}", -1));
    }
}
