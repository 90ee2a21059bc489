package dev.gatehouse.gateway.api.responses;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.api.Untranslated;
import dev.gatehouse.gateway.api.openai.RequestReader;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.OriginalRequest;
import dev.gatehouse.gateway.chat.ResponseFormat;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolCall;
import dev.gatehouse.gateway.chat.ToolChoice;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decodes a Responses API body (POST /v1/responses, stateless) into the internal {@link ChatRequest}:
 * {@code instructions} as the system turn, {@code input} as a string or a list of items (messages
 * with input_text / input_image / output_text parts, function_call and function_call_output items),
 * function tools, tool_choice and text.format. Gatehouse keeps no responses, so
 * {@code previous_response_id} and stored conversations are refused. Each mistake is a 400 naming the
 * field ({@code input[2].type}).
 *
 * <p>The body itself travels with the request ({@link OriginalRequest}), so an OpenAI target with the
 * Responses API gets it unchanged. Built-in tools and the items they leave in a conversation are
 * accepted and mark the request {@code untranslated}: other targets refuse it naming the field.
 * Reasoning items of earlier turns are the model's own notes: other targets get the turn without them.
 */
final class ResponsesRequests {
    /** Fields that need server-side state or features Gatehouse does not have: refused, never dropped. */
    private static final List<String> UNSUPPORTED = List.of("previous_response_id", "conversation", "prompt");
    private static final Set<String> ROLES = Set.of("user", "assistant", "system", "developer");
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    private static final int MAX_TOOLS = 128;
    /** Input items that built-in tools and stored items leave, which only OpenAI's Responses API serves. */
    private static final Set<String> OPENAI_ONLY_ITEMS = Set.of("item_reference", "web_search_call", "file_search_call",
            "computer_call", "computer_call_output", "code_interpreter_call", "image_generation_call", "local_shell_call",
            "local_shell_call_output", "mcp_call", "mcp_list_tools", "mcp_approval_request", "mcp_approval_response",
            "custom_tool_call", "custom_tool_call_output");

    private ResponsesRequests() {}

    static ChatRequest decode(JsonNode body) {
        RequestReader r = new RequestReader(body);
        for (String field : UNSUPPORTED) {
            if (r.node(field) != null) {
                throw ApiException.invalid(field, "'" + field + "' is not supported: Gatehouse serves the Responses API "
                        + "statelessly (store: false); send the whole conversation as 'input' instead.");
            }
        }
        if (r.bool("background", false)) {
            throw ApiException.invalid("background", "'background' is not supported: Gatehouse keeps no responses.");
        }
        String model = r.requiredString("model");
        List<Message> messages = new ArrayList<>();
        String instructions = r.string("instructions", null);
        if (instructions != null && !instructions.isEmpty()) {
            messages.add(new Message(Message.SYSTEM, instructions));
        }
        Untranslated untranslated = new Untranslated();
        messages.addAll(input(r.node("input"), untranslated));
        List<Tool> tools = tools(r.node("tools"), untranslated);
        ToolChoice toolChoice = toolChoice(r.node("tool_choice"), tools);
        Boolean parallel = r.node("parallel_tool_calls") == null ? null : r.bool("parallel_tool_calls", true);
        RequestReader text = r.object("text");
        ResponseFormat format = text == null ? null : format(text.object("format"));
        Integer maxTokens = r.integer("max_output_tokens", null);
        if (maxTokens != null && maxTokens < 1) {
            throw ApiException.invalid("max_output_tokens", "'max_output_tokens' must be at least 1, got " + maxTokens + ".");
        }
        float temperature = r.number("temperature", 1f);
        if (temperature < 0 || temperature > 2) {
            throw ApiException.invalid("temperature", "'temperature' must be between 0 and 2, got " + temperature + ".");
        }
        float topP = r.number("top_p", 1f);
        if (topP <= 0 || topP > 1) {
            throw ApiException.invalid("top_p", "'top_p' must be greater than 0 and at most 1, got " + topP + ".");
        }
        ChatRequest.Sampling sampling = new ChatRequest.Sampling(temperature, topP, 0, 0f, 1f, 0f, 0f, null, List.of(),
                false, 0);
        OriginalRequest original = new OriginalRequest(OriginalRequest.Dialect.OPENAI_RESPONSES, (ObjectNode) body, Map.of(),
                untranslated.field());
        return new ChatRequest(model, messages, null, maxTokens, sampling, 1, false, r.bool("stream", false), true,
                r.string("user", null), tools, toolChoice, parallel, format, null, original);
    }

