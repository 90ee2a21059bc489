package dev.gatehouse.gateway.backend.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.StreamTranslator;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * ConverseStream's events -> ChatEvents: messageStart, content blocks (contentBlockStart with a
 * toolUse start, contentBlockDelta with text or toolUse input fragments, contentBlockStop),
 * messageStop (the stop reason), then metadata (usage), which ends the stream. One choice, index 0;
 * a toolUse block is a tool call numbered in the order the blocks start. An exception event
 * (throttlingException, modelStreamErrorException, ...) ends the stream with the gateway's error.
 */
final class BedrockStreamTranslator implements StreamTranslator {
    private final String provider;
    private final Map<Integer, Integer> calls = new HashMap<>(); // content block index -> call number
    private boolean done;

    BedrockStreamTranslator(String provider) {
        this.provider = provider;
    }

    @Override
    public List<ChatEvent> event(JsonNode e) {
        List<ChatEvent> events = new ArrayList<>();
        String type = e.fieldNames().hasNext() ? e.fieldNames().next() : "";
        JsonNode p = e.path(type);
        int block = p.path("contentBlockIndex").asInt(0);
        switch (type) {
            case "contentBlockStart" -> {
                JsonNode use = p.path("start").path("toolUse");
                if (use.isObject()) {
                    int call = calls.size();
                    calls.put(block, call);
                    events.add(new ChatEvent.ToolCallStart(0, call, use.path("toolUseId").asText(), use.path("name").asText()));
                }
            }
            case "contentBlockDelta" -> {
                JsonNode delta = p.path("delta");
                if (delta.has("text")) {
                    events.add(new ChatEvent.Delta(0, delta.path("text").asText(), null));
                } else if (delta.has("toolUse") && calls.containsKey(block)) {
                    events.add(new ChatEvent.ToolCallDelta(0, calls.get(block), delta.path("toolUse").path("input").asText()));
                }
            }
            case "contentBlockStop" -> {
                if (calls.containsKey(block)) {
                    events.add(new ChatEvent.ToolCallEnd(0, calls.get(block)));
                }
            }
            case "messageStop" -> events.add(new ChatEvent.Finish(0, BedrockAnswer.finishReason(p.path("stopReason").asText())));
            case "metadata" -> {
                JsonNode usage = p.path("usage");
                events.add(new ChatEvent.Usage(usage.path("inputTokens").asInt(0), usage.path("outputTokens").asInt(0)));
                done = true;
            }
            default -> {
                if (type.endsWith("Exception")) {
                    throw inStream(type, p);
                }
                // messageStart, and whatever Bedrock adds later (reasoning blocks...): nothing for the client
            }
        }
        return events;
    }

    /** An exception event after the headers: throttling and unavailability are 503s worth another target. */
    private ApiException inStream(String type, JsonNode payload) {
        boolean busy = type.equals("throttlingException") || type.equals("serviceUnavailableException");
        return new ApiException(busy ? 503 : 502, "server_error", busy ? "server_overloaded" : null, null,
                "Provider '" + provider + "' (" + type + "): " + payload.path("message").asText("error in stream"), null);
    }

    /** The stream ends with its metadata event; a body that ends before it is a failed answer. */
    @Override
    public boolean done() {
        return done;
    }

    @Override
    public List<ChatEvent> atEnd() {
        return null;
    }
}
