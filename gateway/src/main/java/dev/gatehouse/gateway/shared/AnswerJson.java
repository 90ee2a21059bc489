package dev.gatehouse.gateway.shared;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ChatEvent;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A cached answer (its events) as JSON for Redis and PostgreSQL: an array of the events' records, each
 * with an {@code event} field naming its kind.
 */
public final class AnswerJson {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES) // an answer stored by a newer instance
            .build();

    private AnswerJson() {}

    public static byte[] write(List<ChatEvent> events) {
        ArrayNode array = JSON.createArrayNode();
        for (ChatEvent e : events) {
            ObjectNode o = JSON.valueToTree(e);
            o.put("event", switch (e) {
                case ChatEvent.Delta d -> "delta";
                case ChatEvent.ToolCallStart t -> "tool-call-start";
                case ChatEvent.ToolCallDelta t -> "tool-call-delta";
                case ChatEvent.ToolCallEnd t -> "tool-call-end";
                case ChatEvent.Finish f -> "finish";
                case ChatEvent.Usage u -> "usage";
                case ChatEvent.Raw r -> "raw"; // a pass-through answer's own event, replayed as it came
            });
            array.add(o);
        }
        try {
            return JSON.writeValueAsBytes(array);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write an answer as JSON", e); // records of strings and numbers
        }
    }

    /** The events, or null when {@code json} is not an answer this version can read (then it is a miss). */
    public static List<ChatEvent> read(byte[] json) {
        try {
            List<ChatEvent> events = new ArrayList<>();
            for (JsonNode n : JSON.readTree(json)) {
                Class<? extends ChatEvent> type = switch (n.path("event").asText()) {
                    case "delta" -> ChatEvent.Delta.class;
                    case "tool-call-start" -> ChatEvent.ToolCallStart.class;
                    case "tool-call-delta" -> ChatEvent.ToolCallDelta.class;
                    case "tool-call-end" -> ChatEvent.ToolCallEnd.class;
                    case "finish" -> ChatEvent.Finish.class;
                    case "usage" -> ChatEvent.Usage.class;
                    case "raw" -> ChatEvent.Raw.class;
                    default -> null;
                };
                if (type == null) {
                    return null;
                }
                events.add(JSON.treeToValue(n, type));
            }
            return events.isEmpty() ? null : events;
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }
}
