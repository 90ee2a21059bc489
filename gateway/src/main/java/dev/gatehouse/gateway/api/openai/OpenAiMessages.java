package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.ToolCall;

import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * OpenAI's {@code messages} -> the internal conversation: text and image content parts, assistant
 * turns with {@code tool_calls} (content null when they only call tools), {@code tool} turns
 * answering an earlier call by {@code tool_call_id}, and the legacy {@code function_call} /
 * {@code function} role, which become tool calls with ids of Gatehouse's making. Each mistake is a
 * 400 naming the exact param ({@code messages[3].content[0]}).
 */
final class OpenAiMessages {
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool", "function");
    private static final Set<String> DETAILS = Set.of("auto", "low", "high");
    private static final Pattern DATA_URI = Pattern.compile("data:([\\w.+-]+/[\\w.+-]+);base64,(.*)", Pattern.DOTALL);

    private OpenAiMessages() {}

    static List<Message> decode(JsonNode node) {
        if (node == null) {
            throw ApiException.invalid("messages", "Missing required parameter: 'messages'.");
        }
        if (!node.isArray()) {
            throw RequestReader.wrongType("messages", "an array");
        }
        if (node.isEmpty()) {
            throw ApiException.invalid("messages", "'messages' must contain at least one message.");
        }
        List<Message> out = new ArrayList<>();
        Set<String> callIds = new HashSet<>();
        Map<String, String> lastCallByName = new HashMap<>(); // legacy function results name the function, not the call
        for (int i = 0; i < node.size(); i++) {
            String where = "messages[" + i + "]";
            JsonNode m = node.get(i);
            if (!m.isObject()) {
                throw RequestReader.wrongType(where, "an object");
            }
            JsonNode roleNode = m.get("role");
            if (roleNode == null || !roleNode.isTextual()) {
                throw ApiException.invalid(where + ".role", "Missing required parameter: '" + where + ".role'.");
            }
            String role = roleNode.asText();
            if (!ROLES.contains(role)) {
                throw ApiException.invalid(where + ".role", "Invalid value for '" + where + ".role': '" + role
                        + "'. Supported values are: 'system', 'developer', 'user', 'assistant' and 'tool'.");
            }
            RequestReader r = RequestReader.at(m, where);
            switch (role) {
                case "assistant" -> {
                    List<ToolCall> calls = toolCalls(r, where, i);
                    List<ContentPart> content = m.hasNonNull("content") || calls.isEmpty()
                            ? content(m.get("content"), where + ".content", false) : List.of();
                    calls.forEach(c -> {
                        callIds.add(c.id());
                        lastCallByName.put(c.name(), c.id());
                    });
                    out.add(new Message(Message.ASSISTANT, content, calls, null));
                }
                case "tool" -> {
                    String id = r.requiredString("tool_call_id");
                    if (!callIds.contains(id)) {
                        throw ApiException.invalid(where + ".tool_call_id", "'" + where + ".tool_call_id' does not match "
                                + "the id of any tool call in an earlier assistant message.");
                    }
                    out.add(new Message(Message.TOOL, content(m.get("content"), where + ".content", false), List.of(), id));
                }
                case "function" -> { // legacy: the result of the last call of the function with this name
                    String name = r.requiredString("name");
                    String id = lastCallByName.get(name);
                    if (id == null) {
                        throw ApiException.invalid(where + ".name", "'" + where + ".name' does not match the name of "
                                + "any function called in an earlier assistant message.");
                    }
                    out.add(new Message(Message.TOOL, content(m.get("content"), where + ".content", false), List.of(), id));
                }
                // "developer" is the newer name OpenAI gives the system role
                case "system", "developer" -> out.add(new Message(Message.SYSTEM, content(m.get("content"), where + ".content", false),
                        List.of(), null));
                default -> out.add(new Message(Message.USER, content(m.get("content"), where + ".content", true), List.of(), null));
            }
        }
        return out;
    }

