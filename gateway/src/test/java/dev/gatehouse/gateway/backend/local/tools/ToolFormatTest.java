package dev.gatehouse.gateway.backend.local.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ToolFormatTest {

    @Test
    void qwen3sRealTemplateRendersToolsAndCallsInHermesFormat() {
        String template = RealTemplates.real("qwen3").chatTemplate();
        assertTrue(ToolPrompt.templateHasTools(template));
        assertEquals(ToolFormat.HERMES, ToolFormat.detect(template, null));
    }

    @Test
    void llama31sRealTemplateWithoutToolsGetsTheFallbackInHermesFormat() {
        String template = RealTemplates.real("llama3.1").chatTemplate();
        assertFalse(ToolPrompt.templateHasTools(template));
        assertEquals(ToolFormat.HERMES, ToolFormat.detect(template, null));
    }

    @Test
    void llama32sTemplateWithToolsIsLlamaJson() {
        String template = RealTemplates.shaped("llama3.2");
        assertTrue(ToolPrompt.templateHasTools(template));
        assertEquals(ToolFormat.LLAMA3_JSON, ToolFormat.detect(template, null));
    }

    @Test
    void mistralsToolMarkersAreMistral() {
        // the assistant branch of Mistral Instruct v0.3's template
        String template = "{%- elif message.tool_calls is defined and message.tool_calls is not none %}"
                + "{{- \"[TOOL_CALLS][\" }}{%- for tool_call in message.tool_calls %}";
        assertEquals(ToolFormat.MISTRAL, ToolFormat.detect(template, null));
    }

    @Test
    void settingsNameTheFormats() {
        assertEquals(ToolFormat.LLAMA3_JSON, ToolFormat.parse("llama3-json"));
        assertEquals(ToolFormat.MISTRAL, ToolFormat.parse("Mistral"));
        assertEquals("unknown tool parser 'xml' (expected auto, hermes, llama3-json or mistral)",
                assertThrows(IllegalArgumentException.class, () -> ToolFormat.parse("xml")).getMessage());
    }
}
