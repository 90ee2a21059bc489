package dev.gatehouse.gateway.backend.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.StreamTranslator;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
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
    private final Map<Integer, Integer> calls = new HashMap<>(); // choice -> tool calls made so far
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
                if (part.has("functionCall")) { // whole in one part: start, all its arguments, end
                    if (!text.isEmpty()) {
                        events.add(new ChatEvent.Delta(index, text.toString(), null));
                        text.setLength(0);
                    }
                    call(index, part.path("functionCall"), events);
                } else if (!part.path("thought").asBoolean(false)) {
                    text.append(part.path("text").asText(""));
                }
            }
            if (!text.isEmpty()) {
                events.add(new ChatEvent.Delta(index, text.toString(), null));
            }
            if (c.path("finishReason").isTextual() && !c.path("finishReason").asText().equals("FINISH_REASON_UNSPECIFIED")) {
                FinishReason reason = finishReason(c.path("finishReason").asText());
                // Gemini says STOP after function calls; OpenAI's clients wait for tool_calls
                events.add(new ChatEvent.Finish(index, reason == FinishReason.STOP && calls.containsKey(index)
                        ? FinishReason.TOOL_CALLS : reason));
                finished++;
            }
        }
        JsonNode u = r.path("usageMetadata");
        if (u.isObject()) {
            usage = new ChatEvent.Usage(u.path("promptTokenCount").asInt(0), u.path("candidatesTokenCount").asInt(0));
        }
        return events;
    }

    /**
     * A functionCall part as a tool call. Gemini gives calls no ids: the id is made from the call's
     * position, name and arguments, so the same answer always gets the same ids (a cached replay, a
     * retried request); results find their call by it, and Gatehouse sends Gemini the name.
     */
    private void call(int index, JsonNode functionCall, List<ChatEvent> events) {
        int n = calls.merge(index, 1, Integer::sum) - 1;
        String name = functionCall.path("name").asText();
        String arguments = functionCall.path("args").isObject() ? functionCall.path("args").toString() : "{}";
        String id = "call_" + index + "_" + n + "_" + HexFormat.of().toHexDigits((name + "\n" + arguments).hashCode());
        events.add(new ChatEvent.ToolCallStart(index, n, id, name));
        events.add(new ChatEvent.ToolCallDelta(index, n, arguments));
        events.add(new ChatEvent.ToolCallEnd(index, n));
    }

    static FinishReason finishReason(String reason) {
        return switch (reason) {
            case "MAX_TOKENS" -> FinishReason.LENGTH;
            case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY" -> FinishReason.CONTENT_FILTER;
            default -> FinishReason.STOP; // STOP, OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL
        };
    }
}
