package dev.gatehouse.gateway.backend.gemini;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Message;

/**
 * ChatRequest -> a Gemini generateContent body: system messages become systemInstruction, the
 * assistant is "model", sampling goes to generationConfig. What Gemini cannot do here (logprobs,
 * min_p, repetition_penalty, raw prompts) is refused, never dropped.
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
        for (Message m : request.messages()) {
            if (m.role().equals(Message.SYSTEM)) {
                system.append(system.isEmpty() ? "" : "\n\n").append(m.text());
            } else {
                ObjectNode content = contents.addObject().put("role", m.role().equals(Message.ASSISTANT) ? "model" : "user");
                content.putArray("parts").addObject().put("text", m.text());
            }
        }
        if (!system.isEmpty()) {
            body.putObject("systemInstruction").putArray("parts").addObject().put("text", system.toString());
        }
        ObjectNode config = body.putObject("generationConfig");
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

    private static ApiException unsupported(String param, String what) {
        return ApiException.unsupported(param, "This model's provider (Gemini) does not support " + what + ".");
    }
}
