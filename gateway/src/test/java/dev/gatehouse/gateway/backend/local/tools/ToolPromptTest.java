package dev.gatehouse.gateway.backend.local.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolCall;
import dev.gatehouse.serving.text.ChatTemplate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Tools, calls and results rendered by real templates: through their own {@code tools}, or the fallback. */
class ToolPromptTest {
    private static final Tool WEATHER = new Tool("get_weather", "Weather in a city", parameters(), null);
    private static final List<Message> CONVERSATION = List.of(
            new Message(Message.SYSTEM, "You are terse."),
            new Message(Message.USER, "Weather in Paris?"),
            new Message(Message.ASSISTANT, List.of(), List.of(new ToolCall("call_1", "get_weather", "{\"city\": \"Paris\"}")), null),
            new Message(Message.TOOL, List.of(new ContentPart.Text("22 C, sunny")), List.of(), "call_1"));

    private static com.fasterxml.jackson.databind.JsonNode parameters() {
        try {
            return new ObjectMapper().readTree("{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void qwen3RendersTheToolsTheCallAndItsResultItself() {
        ChatTemplate template = ChatTemplate.of("qwen3", RealTemplates.real("qwen3"));
        String prompt = template.render(ToolPrompt.messages(CONVERSATION), true, Map.of("tools", ToolPrompt.tools(List.of(WEATHER))));
        assertTrue(prompt.startsWith("<|im_start|>system\nYou are terse.\n\n# Tools\n"), prompt);
        assertTrue(prompt.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": "
                + "\"Weather in a city\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, "
                + "\"required\": [\"city\"]}}}\n</tools>"), prompt);
        assertTrue(prompt.contains("<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n"
                + "</tool_call><|im_end|>\n"), prompt);
        assertTrue(prompt.contains("<|im_start|>user\n<tool_response>\n22 C, sunny\n</tool_response><|im_end|>\n"), prompt);
        assertTrue(prompt.endsWith("<|im_start|>assistant\n"), prompt);
    }

    @Test
    void aTemplateWithoutToolSupportGetsThemInTheSystemMessage() {
        ChatTemplate template = ChatTemplate.of("llama3.1", RealTemplates.real("llama3.1"));
        String prompt = template.render(ToolPrompt.fallbackMessages(CONVERSATION, List.of(WEATHER)), true, Map.of());
        String header = "<|start_header_id|>";
        assertTrue(prompt.startsWith("<|begin_of_text|>" + header + "system<|end_header_id|>\n\nYou are terse.\n\n"
                + ToolPrompt.FALLBACK_INTRO + "\n{\"type\":\"function\",\"function\":{\"name\":\"get_weather\""), prompt);
        assertTrue(prompt.contains(ToolPrompt.FALLBACK_CALL_FORMAT + "<|eot_id|>"), prompt);
        assertTrue(prompt.contains(header + "assistant<|end_header_id|>\n\n<tool_call>\n{\"name\":\"get_weather\",\"arguments\":"
                + "{\"city\":\"Paris\"}}\n</tool_call><|eot_id|>"), prompt);
        assertTrue(prompt.contains(header + "user<|end_header_id|>\n\n<tool_response>\n22 C, sunny\n</tool_response><|eot_id|>"), prompt);
    }

    @Test
    void withoutASystemMessageTheFallbackAddsOne() {
        List<Map<String, Object>> messages = ToolPrompt.fallbackMessages(List.of(new Message(Message.USER, "Hi")), List.of(WEATHER));
        assertEquals(2, messages.size());
        assertEquals("system", messages.get(0).get("role"));
        assertTrue(((String) messages.get(0).get("content")).startsWith(ToolPrompt.FALLBACK_INTRO));
        assertEquals(Map.of("role", "user", "content", "Hi"), messages.get(1));
    }
}
