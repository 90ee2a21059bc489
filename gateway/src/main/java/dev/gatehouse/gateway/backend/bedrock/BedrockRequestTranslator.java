package dev.gatehouse.gateway.backend.bedrock;

import dev.gatehouse.gateway.backend.ToolArguments;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolCall;

import java.util.Set;

/**
 * ChatRequest -> the body of Bedrock's Converse / ConverseStream (one shape for every model family
 * Bedrock hosts): system messages go to {@code system[{text}]}, turns to {@code messages[{role,
 * content[...]}]} with {@code text}, {@code image{format, source{bytes}}}, {@code toolUse} and
 * {@code toolResult} blocks (consecutive tool results merged into one user turn, as Converse
 * requires); max_tokens, temperature, top_p and stop go to {@code inferenceConfig}; tools to
 * {@code toolConfig{tools[{toolSpec}], toolChoice}}. What Converse cannot do (n > 1, seed,
 * penalties, logprobs, image URLs, response formats, tool_choice none) is refused, never dropped.
 */
final class BedrockRequestTranslator {
    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Set<String> IMAGE_FORMATS = Set.of("png", "jpeg", "gif", "webp");

    private BedrockRequestTranslator() {}

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
        refuse(s.topK() > 0, "top_k", "top_k");
        refuse(s.logprobs(), "logprobs", "logprobs");
        refuse(request.responseFormat() != null, "response_format", "response_format");
        ObjectNode body = MAPPER.createObjectNode();
        ArrayNode system = MAPPER.createArrayNode();
        ArrayNode messages = body.putArray("messages");
        ArrayNode results = null; // the toolResult blocks of the user turn being built
        for (int i = 0; i < request.messages().size(); i++) {
            Message m = request.messages().get(i);
            switch (m.role()) {
                case Message.SYSTEM -> system.addObject().put("text", m.text());
                case Message.TOOL -> {
                    if (results == null) {
                        results = messages.addObject().put("role", "user").putArray("content");
                    }
                    ObjectNode result = results.addObject().putObject("toolResult").put("toolUseId", m.toolCallId());
                    result.putArray("content").addObject().put("text", m.text());
                    continue;
                }
                case Message.ASSISTANT -> messages.add(assistant(m, i));
                default -> messages.addObject().put("role", "user").set("content", content(m, i));
            }
            results = null;
        }
        if (!system.isEmpty()) {
            body.set("system", system);
        }
        ObjectNode inference = MAPPER.createObjectNode();
        if (request.maxTokens() != null) {
            inference.put("maxTokens", request.maxTokens());
        }
        if (s.temperature() != 1f) {
            inference.put("temperature", s.temperature());
        }
        if (s.topP() != 1f) {
            inference.put("topP", s.topP());
        }
        if (!s.stop().isEmpty()) {
            ArrayNode stop = inference.putArray("stopSequences");
            s.stop().forEach(stop::add);
        }
        if (!inference.isEmpty()) {
            body.set("inferenceConfig", inference);
        }
        tools(body, request);
        return body;
    }

    /** A user turn's text and image blocks. */
    private static ArrayNode content(Message m, int turn) {
        ArrayNode blocks = MAPPER.createArrayNode();
        for (int j = 0; j < m.content().size(); j++) {
            switch (m.content().get(j)) {
                case ContentPart.Text t -> blocks.addObject().put("text", t.text());
                case ContentPart.Image image -> blocks.addObject().set("image", image(image, "messages[" + turn + "].content[" + j + "]"));
            }
        }
        return blocks;
    }

    /** Converse takes image bytes (base64 in JSON) in png, jpeg, gif or webp; it cannot fetch URLs. */
    private static ObjectNode image(ContentPart.Image image, String param) {
        if (!image.isDataUri()) {
            throw ApiException.unsupportedValue(param, "This model's provider (Bedrock) takes images as data URIs "
                    + "(data:image/png;base64,...), not URLs.");
        }
        String format = image.mediaType().startsWith("image/") ? image.mediaType().substring(6) : "";
        if (!IMAGE_FORMATS.contains(format)) {
            throw ApiException.unsupportedValue(param, "This model's provider (Bedrock) takes png, jpeg, gif or webp images.");
        }
        ObjectNode out = MAPPER.createObjectNode().put("format", format);
        out.putObject("source").put("bytes", image.base64Data());
        return out;
    }

    /** An assistant turn: its text, then a toolUse block per call with the arguments as an object. */
    private static ObjectNode assistant(Message m, int turn) {
        ObjectNode out = MAPPER.createObjectNode().put("role", "assistant");
        ArrayNode blocks = out.putArray("content");
        if (!m.text().isEmpty() || m.toolCalls().isEmpty()) {
            blocks.addObject().put("text", m.text());
        }
        for (int j = 0; j < m.toolCalls().size(); j++) {
            ToolCall c = m.toolCalls().get(j);
            blocks.addObject().putObject("toolUse").put("toolUseId", c.id()).put("name", c.name())
                    .set("input", ToolArguments.asObject(c.arguments(), "messages[" + turn + "].tool_calls[" + j + "].function.arguments"));
        }
        return out;
    }


    /**
     * {@code toolConfig}: the tools and the choice. Converse requires the tools whenever the
     * conversation holds toolUse blocks; it has no "none" choice, so that is refused.
     */
    private static void tools(ObjectNode body, ChatRequest request) {
        if (request.tools().isEmpty()) {
            return;
        }
        ObjectNode config = body.putObject("toolConfig");
        ArrayNode tools = config.putArray("tools");
        for (Tool t : request.tools()) {
            ObjectNode spec = tools.addObject().putObject("toolSpec").put("name", t.name());
            if (t.description() != null) {
                spec.put("description", t.description());
            }
            spec.putObject("inputSchema").set("json", t.parameters());
        }
        if (request.toolChoice() != null) {
            ObjectNode choice = config.putObject("toolChoice");
            switch (request.toolChoice().mode()) {
                case NONE -> throw ApiException.unsupportedValue("tool_choice",
                        "This model's provider (Bedrock) does not support tool_choice 'none'; leave the tools out instead.");
                case AUTO -> choice.putObject("auto");
                case REQUIRED -> choice.putObject("any");
                case NAMED -> choice.putObject("tool").put("name", request.toolChoice().name());
            }
        }
    }

    private static void refuse(boolean set, String param, String what) {
        if (set) {
            throw unsupported(param, what);
        }
    }

    private static ApiException unsupported(String param, String what) {
        return ApiException.unsupported(param, "This model's provider (Bedrock) does not support " + what + ".");
    }
}
