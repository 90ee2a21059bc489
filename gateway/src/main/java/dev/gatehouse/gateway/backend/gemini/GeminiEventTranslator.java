package dev.gatehouse.gateway.backend.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;

import java.util.ArrayList;
import java.util.List;

/**
 * Gemini's GenerateContentResponse -> ChatEvents. A stream is a series of such responses, each with
 * the new text of its candidates; the last carries finishReason, and usageMetadata (cumulative)
 * is kept until the end so that Usage comes last.
 */
final class GeminiEventTranslator {
    private ChatEvent.Usage usage;
    private int finished;

    List<ChatEvent> response(JsonNode r) {
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

    /** How many choices have ended so far. */
    int finished() {
        return finished;
    }

    ChatEvent.Usage usage() {
        return usage;
    }

    static FinishReason finishReason(String reason) {
        return switch (reason) {
            case "MAX_TOKENS" -> FinishReason.LENGTH;
            case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY" -> FinishReason.CONTENT_FILTER;
            default -> FinishReason.STOP; // STOP, OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL
        };
    }
}
