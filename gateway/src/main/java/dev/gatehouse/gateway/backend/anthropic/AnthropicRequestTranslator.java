package dev.gatehouse.gateway.backend.anthropic;

import dev.gatehouse.gateway.backend.ToolArguments;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.ResponseFormat;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolCall;


/**
 * ChatRequest -> the body of Anthropic's POST /v1/messages: system messages go to the top-level
 * {@code system}, max_tokens is required, stop becomes stop_sequences. Tools become
 * {@code tools[{name, description, input_schema}]} and tool_choice auto/required/named/none
 * {@code auto}/{@code any}/{@code tool}/{@code none}; assistant tool calls become {@code tool_use}
 * blocks and tool results {@code tool_result} blocks of one user turn (consecutive results merged,
 * as Anthropic requires); images become {@code image} blocks (base64 from data URIs, url sources
 * for URLs). A json_schema response format becomes a forced tool whose input is the schema
 * named as the schema ({@link #formatTool}); its input is unwrapped back into the answer's text. What Messages cannot
 * do (n > 1, seed, penalties, logprobs, temperature above 1, raw prompts, json_object) is refused,
 * never dropped.
 */
final class AnthropicRequestTranslator {
    static final ObjectMapper MAPPER = new ObjectMapper();
    /** Messages requires max_tokens; OpenAI's callers may leave it out. */
    static final int DEFAULT_MAX_TOKENS = 4096;

    private AnthropicRequestTranslator() {}

    /** The name of the forced tool a json_schema response format is asked for as (the schema's name); null without one. */
    static String formatTool(ChatRequest request) {
        ResponseFormat f = request.responseFormat();
        return f != null && f.type() == ResponseFormat.Type.JSON_SCHEMA ? f.name() : null;
    }

    static ObjectNode body(ChatRequest request) {
        if (!request.isChat()) {
            throw unsupported("prompt", "the completions API");
        }
        ChatRequest.Sampling s = request.sampling();
        refuse(request.n() != 1, "n", "more than one choice");
        refuse(s.seed() != null, "seed", "seed");
        refuse(s.presencePenalty() != 0f, "presence_penalty", "presence_penalty");
        refuse(s.frequencyPenalty() != 0f, "frequency_penalty", "frequency_penalty");
        refuse(s.repetitionPenalty() != 1f, "repetition_penalty", "repetition_penalty");
        refuse(s.minP() > 0f, "min_p", "min_p");
        refuse(s.logprobs(), "logprobs", "logprobs");
        if (s.temperature() > 1f) {
            throw ApiException.unsupportedValue("temperature", "'temperature' must be at most 1 for this model's provider, got "
                    + s.temperature() + ".");
        }
        ObjectNode body = MAPPER.createObjectNode();
        body.put("model", request.model());
        body.put("max_tokens", request.maxTokens() == null ? DEFAULT_MAX_TOKENS : request.maxTokens());
        StringBuilder system = new StringBuilder();
        ArrayNode messages = body.putArray("messages");
        ArrayNode results = null; // the tool_result blocks of the user turn being built
        for (int i = 0; i < request.messages().size(); i++) {
            Message m = request.messages().get(i);
            switch (m.role()) {
                case Message.SYSTEM -> system.append(system.isEmpty() ? "" : "\n\n").append(m.text());
                case Message.TOOL -> {
                    if (results == null) {
                        results = messages.addObject().put("role", "user").putArray("content");
                    }
                    results.addObject().put("type", "tool_result").put("tool_use_id", m.toolCallId()).put("content", m.text());
                    continue;
                }
                case Message.ASSISTANT -> messages.add(assistant(m, i));
                default -> messages.addObject().put("role", "user").set("content", content(m));
            }
            results = null;
        }
        if (!system.isEmpty()) {
            body.put("system", system.toString());
        }
        tools(body, request);
        if (s.temperature() != 1f) {
            body.put("temperature", s.temperature());
        }
        if (s.topP() != 1f) {
            body.put("top_p", s.topP());
        }
        if (s.topK() > 0) {
            body.put("top_k", s.topK());
        }
        if (!s.stop().isEmpty()) {
            ArrayNode stop = body.putArray("stop_sequences");
            s.stop().forEach(stop::add);
        }
        if (request.user() != null) {
            body.putObject("metadata").put("user_id", request.user());
        }
        if (request.stream()) {
            body.put("stream", true);
        }
        return body;
    }

