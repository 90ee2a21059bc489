package dev.gatehouse.gateway.backend.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.StreamTranslator;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;

import java.util.ArrayList;
import java.util.List;

/**
 * Anthropic's answers -> ChatEvents. A stream is message_start (input tokens), content_block_delta
 * (text_delta), message_delta (stop_reason, output tokens), message_stop; a whole message carries
 * the same in its content blocks, stop_reason and usage. One choice, index 0.
 */
final class AnthropicEventTranslator implements StreamTranslator {
    private final String provider;
    private final String apiKey;
    private int inputTokens;
    private int outputTokens;
    private boolean stopped;

    AnthropicEventTranslator(String provider, String apiKey) {
        this.provider = provider;
        this.apiKey = apiKey;
    }

    /** The stream ends at message_stop; a body that ends before it is a failed answer. */
    @Override
    public boolean done() {
        return stopped;
    }

    @Override
    public List<ChatEvent> atEnd() {
        return null;
    }

    /** The events of one stream event; message_stop gives the Usage, last; an error event ends the stream. */
    @Override
    public List<ChatEvent> event(JsonNode e) {
        List<ChatEvent> events = new ArrayList<>();
        switch (e.path("type").asText()) {
            case "error" -> throw AnthropicErrors.inStream(provider, apiKey, e.path("error"));
            case "message_start" -> {
                JsonNode usage = e.path("message").path("usage");
                inputTokens = usage.path("input_tokens").asInt(0);
                outputTokens = usage.path("output_tokens").asInt(0);
            }
            case "content_block_delta" -> {
                JsonNode delta = e.path("delta");
                if (delta.path("type").asText().equals("text_delta") && !delta.path("text").asText().isEmpty()) {
                    events.add(new ChatEvent.Delta(0, delta.path("text").asText(), null));
                }
            }
            case "message_delta" -> {
                outputTokens = e.path("usage").path("output_tokens").asInt(outputTokens);
                JsonNode reason = e.path("delta").path("stop_reason");
                if (reason.isTextual()) {
                    events.add(new ChatEvent.Finish(0, finishReason(reason.asText())));
                }
            }
            case "message_stop" -> {
                stopped = true;
                events.add(new ChatEvent.Usage(inputTokens, outputTokens));
            }
            default -> { } // content_block_start/stop, ping: nothing to say
        }
        return events;
    }

    static List<ChatEvent> message(JsonNode m) {
        StringBuilder text = new StringBuilder();
        for (JsonNode block : m.path("content")) {
            if (block.path("type").asText().equals("text")) {
                text.append(block.path("text").asText());
            }
        }
        JsonNode usage = m.path("usage");
        return List.of(new ChatEvent.Delta(0, text.toString(), null),
                new ChatEvent.Finish(0, finishReason(m.path("stop_reason").asText("end_turn"))),
                new ChatEvent.Usage(usage.path("input_tokens").asInt(0), usage.path("output_tokens").asInt(0)));
    }

    static FinishReason finishReason(String stopReason) {
        return switch (stopReason) {
            case "max_tokens" -> FinishReason.LENGTH;
            case "tool_use" -> FinishReason.TOOL_CALLS;
            case "refusal" -> FinishReason.CONTENT_FILTER;
            default -> FinishReason.STOP; // end_turn, stop_sequence, pause_turn
        };
    }
}
