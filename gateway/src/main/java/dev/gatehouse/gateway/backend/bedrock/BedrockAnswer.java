package dev.gatehouse.gateway.backend.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;

import java.util.ArrayList;
import java.util.List;

/**
 * A whole Converse answer ({@code output.message.content[]} of text and toolUse blocks,
 * {@code stopReason}, {@code usage}) as ChatEvents: one choice, index 0, Usage last.
 */
final class BedrockAnswer {
    private BedrockAnswer() {}

    static List<ChatEvent> events(JsonNode body) {
        List<ChatEvent> events = new ArrayList<>();
        int call = 0;
        for (JsonNode block : body.path("output").path("message").path("content")) {
            if (block.has("text")) {
                events.add(new ChatEvent.Delta(0, block.path("text").asText(), null));
            } else if (block.has("toolUse")) {
                JsonNode use = block.path("toolUse");
                events.add(new ChatEvent.ToolCallStart(0, call, use.path("toolUseId").asText(), use.path("name").asText()));
                events.add(new ChatEvent.ToolCallDelta(0, call, use.path("input").isMissingNode() ? "{}" : use.path("input").toString()));
                events.add(new ChatEvent.ToolCallEnd(0, call));
                call++;
            }
        }
        events.add(new ChatEvent.Finish(0, finishReason(body.path("stopReason").asText())));
        JsonNode usage = body.path("usage");
        events.add(new ChatEvent.Usage(usage.path("inputTokens").asInt(0), usage.path("outputTokens").asInt(0)));
        return events;
    }

    /** Converse's stopReason onto the closed set; an unknown word ended the answer normally. */
    static FinishReason finishReason(String stopReason) {
        return switch (stopReason) {
            case "max_tokens", "model_context_window_exceeded" -> FinishReason.LENGTH;
            case "tool_use" -> FinishReason.TOOL_CALLS;
            case "guardrail_intervened", "content_filtered" -> FinishReason.CONTENT_FILTER;
            default -> FinishReason.STOP; // end_turn, stop_sequence
        };
    }
}