    private static List<Message> input(JsonNode input, Untranslated untranslated) {
        if (input == null) {
            throw ApiException.invalid("input", "Missing required parameter: 'input'.");
        }
        if (input.isTextual()) {
            return List.of(new Message(Message.USER, input.asText()));
        }
        if (!input.isArray()) {
            throw RequestReader.wrongType("input", "a string or an array of input items");
        }
        if (input.isEmpty()) {
            throw ApiException.invalid("input", "'input' must contain at least one item.");
        }
        List<Message> out = new ArrayList<>();
        Set<String> callIds = new HashSet<>();
        for (int i = 0; i < input.size(); i++) {
            String where = "input[" + i + "]";
            RequestReader item = RequestReader.at(input.get(i), where);
            String type = item.string("type", item.node("role") != null ? "message" : null); // easy input messages have no type
            if (type == null) {
                throw ApiException.invalid(where + ".type", "Missing required parameter: '" + where + ".type'.");
            }
            switch (type) {
                case "message" -> out.add(message(item, input.get(i), where));
                case "function_call" -> {
                    ToolCall call = new ToolCall(item.requiredString("call_id"), item.requiredString("name"),
                            item.string("arguments", ""));
                    callIds.add(call.id());
                    Message last = out.isEmpty() ? null : out.getLast();
                    if (last != null && last.role().equals(Message.ASSISTANT)) { // one assistant turn: its text and calls
                        List<ToolCall> calls = new ArrayList<>(last.toolCalls());
                        calls.add(call);
                        out.set(out.size() - 1, new Message(Message.ASSISTANT, last.content(), calls, null));
                    } else {
                        out.add(new Message(Message.ASSISTANT, List.of(), List.of(call), null));
                    }
                }
                case "function_call_output" -> {
                    String id = item.requiredString("call_id");
                    if (!callIds.contains(id)) {
                        throw ApiException.invalid(where + ".call_id", "'" + where + ".call_id' does not match the call_id "
                                + "of any function_call item before it.");
                    }
                    JsonNode output = item.node("output");
                    List<ContentPart> content = output != null && output.isArray()
                            ? parts(output, where + ".output") : List.of(new ContentPart.Text(item.string("output", "")));
                    out.add(new Message(Message.TOOL, content, List.of(), id));
                }
                case "reasoning" -> { } // the model's notes of an earlier turn: OpenAI gets them, others need not
                default -> {
                    if (!OPENAI_ONLY_ITEMS.contains(type)) {
                        throw ApiException.invalid(where + ".type", "Invalid value for '" + where + ".type': '" + clip(type)
                                + "'. Supported values are: 'message', 'function_call', 'function_call_output' and "
                                + "'reasoning', and OpenAI's built-in tools' items for OpenAI targets.");
                    }
                    untranslated.mark(where + ".type");
                }
            }
        }
        return out;
    }

    private static Message message(RequestReader item, JsonNode node, String where) {
        String role = item.requiredString("role");
        if (!ROLES.contains(role)) {
            throw ApiException.invalid(where + ".role", "Invalid value for '" + where + ".role': '" + clip(role)
                    + "'. Supported values are: 'user', 'assistant', 'system' and 'developer'.");
        }
        JsonNode content = node.get("content");
        if (content == null || content.isNull()) {
            throw ApiException.invalid(where + ".content", "Missing required parameter: '" + where + ".content'.");
        }
        List<ContentPart> parts = content.isTextual() ? List.of(new ContentPart.Text(content.asText()))
                : parts(content, where + ".content");
        String internal = switch (role) {
            case "assistant" -> Message.ASSISTANT;
            case "system", "developer" -> Message.SYSTEM;
            default -> Message.USER;
        };
        return new Message(internal, parts, List.of(), null);
    }

    /** input_text, output_text (an earlier answer) and input_image parts. */
    private static List<ContentPart> parts(JsonNode content, String where) {
        if (!content.isArray()) {
            throw RequestReader.wrongType(where, "a string or an array of content parts");
        }
        List<ContentPart> out = new ArrayList<>();
        for (int j = 0; j < content.size(); j++) {
            String at = where + "[" + j + "]";
            RequestReader part = RequestReader.at(content.get(j), at);
            String type = part.requiredString("type");
            switch (type) {
                case "input_text", "output_text" -> out.add(new ContentPart.Text(part.string("text", "")));
                case "input_image" -> {
                    String url = part.string("image_url", null);
                    if (url == null) {
                        throw ApiException.invalid(at + ".image_url", "'" + at + ".image_url' is required: Gatehouse has "
                                + "no file store for 'file_id'.");
                    }
                    if (!url.startsWith("https://") && !url.startsWith("http://") && !url.matches("(?s)data:[\\w.+-]+/[\\w.+-]+;base64,.+")) {
                        throw ApiException.invalid(at + ".image_url", "'" + at + ".image_url' must be an http(s) URL or a "
                                + "base64 data URI.");
                    }
                    String detail = part.string("detail", null);
                    out.add(new ContentPart.Image(url, detail));
                }
                default -> throw ApiException.invalid(at + ".type", "Invalid value for '" + at + ".type': '" + clip(type)
                        + "'. Supported values are: 'input_text', 'input_image' and 'output_text'.");
            }
        }
        return out;
    }