    /** A user turn's content: its text as a string, or text and image blocks. */
    private static JsonNode content(Message m) {
        if (!m.hasImages()) {
            return MAPPER.getNodeFactory().textNode(m.text());
        }
        ArrayNode blocks = MAPPER.createArrayNode();
        for (ContentPart p : m.content()) {
            switch (p) {
                case ContentPart.Text t -> blocks.addObject().put("type", "text").put("text", t.text());
                case ContentPart.Image image -> {
                    ObjectNode source = blocks.addObject().put("type", "image").putObject("source");
                    if (image.isDataUri()) {
                        source.put("type", "base64").put("media_type", image.mediaType()).put("data", image.base64Data());
                    } else {
                        source.put("type", "url").put("url", image.url());
                    }
                }
            }
        }
        return blocks;
    }

    /** An assistant turn: its text, then a tool_use block per call with the arguments as an object. */
    private static ObjectNode assistant(Message m, int turn) {
        ObjectNode out = MAPPER.createObjectNode().put("role", "assistant");
        if (m.toolCalls().isEmpty()) {
            return out.put("content", m.text());
        }
        ArrayNode blocks = out.putArray("content");
        if (!m.text().isEmpty()) {
            blocks.addObject().put("type", "text").put("text", m.text());
        }
        for (int j = 0; j < m.toolCalls().size(); j++) {
            ToolCall c = m.toolCalls().get(j);
            blocks.addObject().put("type", "tool_use").put("id", c.id()).put("name", c.name())
                    .set("input", ToolArguments.asObject(c.arguments(), "messages[" + turn + "].tool_calls[" + j + "].function.arguments"));
        }
        return out;
    }


    /** tools and tool_choice; a json_schema response format as one more tool, forced. */
    private static void tools(ObjectNode body, ChatRequest request) {
        ResponseFormat format = request.responseFormat();
        if (format != null && format.type() == ResponseFormat.Type.JSON_OBJECT) {
            throw ApiException.unsupportedValue("response_format", "This model's provider (Anthropic) does not support "
                    + "response_format 'json_object'; use 'json_schema'.");
        }
        String formatTool = formatTool(request);
        if (formatTool != null && !request.tools().isEmpty()) {
            throw ApiException.unsupported("response_format", "This model's provider (Anthropic) cannot take a json_schema "
                    + "response_format together with tools.");
        }
        if (request.tools().isEmpty() && formatTool == null) {
            return;
        }
        ArrayNode tools = body.putArray("tools");
        for (Tool t : request.tools()) {
            ObjectNode tool = tools.addObject().put("name", t.name());
            if (t.description() != null) {
                tool.put("description", t.description());
            }
            tool.set("input_schema", t.parameters());
        }
        ObjectNode choice = MAPPER.createObjectNode();
        if (formatTool != null) {
            ObjectNode tool = tools.addObject().put("name", formatTool)
                    .put("description", format.description() != null ? format.description()
                            : "Answer with the JSON object this tool's input describes.");
            tool.set("input_schema", format.schema());
            choice.put("type", "tool").put("name", formatTool);
        } else if (request.toolChoice() != null) {
            switch (request.toolChoice().mode()) {
                case NONE -> choice.put("type", "none");
                case AUTO -> choice.put("type", "auto");
                case REQUIRED -> choice.put("type", "any");
                case NAMED -> choice.put("type", "tool").put("name", request.toolChoice().name());
            }
        }
        if (Boolean.FALSE.equals(request.parallelToolCalls())) {
            if (!choice.has("type")) {
                choice.put("type", "auto");
            }
            if (!choice.path("type").asText().equals("none")) {
                choice.put("disable_parallel_tool_use", true);
            }
        }
        if (choice.has("type")) {
            body.set("tool_choice", choice);
        }
    }

    private static void refuse(boolean set, String param, String what) {
        if (set) {
            throw unsupported(param, what);
        }
    }

    private static ApiException unsupported(String param, String what) {
        return ApiException.unsupported(param, "This model's provider (Anthropic) does not support " + what + ".");
    }
}
