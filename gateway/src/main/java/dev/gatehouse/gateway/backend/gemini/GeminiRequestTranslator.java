package dev.gatehouse.gateway.backend.gemini;

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
import dev.gatehouse.gateway.chat.ToolChoice;

import java.io.IOException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * ChatRequest -> a Gemini generateContent body: system messages become systemInstruction, the
 * assistant is "model", sampling goes to generationConfig. Tools become {@code functionDeclarations}
 * (schemas converted by {@link GeminiSchema}), tool_choice {@code toolConfig.functionCallingConfig}
 * (AUTO, ANY with allowedFunctionNames, NONE); assistant tool calls become {@code functionCall} parts
 * and tool results {@code functionResponse} parts of one user turn, matched to their call's name by
 * id; images become {@code inline_data} (data URIs) or {@code file_data} (URLs); a response format
 * becomes {@code responseMimeType: application/json} plus {@code responseSchema}. What Gemini cannot
 * do here (logprobs, min_p, repetition_penalty, raw prompts) is refused, never dropped.
 */
final class GeminiRequestTranslator {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private GeminiRequestTranslator() {}

    static ObjectNode body(ChatRequest request) {
        if (!request.isChat()) {
            throw unsupported("prompt", "the completions API");
        }
        ChatRequest.Sampling s = request.sampling();
        if (s.logprobs()) {
            throw unsupported("logprobs", "logprobs");
        }
        if (s.minP() > 0f) {
            throw unsupported("min_p", "min_p");
        }
        if (s.repetitionPenalty() != 1f) {
            throw unsupported("repetition_penalty", "repetition_penalty");
        }
        ObjectNode body = MAPPER.createObjectNode();
        StringBuilder system = new StringBuilder();
        ArrayNode contents = body.putArray("contents");
        Map<String, String> callNames = new HashMap<>(); // Gemini matches a result to its call by the function's name
        ArrayNode results = null; // the functionResponse parts of the user turn being built
        for (int i = 0; i < request.messages().size(); i++) {
            Message m = request.messages().get(i);
            switch (m.role()) {
                case Message.SYSTEM -> system.append(system.isEmpty() ? "" : "\n\n").append(m.text());
                case Message.TOOL -> {
                    if (results == null) {
                        results = contents.addObject().put("role", "user").putArray("parts");
                    }
                    ObjectNode response = results.addObject().putObject("functionResponse")
                            .put("name", callNames.getOrDefault(m.toolCallId(), ""));
                    response.set("response", toolResult(m.text()));
                    continue;
                }
                case Message.ASSISTANT -> {
                    ArrayNode parts = contents.addObject().put("role", "model").putArray("parts");
                    if (!m.text().isEmpty() || m.toolCalls().isEmpty()) {
                        parts.addObject().put("text", m.text());
                    }
                    for (int j = 0; j < m.toolCalls().size(); j++) {
                        ToolCall c = m.toolCalls().get(j);
                        callNames.put(c.id(), c.name());
                        parts.addObject().putObject("functionCall").put("name", c.name())
                                .set("args", ToolArguments.asObject(c.arguments(), "messages[" + i + "].tool_calls[" + j + "].function.arguments"));
                    }
                }
                default -> contents.addObject().put("role", "user").set("parts", parts(m));
            }
            results = null;
        }
        tools(body, request);
        if (!system.isEmpty()) {
            body.putObject("systemInstruction").putArray("parts").addObject().put("text", system.toString());
        }
        ObjectNode config = body.putObject("generationConfig");
        ResponseFormat format = request.responseFormat();
        if (format != null) {
            config.put("responseMimeType", "application/json");
            if (format.type() == ResponseFormat.Type.JSON_SCHEMA) {
                config.set("responseSchema", GeminiSchema.convert(format.schema(), "response_format.json_schema.schema"));
            }
        }
        if (request.maxTokens() != null) {
            config.put("maxOutputTokens", request.maxTokens());
        }
        if (request.n() != 1) {
            config.put("candidateCount", request.n());
        }
        if (s.temperature() != 1f) {
            config.put("temperature", s.temperature());
        }
        if (s.topP() != 1f) {
            config.put("topP", s.topP());
        }
        if (s.topK() > 0) {
            config.put("topK", s.topK());
        }
        if (s.presencePenalty() != 0f) {
            config.put("presencePenalty", s.presencePenalty());
        }
        if (s.frequencyPenalty() != 0f) {
            config.put("frequencyPenalty", s.frequencyPenalty());
        }
        if (s.seed() != null) {
            config.put("seed", s.seed());
        }
        if (!s.stop().isEmpty()) {
            ArrayNode stop = config.putArray("stopSequences");
            s.stop().forEach(stop::add);
        }
        return body;
    }

    /** A user turn's parts: text, and images inline (data URIs) or by URL. */
    private static ArrayNode parts(Message m) {
        ArrayNode parts = MAPPER.createArrayNode();
        for (ContentPart p : m.content()) {
            switch (p) {
                case ContentPart.Text t -> parts.addObject().put("text", t.text());
                case ContentPart.Image image -> {
                    if (image.isDataUri()) {
                        parts.addObject().putObject("inline_data").put("mime_type", image.mediaType()).put("data", image.base64Data());
                    } else {
                        parts.addObject().putObject("file_data").put("mime_type", mediaType(image.url())).put("file_uri", image.url());
                    }
                }
            }
        }
        return parts;
    }

    /** Gemini wants the type of an image it fetches; the URL's extension says it, JPEG when it does not. */
    private static String mediaType(String url) {
        String path = url.toLowerCase(Locale.ROOT).replaceFirst("[?#].*$", "");
        if (path.endsWith(".png")) {
            return "image/png";
        }
        if (path.endsWith(".webp")) {
            return "image/webp";
        }
        if (path.endsWith(".gif")) {
            return "image/gif";
        }
        return "image/jpeg";
    }

    /** A tool's result as the object functionResponse.response must be: a JSON object as it is, anything else wrapped. */
    private static JsonNode toolResult(String text) {
        try {
            JsonNode parsed = MAPPER.readTree(text);
            if (parsed != null && parsed.isObject()) {
                return parsed;
            }
        } catch (IOException e) {
            // plain text: wrapped below
        }
        return MAPPER.createObjectNode().put("result", text);
    }


    /** functionDeclarations and toolConfig. */
    private static void tools(ObjectNode body, ChatRequest request) {
        if (request.tools().isEmpty()) {
            return;
        }
        ArrayNode declarations = body.putArray("tools").addObject().putArray("functionDeclarations");
        for (int i = 0; i < request.tools().size(); i++) {
            Tool t = request.tools().get(i);
            ObjectNode d = declarations.addObject().put("name", t.name());
            if (t.description() != null) {
                d.put("description", t.description());
            }
            if (!t.parameters().path("properties").isEmpty()) { // Gemini refuses an object schema without properties
                d.set("parameters", GeminiSchema.convert(t.parameters(), "tools[" + i + "].function.parameters"));
            }
        }
        ToolChoice choice = request.toolChoice();
        if (choice != null) {
            ObjectNode config = body.putObject("toolConfig").putObject("functionCallingConfig");
            switch (choice.mode()) {
                case NONE -> config.put("mode", "NONE");
                case AUTO -> config.put("mode", "AUTO");
                case REQUIRED -> config.put("mode", "ANY");
                case NAMED -> config.put("mode", "ANY").putArray("allowedFunctionNames").add(choice.name());
            }
        }
    }

    private static ApiException unsupported(String param, String what) {
        return ApiException.unsupported(param, "This model's provider (Gemini) does not support " + what + ".");
    }
}
