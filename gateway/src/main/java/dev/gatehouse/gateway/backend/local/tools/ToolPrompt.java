package dev.gatehouse.gateway.backend.local.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolCall;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A conversation as a chat template's context: {@code messages} as transformers passes them (tool
 * calls with their arguments as a JSON object, tool results with their call id) and {@code tools}.
 *
 * <p>A template without tool support (it never reads {@code tools}) gets the fallback instead: the
 * tools' JSON schemas and the Hermes call format in the system message, earlier calls written into
 * the assistant's text as {@code <tool_call>} blocks and results as user turns in
 * {@code <tool_response>} blocks, so any template can render it.
 */
public final class ToolPrompt {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};

    /** The system text of the fallback; the tools' schemas follow it, one JSON object a line. */
    static final String FALLBACK_INTRO = "You may call one or more functions to assist with the user query.\n\n"
            + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
    static final String FALLBACK_CALL_FORMAT = "</tools>\n\nFor each function call, return a json object with function"
            + " name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
            + "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>";

    private ToolPrompt() {}

    /** Whether a template reads the {@code tools} variable, i.e. renders tool definitions itself. */
    public static boolean templateHasTools(String template) {
        return template != null && template.contains("tools");
    }

    /** {@code tools} for the template: {@code {"type": "function", "function": {name, description, parameters}}} each; null when none. */
    public static List<Map<String, Object>> tools(List<Tool> tools) {
        if (tools.isEmpty()) {
            return null;
        }
        return tools.stream().map(ToolPrompt::tool).toList();
    }

    private static Map<String, Object> tool(Tool t) {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", t.name());
        if (t.description() != null) {
            function.put("description", t.description());
        }
        if (t.parameters() != null) {
            function.put("parameters", JSON.convertValue(t.parameters(), MAP));
        }
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", function);
        return tool;
    }

    /** The messages as the template reads them, calls and results included. */
    public static List<Map<String, Object>> messages(List<Message> messages) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Message m : messages) {
            Map<String, Object> map = new LinkedHashMap<>(); // role first, as in Python's dict
            map.put("role", m.role());
            // "" for an assistant turn that only calls tools, not null: jinjava writes a null as "null"
            map.put("content", m.text());
            if (!m.toolCalls().isEmpty()) {
                map.put("tool_calls", m.toolCalls().stream().map(ToolPrompt::call).toList());
            }
            if (m.toolCallId() != null) {
                map.put("tool_call_id", m.toolCallId());
            }
            out.add(map);
        }
        return out;
    }

    private static Map<String, Object> call(ToolCall c) {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", c.name());
        function.put("arguments", arguments(c.arguments()));
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("id", c.id());
        call.put("type", "function");
        call.put("function", function);
        return call;
    }

    /** Arguments as an object, as transformers' templates expect (they write it with tojson); text when not one. */
    private static Object arguments(String json) {
        try {
            JsonNode node = JSON.readTree(json);
            return node != null && node.isObject() ? JSON.convertValue(node, MAP) : json;
        } catch (JsonProcessingException e) {
            return json;
        }
    }

    /** The fallback conversation for a template without tool support; see the class comment. */
    public static List<Map<String, Object>> fallbackMessages(List<Message> messages, List<Tool> tools) {
        List<Map<String, Object>> out = new ArrayList<>();
        String toolsText = tools.isEmpty() ? null : fallbackSystemText(tools);
        for (Message m : messages) {
            if (toolsText != null && Message.SYSTEM.equals(m.role())) { // the first system turn carries them
                out.add(plain(Message.SYSTEM, m.text() + "\n\n" + toolsText));
                toolsText = null;
            } else if (!m.toolCalls().isEmpty()) {
                StringBuilder text = new StringBuilder(m.text());
                for (ToolCall c : m.toolCalls()) {
                    text.append(text.isEmpty() ? "" : "\n").append("<tool_call>\n").append(callJson(c.name(), c.arguments()))
                            .append("\n</tool_call>");
                }
                out.add(plain(Message.ASSISTANT, text.toString()));
            } else if (Message.TOOL.equals(m.role())) {
                out.add(plain(Message.USER, "<tool_response>\n" + m.text() + "\n</tool_response>"));
            } else {
                out.add(plain(m.role(), m.text()));
            }
        }
        if (toolsText != null) {
            out.addFirst(plain(Message.SYSTEM, toolsText));
        }
        return out;
    }

    private static String fallbackSystemText(List<Tool> tools) {
        StringBuilder text = new StringBuilder(FALLBACK_INTRO);
        for (Map<String, Object> t : tools(tools)) {
            text.append('\n').append(write(t));
        }
        return text.append('\n').append(FALLBACK_CALL_FORMAT).toString();
    }

    private static String callJson(String name, String arguments) {
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("name", name);
        call.put("arguments", arguments(arguments));
        return write(call);
    }

    private static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // maps of JSON values always write
        }
    }

    private static Map<String, Object> plain(String role, String content) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("role", role);
        map.put("content", content);
        return map;
    }
}
