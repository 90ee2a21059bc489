package dev.gatehouse.gateway.backend.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ChatEvent;

import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI's answers -> ChatEvents: a streamed chunk ({@code choices[].delta.content} for chat,
 * {@code choices[].text} for completions) or a whole response ({@code choices[].message.content}).
 */
final class OpenAiEventTranslator {
    private OpenAiEventTranslator() {}

    /** One chunk of a stream; the usage chunk (no choices) gives the Usage event. */
    static List<ChatEvent> chunk(JsonNode chunk) {
        List<ChatEvent> events = new ArrayList<>();
        for (JsonNode choice : chunk.path("choices")) {
            int index = choice.path("index").asInt(0);
            String text = choice.has("delta") ? choice.path("delta").path("content").asText("") : choice.path("text").asText("");
            List<ChatEvent.TokenLogprob> logprobs = logprobs(choice.path("logprobs"));
            if (!text.isEmpty() || logprobs != null) {
                events.add(new ChatEvent.Delta(index, text, logprobs));
            }
            finish(choice, index, events);
        }
        usage(chunk, events);
        return events;
    }

    /** A non-streamed response: per choice its whole text then its finish, usage last. */
    static List<ChatEvent> response(JsonNode response) {
        List<ChatEvent> events = new ArrayList<>();
        for (JsonNode choice : response.path("choices")) {
            int index = choice.path("index").asInt(0);
            String text = choice.has("message") ? choice.path("message").path("content").asText("") : choice.path("text").asText("");
            events.add(new ChatEvent.Delta(index, text, logprobs(choice.path("logprobs"))));
            finish(choice, index, events);
        }
        usage(response, events);
        return events;
    }

    private static void finish(JsonNode choice, int index, List<ChatEvent> events) {
        JsonNode reason = choice.path("finish_reason");
        if (reason.isTextual()) {
            events.add(new ChatEvent.Finish(index, reason.asText()));
        }
    }

    private static void usage(JsonNode node, List<ChatEvent> events) {
        JsonNode u = node.path("usage");
        if (u.isObject()) {
            events.add(new ChatEvent.Usage(u.path("prompt_tokens").asInt(0), u.path("completion_tokens").asInt(0)));
        }
    }

    /** Chat logprobs ({@code content: [{token, logprob, top_logprobs}]}); null when absent. */
    private static List<ChatEvent.TokenLogprob> logprobs(JsonNode node) {
        JsonNode content = node.path("content");
        if (!content.isArray() || content.isEmpty()) {
            return null;
        }
        List<ChatEvent.TokenLogprob> out = new ArrayList<>();
        for (JsonNode t : content) {
            List<ChatEvent.TopLogprob> top = new ArrayList<>();
            for (JsonNode alt : t.path("top_logprobs")) {
                top.add(new ChatEvent.TopLogprob(alt.path("token").asText(), (float) alt.path("logprob").asDouble()));
            }
            out.add(new ChatEvent.TokenLogprob(t.path("token").asText(), (float) t.path("logprob").asDouble(), top));
        }
        return out;
    }
}