    /** {@code tool_calls}, or the legacy {@code function_call}, of an assistant turn. */
    private static List<ToolCall> toolCalls(RequestReader r, String where, int turn) {
        List<ToolCall> calls = new ArrayList<>();
        JsonNode list = r.node("tool_calls");
        if (list != null) {
            if (!list.isArray()) {
                throw RequestReader.wrongType(where + ".tool_calls", "an array");
            }
            for (int j = 0; j < list.size(); j++) {
                String at = where + ".tool_calls[" + j + "]";
                RequestReader call = RequestReader.at(list.get(j), at);
                String type = call.string("type", "function");
                if (!type.equals("function")) {
                    throw ApiException.invalid(at + ".type", "Invalid value for '" + at + ".type': only 'function' is supported.");
                }
                RequestReader function = RequestReader.at(list.get(j).get("function"), at + ".function");
                calls.add(new ToolCall(call.requiredString("id"), function.requiredString("name"),
                        function.string("arguments", "")));
            }
        }
        RequestReader legacy = r.object("function_call");
        if (legacy != null) { // Gatehouse's own id, so the function's result can refer to it
            calls.add(new ToolCall("call_legacy_" + turn, legacy.requiredString("name"), legacy.string("arguments", "")));
        }
        return calls;
    }

    /** A string, or a list of content parts: text always, images only where {@code images} (user turns). */
    private static List<ContentPart> content(JsonNode c, String where, boolean images) {
        if (c == null || c.isNull()) {
            throw ApiException.invalid(where, "Missing required parameter: '" + where + "'.");
        }
        if (c.isTextual()) {
            return List.of(new ContentPart.Text(c.asText()));
        }
        if (!c.isArray()) {
            throw RequestReader.wrongType(where, "a string or an array of content parts");
        }
        List<ContentPart> parts = new ArrayList<>();
        for (int j = 0; j < c.size(); j++) {
            String at = where + "[" + j + "]";
            JsonNode part = c.get(j);
            String type = part.path("type").asText("");
            if (type.equals("text")) {
                if (!part.path("text").isTextual()) {
                    throw RequestReader.wrongType(at + ".text", "a string");
                }
                parts.add(new ContentPart.Text(part.get("text").asText()));
            } else if (type.equals("image_url") && images) {
                parts.add(image(part.get("image_url"), at));
            } else {
                throw ApiException.invalid(at, "Content part type '" + type + "' is not supported here; "
                        + (images ? "'text' and 'image_url' parts are." : "only 'text' parts are."));
            }
        }
        return parts;
    }

    /** {@code image_url}: {"url": ..., "detail": ...} or the bare URL; a data URI must hold base64. */
    private static ContentPart.Image image(JsonNode node, String where) {
        String url;
        String detail = null;
        if (node != null && node.isTextual()) {
            url = node.asText();
        } else {
            RequestReader r = RequestReader.at(node, where + ".image_url");
            url = r.requiredString("url");
            detail = r.string("detail", null);
            if (detail != null && !DETAILS.contains(detail)) {
                throw ApiException.invalid(where + ".image_url.detail", "Invalid value for '" + where
                        + ".image_url.detail': '" + detail + "'. Supported values are: 'auto', 'low' and 'high'.");
            }
        }
        if (url.startsWith("data:")) {
            var match = DATA_URI.matcher(url);
            if (!match.matches() || !base64(match.group(2))) {
                throw ApiException.invalid(where, "The image at '" + where + "' is a data URI but not "
                        + "'data:<media type>;base64,<base64 data>'.");
            }
        } else if (!url.startsWith("https://") && !url.startsWith("http://")) {
            throw ApiException.invalid(where, "The image at '" + where + "' must be an http(s) URL or a base64 data URI.");
        }
        return new ContentPart.Image(url, detail);
    }

    private static boolean base64(String data) {
        try {
            Base64.getDecoder().decode(data);
            return !data.isEmpty();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
