package dev.gatehouse.gateway.backend.anthropic;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Message;

/**
 * ChatRequest -> the body of Anthropic's POST /v1/messages: system messages go to the top-level
 * {@code system}, max_tokens is required, stop becomes stop_sequences. What Messages cannot do
 * (n > 1, seed, penalties, logprobs, temperature above 1, raw prompts) is refused, never dropped.
 */
final class AnthropicRequestTranslator {
    static final ObjectMapper MAPPER = new ObjectMapper();
    /** Messages requires max_tokens; OpenAI's callers may leave it out. */
    static final int DEFAULT_MAX_TOKENS = 4096;

    private AnthropicRequestTranslator() {}

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
        for (Message m : request.messages()) {
            if (m.role().equals(Message.SYSTEM)) {
                system.append(system.isEmpty() ? "" : "\n\n").append(m.text());
            } else {
                messages.addObject().put("role", m.role()).put("content", m.text());
            }
        }
        if (!system.isEmpty()) {
            body.put("system", system.toString());
        }
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

    private static void refuse(boolean set, String param, String what) {
        if (set) {
            throw unsupported(param, what);
        }
    }

    private static ApiException unsupported(String param, String what) {
        return ApiException.unsupported(param, "This model's provider (Anthropic) does not support " + what + ".");
    }
}
