package dev.gatehouse.gateway.api.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.api.Untranslated;
import dev.gatehouse.gateway.api.openai.RequestReader;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.OriginalRequest;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolCall;
import dev.gatehouse.gateway.chat.ToolChoice;
import dev.gatehouse.serving.sample.SamplingParams;

import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decodes a Messages API body (POST /v1/messages) into the internal {@link ChatRequest}: the system
 * prompt, text / image / tool_use / tool_result blocks, tools with input_schema, tool_choice and the
 * sampling fields. A user turn's tool_result blocks become tool turns (in their order), its other
 * blocks a user turn after them. Each mistake is a 400 naming the field ({@code messages[2].content[0]}).
 *
 * <p>The body itself travels with the request ({@link OriginalRequest}), so an Anthropic target gets
 * it field for field. What only Anthropic can serve (extended {@code thinking}, server tools,
 * documents, ...) is accepted and marks the request {@code untranslated}: other targets refuse it
 * naming the field. Thinking blocks of earlier turns are Claude's own notes: other targets get the
 * turn without them.
 */
final class AnthropicRequests {
    /** Fields that change what the model must do and that only Anthropic itself serves. */
    private static final List<String> ANTHROPIC_ONLY = List.of("thinking", "container", "mcp_servers", "context_management");
    /** Blocks the internal form has no word for, which only Anthropic itself serves. */
    private static final Set<String> ANTHROPIC_ONLY_BLOCKS = Set.of("document", "search_result", "container_upload",
            "server_tool_use", "web_search_tool_result", "web_fetch_tool_result", "code_execution_tool_result",
            "bash_code_execution_tool_result", "text_editor_code_execution_tool_result", "mcp_tool_use", "mcp_tool_result");
    /** Claude's notes of an earlier turn: sent back to Anthropic, left out for other models. */
    private static final Set<String> THINKING_BLOCKS = Set.of("thinking", "redacted_thinking");
    private static final Pattern TOOL_NAME = Pattern.compile("[a-zA-Z0-9_-]{1,128}");
    private static final Pattern MEDIA_TYPE = Pattern.compile("image/(jpeg|png|gif|webp)");
    static final int MAX_TOOLS = 128;

    private AnthropicRequests() {}

    /**
     * A /v1/messages body; {@code countOnly} (count_tokens) needs no max_tokens. {@code headers}: the
     * client's anthropic-version and anthropic-beta, for an Anthropic target.
     */
    static ChatRequest decode(JsonNode body, boolean countOnly, Map<String, String> headers) {
        RequestReader r = new RequestReader(body);
        Untranslated untranslated = new Untranslated();
        for (String field : ANTHROPIC_ONLY) {
            JsonNode value = r.node(field);
            if (value != null && !(field.equals("thinking") && value.path("type").asText().equals("disabled"))) {
                untranslated.mark(field);
            }
        }
        String model = r.requiredString("model");
        Integer maxTokens = r.integer("max_tokens", null);
        if (maxTokens == null && !countOnly) {
            throw ApiException.invalid("max_tokens", "max_tokens: Field required.");
        }
        if (maxTokens != null && maxTokens < 1) {
            throw ApiException.invalid("max_tokens", "max_tokens: must be at least 1, got " + maxTokens + ".");
        }
        List<Message> messages = new ArrayList<>(system(r.node("system")));
        messages.addAll(messages(r.node("messages"), untranslated));
        List<Tool> tools = tools(r.node("tools"), untranslated);
        RequestReader choice = r.object("tool_choice");
        ToolChoice toolChoice = toolChoice(choice, tools);
        Boolean parallel = choice != null && choice.bool("disable_parallel_tool_use", false) ? Boolean.FALSE : null;
        List<String> stop = r.strings("stop_sequences");
        if (stop.stream().anyMatch(String::isEmpty)) {
            throw ApiException.invalid("stop_sequences", "stop_sequences: a stop sequence must not be empty.");
        }
        float temperature = r.number("temperature", 1f);
        if (temperature < 0 || temperature > 1) { // Anthropic's range, narrower than OpenAI's
            throw ApiException.invalid("temperature", "temperature: must be between 0 and 1, got " + temperature + ".");
        }
        ChatRequest.Sampling sampling = new ChatRequest.Sampling(temperature, r.number("top_p", 1f),
                r.integer("top_k", 0), 0f, 1f, 0f, 0f, null, stop, false, 0);
        validate(sampling);
        RequestReader metadata = r.object("metadata");
        String user = metadata == null ? null : metadata.string("user_id", null);
        OriginalRequest original = new OriginalRequest(OriginalRequest.Dialect.ANTHROPIC_MESSAGES, (ObjectNode) body,
                headers, untranslated.field());
        return new ChatRequest(model, messages, null, maxTokens, sampling, 1, false, r.bool("stream", false), true, user,
                tools, toolChoice, parallel, null, null, original);
    }