    /** Function tools: {type: function, name, description, parameters, strict}. */
    private static List<Tool> tools(JsonNode list, Untranslated untranslated) {
        if (list == null) {
            return List.of();
        }
        if (!list.isArray()) {
            throw RequestReader.wrongType("tools", "an array");
        }
        if (list.size() > MAX_TOOLS) {
            throw ApiException.invalid("tools", "'tools' has " + list.size() + " items; at most " + MAX_TOOLS + " are allowed.");
        }
        List<Tool> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String where = "tools[" + i + "]";
            RequestReader tool = RequestReader.at(list.get(i), where);
            String type = tool.requiredString("type");
            if (!type.equals("function")) { // built-in tools (web_search, file_search, ...) run at OpenAI
                untranslated.mark(where + ".type");
                continue;
            }
            String name = tool.requiredString("name");
            if (!NAME.matcher(name).matches() || !names.add(name)) {
                throw ApiException.invalid(where + ".name", "Invalid '" + where + ".name': function names are unique, 1 to 64 "
                        + "letters, digits, underscores and dashes.");
            }
            JsonNode parameters = tool.node("parameters");
            if (parameters != null && (!parameters.isObject() || parameters.has("type")
                    && !parameters.path("type").asText("").equals("object"))) {
                throw ApiException.invalid(where + ".parameters", "Invalid schema for '" + where + ".parameters': it must be "
                        + "a JSON schema of \"type\": \"object\".");
            }
            if (parameters == null) {
                parameters = JsonNodeFactory.instance.objectNode().put("type", "object");
            }
            out.add(new Tool(name, tool.string("description", null), parameters,
                    tool.node("strict") == null ? null : tool.bool("strict", false)));
        }
        return out;
    }

    /** "none" | "auto" | "required" | {type: function, name}; null when absent. */
    private static ToolChoice toolChoice(JsonNode choice, List<Tool> tools) {
        if (choice == null) {
            return null;
        }
        ToolChoice out;
        if (choice.isTextual()) {
            out = switch (choice.asText()) {
                case "none" -> ToolChoice.NONE;
                case "auto" -> ToolChoice.AUTO;
                case "required" -> ToolChoice.REQUIRED;
                default -> throw ApiException.invalid("tool_choice", "Invalid value for 'tool_choice': '" + clip(choice.asText())
                        + "'. Supported values are: 'none', 'auto', 'required' or a named function.");
            };
        } else {
            RequestReader named = RequestReader.at(choice, "tool_choice");
            if (!named.requiredString("type").equals("function")) {
                throw ApiException.invalid("tool_choice.type", "Invalid value for 'tool_choice.type': only 'function' is supported.");
            }
            out = ToolChoice.named(named.requiredString("name"));
        }
        if (out.mode() != ToolChoice.Mode.NONE && out.mode() != ToolChoice.Mode.AUTO && tools.isEmpty()) {
            throw ApiException.invalid("tool_choice", "'tool_choice' asks for a tool call, but the request has no 'tools'.");
        }
        if (out.mode() == ToolChoice.Mode.NAMED && tools.stream().noneMatch(t -> t.name().equals(out.name()))) {
            throw ApiException.invalid("tool_choice", "'tool_choice' names the function '" + clip(out.name())
                    + "', which is not in 'tools'.");
        }
        return out;
    }

    /** text.format: {type: text | json_object | json_schema (with name, schema, description, strict)}; null for text. */
    private static ResponseFormat format(RequestReader format) {
        if (format == null) {
            return null;
        }
        String type = format.requiredString("type");
        return switch (type) {
            case "text" -> null;
            case "json_object" -> ResponseFormat.JSON_OBJECT;
            case "json_schema" -> {
                String name = format.requiredString("name");
                if (!NAME.matcher(name).matches()) {
                    throw ApiException.invalid("text.format.name", "Invalid 'text.format.name': 1 to 64 letters, digits, "
                            + "underscores and dashes.");
                }
                JsonNode schema = format.node("schema");
                if (schema == null || !schema.isObject()) {
                    throw ApiException.invalid("text.format.schema", "'text.format.schema' must be a JSON schema object.");
                }
                yield new ResponseFormat(ResponseFormat.Type.JSON_SCHEMA, name, format.string("description", null), schema,
                        format.node("strict") == null ? null : format.bool("strict", false));
            }
            default -> throw ApiException.invalid("text.format.type", "Invalid value for 'text.format.type': '" + clip(type)
                    + "'. Supported values are: 'text', 'json_object' and 'json_schema'.");
        };
    }

    private static String clip(String s) {
        return s.length() > 64 ? s.substring(0, 64) + "..." : s;
    }
}
