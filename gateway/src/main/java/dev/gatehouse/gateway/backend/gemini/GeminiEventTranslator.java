package dev.gatehouse.gateway.backend.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.StreamTranslator;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Gemini's GenerateContentResponse -> ChatEvents. A stream is a series of such responses, each with
 * the new text of its candidates; the last carries finishReason, and usageMetadata (cumulative)
 * is kept until the end so that Usage comes last.
 */
final class GeminiEventTranslator implements StreamTranslator {
    private final String provider;
    private final String apiKey;
    private final int choices;
    private ChatEvent.Usage usage;
    private int finished;

    GeminiEventTranslator(String provider, String apiKey, int choices) {
        this.provider = provider;
        this.apiKey = apiKey;
        this.choices = choices;
    }

    /** Gemini sends no end marker: the body's end is the end. */
    @Override
    public boolean done() {
        return false;
    }

    /** A complete answer only if every choice has its finishReason by the end of the body; then the usage, last. */
    @Override
    public List<ChatEvent> atEnd() {
        if (finished < choices) {
            return null;
        }
        return usage == null ? List.of() : List.of(usage);
    }

    @Override
    public List<ChatEvent> event(JsonNode chunk) {
        if (chunk.has("error")) { // after the headers: whatever Google's code, the answer is broken off
            throw GeminiErrors.fromResponse(provider, apiKey, 502, chunk.toString().getBytes(StandardCharsets.UTF_8), null);
        }
        return response(chunk);
    }

    /** A whole answer: its events, then the usage. */
    List<ChatEvent> answer(JsonNode r) {
        List<ChatEvent> events = new ArrayList<>(response(r));
        if (usage != null) {
            events.add(usage);
        }
        return events;
    }

    private List<ChatEvent> response(JsonNode r) {
        List<ChatEvent> events = new ArrayList<>();
        JsonNode candidates = r.path("candidates");
        if (candidates.isEmpty() && r.path("promptFeedback").has("blockReason")) {
            events.add(new ChatEvent.Finish(0, FinishReason.CONTENT_FILTER)); // the prompt itself was blocked
            finished++;
        }
        for (JsonNode c : candidates) {
            int index = c.path("index").asInt(0);
            StringBuilder text = new StringBuilder();
            for (JsonNode part : c.path("content").path("parts")) {
                text.append(part.path("text").asText(""));
            }
            if (!text.isEmpty()) {
                events.add(new ChatEvent.Delta(index, text.toString(), null));
            }
            if (c.path("finishReason").isTextual() && !c.path("finishReason").asText().equals("FINISH_REASON_UNSPECIFIED")) {
                events.add(new ChatEvent.Finish(index, finishReason(c.path("finishReason").asText())));
                finished++;
            }
        }
        JsonNode u = r.path("usageMetadata");
        if (u.isObject()) {
            usage = new ChatEvent.Usage(u.path("promptTokenCount").asInt(0), u.path("candidatesTokenCount").asInt(0));
        }
        return events;
    }

    static FinishReason finishReason(String reason) {
        return switch (reason) {
            case "MAX_TOKENS" -> FinishReason.LENGTH;
            case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY" -> FinishReason.CONTENT_FILTER;
            default -> FinishReason.STOP; // STOP, OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL
        };
    }
}
