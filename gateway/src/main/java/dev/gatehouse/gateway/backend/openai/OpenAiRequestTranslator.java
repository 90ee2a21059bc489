package dev.gatehouse.gateway.backend.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.config.ProviderType;
import dev.gatehouse.serving.text.ChatMessage;

/**
 * ChatRequest -> the body of POST /chat/completions (a conversation) or /completions (a raw prompt).
 * Only fields that differ from OpenAI's defaults are sent, so models that refuse some parameters
 * (temperature on reasoning models) still answer requests that leave them alone.
 */
final class OpenAiRequestTranslator {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private OpenAiRequestTranslator() {}

    /**
     * OpenAI itself prefers max_completion_tokens; Azure names the model in the URL (the deployment);
     * both reject vLLM's extra sampling fields, which other OpenAI-compatible servers may take.
     */
    static ObjectNode body(ChatRequest request, ProviderType type) {
        boolean openAiItself = type == ProviderType.OPENAI;
        boolean strict = type != ProviderType.OPENAI_COMPATIBLE;
        ObjectNode body = MAPPER.createObjectNode();
        if (type != ProviderType.AZURE_OPENAI) {
            body.put("model", request.model());
        }
        if (request.isChat()) {
            ArrayNode messages = body.putArray("messages");
            for (ChatMessage m : request.messages()) {
                messages.addObject().put("role", m.role()).put("content", m.content());
            }
        } else {
            if (request.prompts().size() == 1) {
                body.put("prompt", request.prompts().get(0));
            } else {
                request.prompts().forEach(body.putArray("prompt")::add);
            }
            if (request.echo()) {
                body.put("echo", true);
            }
        }
        if (request.maxTokens() != null) {
            body.put(request.isChat() && openAiItself ? "max_completion_tokens" : "max_tokens", request.maxTokens());
        }
        if (request.n() != 1) {
            body.put("n", request.n());
        }
        sampling(body, request, strict);
        if (request.user() != null) {
            body.put("user", request.user());
        }
        if (request.stream()) {
            body.put("stream", true);
            body.putObject("stream_options").put("include_usage", true); // usage is counted whatever the client asked
        }
        return body;
    }

    private static void sampling(ObjectNode body, ChatRequest request, boolean strict) {
        ChatRequest.Sampling s = request.sampling();
        if (s.temperature() != 1f) {
            body.put("temperature", s.temperature());
        }
        if (s.topP() != 1f) {
            body.put("top_p", s.topP());
        }
        if (s.presencePenalty() != 0f) {
            body.put("presence_penalty", s.presencePenalty());
        }
        if (s.frequencyPenalty() != 0f) {
            body.put("frequency_penalty", s.frequencyPenalty());
        }
        if (s.seed() != null) {
            body.put("seed", s.seed());
        }
        if (!s.stop().isEmpty()) {
            ArrayNode stop = body.putArray("stop");
            s.stop().forEach(stop::add);
        }
        if (s.logprobs()) {
            if (request.isChat()) {
                body.put("logprobs", true);
                if (s.topLogprobs() > 0) {
                    body.put("top_logprobs", s.topLogprobs());
                }
            } else {
                body.put("logprobs", s.topLogprobs());
            }
        }
        // vLLM's extras: an OpenAI-compatible server may take them; OpenAI and Azure would answer 400
        extra(body, "top_k", s.topK() > 0, s.topK(), strict);
        extra(body, "min_p", s.minP() > 0f, s.minP(), strict);
        extra(body, "repetition_penalty", s.repetitionPenalty() != 1f, s.repetitionPenalty(), strict);
    }

    private static void extra(ObjectNode body, String field, boolean set, Number value, boolean strict) {
        if (!set) {
            return;
        }
        if (strict) {
            throw ApiException.unsupported(field, "'" + field + "' is not supported by this model's provider.");
        }
        body.putPOJO(field, value);
    }
}