    /** {@code system}: a string or a list of text blocks; none when absent. */
    private static List<Message> system(JsonNode system) {
        if (system == null) {
            return List.of();
        }
        if (system.isTextual()) {
            return system.asText().isEmpty() ? List.of() : List.of(new Message(Message.SYSTEM, system.asText()));
        }
        if (!system.isArray()) {
            throw RequestReader.wrongType("system", "a string or an array of text blocks");
        }
        List<ContentPart> parts = new ArrayList<>();
        for (int i = 0; i < system.size(); i++) {
            String where = "system[" + i + "]";
            RequestReader block = RequestReader.at(system.get(i), where);
            if (!block.requiredString("type").equals("text")) {
                throw ApiException.invalid(where + ".type", where + ".type: only 'text' blocks are allowed in system.");
            }
            parts.add(new ContentPart.Text(block.string("text", "")));
        }
        return List.of(new Message(Message.SYSTEM, parts, List.of(), null));
    }

    private static List<Message> messages(JsonNode list, Untranslated untranslated) {
        if (list == null) {
            throw ApiException.invalid("messages", "messages: Field required.");
        }
        if (!list.isArray()) {
            throw RequestReader.wrongType("messages", "an array");
        }
        if (list.isEmpty()) {
            throw ApiException.invalid("messages", "messages: at least one message is required.");
        }
        List<Message> out = new ArrayList<>();
        Set<String> toolUseIds = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String where = "messages[" + i + "]";
            RequestReader m = RequestReader.at(list.get(i), where);
            String role = m.requiredString("role");
            JsonNode content = m.node("content");
            if (content == null) {
                throw ApiException.invalid(where + ".content", where + ".content: Field required.");
            }
            switch (role) {
                case "user" -> userTurn(content, where + ".content", toolUseIds, out, untranslated);
                case "assistant" -> out.add(assistantTurn(content, where + ".content", toolUseIds, untranslated));
                default -> throw ApiException.invalid(where + ".role", where + ".role: must be 'user' or 'assistant', got '"
                        + clip(role) + "'.");
            }
        }
        return out;
    }

    /** A user turn: its tool_result blocks become tool turns, the rest one user turn after them. */
    private static void userTurn(JsonNode content, String where, Set<String> toolUseIds, List<Message> out,
                                 Untranslated untranslated) {
        if (content.isTextual()) {
            out.add(new Message(Message.USER, content.asText()));
            return;
        }
        List<ContentPart> parts = new ArrayList<>();
        for (int j = 0; j < arrayOfBlocks(content, where).size(); j++) {
            String at = where + "[" + j + "]";
            RequestReader block = RequestReader.at(content.get(j), at);
            String type = block.requiredString("type");
            switch (type) {
                case "text" -> parts.add(text(block, at));
                case "image" -> parts.add(image(block, at));
                case "tool_result" -> {
                    String id = block.requiredString("tool_use_id");
                    if (!toolUseIds.contains(id)) {
                        throw ApiException.invalid(at + ".tool_use_id", at + ".tool_use_id: '" + clip(id)
                                + "' does not match the id of any tool_use block in an earlier assistant message.");
                    }
                    out.add(new Message(Message.TOOL, toolResult(block.node("content"), at + ".content",
                            block.bool("is_error", false), untranslated), List.of(), id));
                }
                default -> anthropicOnly(at, type, "'text', 'image' and 'tool_result'", untranslated);
            }
        }
        if (!parts.isEmpty()) {
            out.add(new Message(Message.USER, parts, List.of(), null));
        }
    }

    private static Message assistantTurn(JsonNode content, String where, Set<String> toolUseIds,
                                         Untranslated untranslated) {
        if (content.isTextual()) {
            return new Message(Message.ASSISTANT, content.asText());
        }
        List<ContentPart> parts = new ArrayList<>();
        List<ToolCall> calls = new ArrayList<>();
        for (int j = 0; j < arrayOfBlocks(content, where).size(); j++) {
            String at = where + "[" + j + "]";
            RequestReader block = RequestReader.at(content.get(j), at);
            String type = block.requiredString("type");
            switch (type) {
                case "text" -> parts.add(text(block, at));
                case "tool_use" -> {
                    String id = block.requiredString("id");
                    JsonNode input = block.node("input");
                    if (input == null || !input.isObject()) {
                        throw RequestReader.wrongType(at + ".input", "an object");
                    }
                    calls.add(new ToolCall(id, block.requiredString("name"), input.toString()));
                    toolUseIds.add(id);
                }
                default -> {
                    if (!THINKING_BLOCKS.contains(type)) {
                        anthropicOnly(at, type, "'text', 'tool_use', 'thinking' and 'redacted_thinking'", untranslated);
                    }
                }
            }
        }
        return new Message(Message.ASSISTANT, parts, calls, null);
    }

    /** A tool_result's content: a string, or text and image blocks; an error result says so to the model. */
    private static List<ContentPart> toolResult(JsonNode content, String where, boolean isError,
                                                Untranslated untranslated) {
        List<ContentPart> parts = new ArrayList<>();
        if (isError) { // the internal form has no error flag: the model reads it, as Claude would
            parts.add(new ContentPart.Text("Error: "));
        }
        if (content == null) {
            return parts;
        }
        if (content.isTextual()) {
            parts.add(new ContentPart.Text(content.asText()));
            return parts;
        }
        for (int k = 0; k < arrayOfBlocks(content, where).size(); k++) {
            String at = where + "[" + k + "]";
            RequestReader block = RequestReader.at(content.get(k), at);
            String type = block.requiredString("type");
            switch (type) {
                case "text" -> parts.add(text(block, at));
                case "image" -> parts.add(image(block, at));
                default -> anthropicOnly(at, type, "'text' and 'image'", untranslated);
            }
        }
        return parts;
    }

    private static JsonNode arrayOfBlocks(JsonNode content, String where) {
        if (!content.isArray()) {
            throw RequestReader.wrongType(where, "a string or an array of content blocks");
        }
        return content;
    }

    private static ContentPart.Text text(RequestReader block, String where) {
        String text = block.string("text", null);
        if (text == null) {
            throw ApiException.invalid(where + ".text", where + ".text: Field required.");
        }
        return new ContentPart.Text(text);
    }

    /** An image block: {@code source} base64 (as a data URI) or url. */
    private static ContentPart.Image image(RequestReader block, String where) {
        RequestReader source = block.object("source");
        if (source == null) {
            throw ApiException.invalid(where + ".source", where + ".source: Field required.");
        }
        String type = source.requiredString("type");
        switch (type) {
            case "base64" -> {
                String mediaType = source.requiredString("media_type");
                if (!MEDIA_TYPE.matcher(mediaType).matches()) {
                    throw ApiException.invalid(where + ".source.media_type", where + ".source.media_type: must be one of "
                            + "'image/jpeg', 'image/png', 'image/gif' or 'image/webp'.");
                }
                String data = source.requiredString("data");
                try {
                    Base64.getDecoder().decode(data);
                } catch (IllegalArgumentException e) {
                    throw ApiException.invalid(where + ".source.data", where + ".source.data: not valid base64.");
                }
                return new ContentPart.Image("data:" + mediaType + ";base64," + data, null);
            }
            case "url" -> {
                String url = source.requiredString("url");
                if (!url.startsWith("https://") && !url.startsWith("http://")) {
                    throw ApiException.invalid(where + ".source.url", where + ".source.url: must be an http(s) URL.");
                }
                return new ContentPart.Image(url, null);
            }
            default -> throw ApiException.invalid(where + ".source.type", where + ".source.type: must be 'base64' or 'url', got '"
                    + clip(type) + "'.");
        }
    }

    /** {@code tools}: custom tools with a name and an input_schema of type object. */
    private static List<Tool> tools(JsonNode list, Untranslated untranslated) {
        if (list == null) {
            return List.of();
        }
        if (!list.isArray()) {
            throw RequestReader.wrongType("tools", "an array");
        }
        if (list.size() > MAX_TOOLS) {
            throw ApiException.invalid("tools", "tools: at most " + MAX_TOOLS + " tools are allowed, got " + list.size() + ".");
        }
        List<Tool> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String where = "tools[" + i + "]";
            RequestReader tool = RequestReader.at(list.get(i), where);
            String type = tool.string("type", "custom");
            if (!type.equals("custom")) { // server tools (web_search, bash, ...) run at Anthropic
                untranslated.mark(where + ".type");
                continue;
            }
            String name = tool.requiredString("name");
            if (!TOOL_NAME.matcher(name).matches()) {
                throw ApiException.invalid(where + ".name", where + ".name: 1 to 128 letters, digits, underscores and dashes.");
            }
            if (!names.add(name)) {
                throw ApiException.invalid(where + ".name", where + ".name: tool names must be unique ('" + name + "').");
            }
            JsonNode schema = tool.node("input_schema");
            if (schema == null) {
                throw ApiException.invalid(where + ".input_schema", where + ".input_schema: Field required.");
            }
            if (!schema.isObject() || !schema.path("type").asText("").equals("object")) {
                throw ApiException.invalid(where + ".input_schema", where + ".input_schema: must be a JSON schema of "
                        + "\"type\": \"object\".");
            }
            out.add(new Tool(name, tool.string("description", null), schema, null));
        }
        return out;
    }

    /** {@code tool_choice}: {type: auto | any | tool (with name) | none}; null when absent. */
    private static ToolChoice toolChoice(RequestReader choice, List<Tool> tools) {
        if (choice == null) {
            return null;
        }
        String type = choice.requiredString("type");
        ToolChoice out = switch (type) {
            case "auto" -> ToolChoice.AUTO;
            case "any" -> ToolChoice.REQUIRED;
            case "none" -> ToolChoice.NONE;
            case "tool" -> ToolChoice.named(choice.requiredString("name"));
            default -> throw ApiException.invalid("tool_choice.type", "tool_choice.type: must be 'auto', 'any', 'tool' or "
                    + "'none', got '" + clip(type) + "'.");
        };
        if ((out.mode() == ToolChoice.Mode.REQUIRED || out.mode() == ToolChoice.Mode.NAMED) && tools.isEmpty()) {
            throw ApiException.invalid("tool_choice", "tool_choice: asks for a tool call, but the request has no tools.");
        }
        if (out.mode() == ToolChoice.Mode.NAMED && tools.stream().noneMatch(t -> t.name().equals(out.name()))) {
            throw ApiException.invalid("tool_choice.name", "tool_choice.name: '" + clip(out.name()) + "' is not in tools.");
        }
        return out;
    }

    /** The engine's own checks, run now so the client hears about the field before anything is queued. */
    private static void validate(ChatRequest.Sampling s) {
        try {
            new SamplingParams(s.temperature(), s.topK(), s.topP(), s.minP(), s.repetitionPenalty(), s.presencePenalty(),
                    s.frequencyPenalty(), s.seed(), 1, s.stop(), false, 0, false).validate();
        } catch (IllegalArgumentException e) {
            String param = e.getMessage().split(" ", 2)[0];
            String field = param.equals("stop") ? "stop_sequences" : param;
            throw ApiException.invalid(field, field + ": " + e.getMessage().substring(param.length()).trim() + ".");
        }
    }

    /** A block only Anthropic serves marks the request; any other unknown type is the client's mistake. */
    private static void anthropicOnly(String where, String type, String allowed, Untranslated untranslated) {
        if (!ANTHROPIC_ONLY_BLOCKS.contains(type)) {
            throw unknownBlock(where, type, allowed);
        }
        untranslated.mark(where + ".type");
    }

    private static ApiException unknownBlock(String where, String type, String allowed) {
        return ApiException.invalid(where + ".type", where + ".type: unknown block type '" + clip(type) + "'; " + allowed
                + " blocks are supported here.");
    }

    /** A client's string as it may appear in an error message: never more than 64 characters of it. */
    private static String clip(String s) {
        return s.length() > 64 ? s.substring(0, 64) + "..." : s;
    }
}
