package dev.gatehouse.gateway.backend.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.StreamTranslator;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's Responses API answers -> ChatEvents, for a Responses request sent to OpenAI as the client
 * wrote it: the client gets OpenAI's own events, and these translations are what usage, the cache
 * and metrics read. A stream's output_text deltas are text; a function_call item is a tool call
 * (started when its item is added, numbered in that order, ended when its item is done); the
 * response.completed / response.incomplete event gives the finish and the usage and ends the stream;
 * response.failed and error events end it with the provider's error. One choice, index 0; reasoning
 * items carry no answer text.
 */
final class ResponsesEventTranslator implements StreamTranslator {
    private final String provider;
    private final String apiKey;
    private final Map<Integer, Integer> calls = new HashMap<>(); // output_index -> call number
    private boolean stopped;

    ResponsesEventTranslator(String provider, String apiKey) {
        this.provider = provider;
        this.apiKey = apiKey;
    }

    @Override
    public boolean done() {
        return stopped;
    }

    @Override
    public List<ChatEvent> atEnd() {
        return null;
    }

    @Override
    public List<ChatEvent> event(JsonNode e) {
        List<ChatEvent> events = new ArrayList<>();
        int output = e.path("output_index").asInt(-1);
        switch (e.path("type").asText()) {
            case "error" -> throw OpenAiErrors.inStream(provider, apiKey, e.has("error") ? e.path("error") : e);
            case "response.failed" -> throw OpenAiErrors.inStream(provider, apiKey, e.path("response").path("error"));
            case "response.output_item.added" -> {
                JsonNode item = e.path("item");
                if (item.path("type").asText().equals("function_call")) {
                    int call = calls.size();
                    calls.put(output, call);
                    events.add(new ChatEvent.ToolCallStart(0, call, item.path("call_id").asText(), item.path("name").asText()));
                }
            }
            case "response.output_text.delta" -> {
                String text = e.path("delta").asText("");
                if (!text.isEmpty()) {
                    events.add(new ChatEvent.Delta(0, text, null));
                }
            }
            case "response.function_call_arguments.delta" -> {
                String arguments = e.path("delta").asText("");
                if (calls.containsKey(output) && !arguments.isEmpty()) {
                    events.add(new ChatEvent.ToolCallDelta(0, calls.get(output), arguments));
                }
            }
            case "response.output_item.done" -> {
                if (calls.containsKey(output)) {
                    events.add(new ChatEvent.ToolCallEnd(0, calls.get(output)));
                }
            }
            case "response.completed", "response.incomplete" -> {
                stopped = true;
                events.add(new ChatEvent.Finish(0, finishReason(e.path("response"), !calls.isEmpty())));
                events.add(usage(e.path("response")));
            }
            default -> { } // created, in_progress, content parts, reasoning, ... : nothing to count
        }
        return events;
    }

    /** A whole response object: its message text and function calls in output order, the finish, the usage. */
    static List<ChatEvent> response(JsonNode r) {
        List<ChatEvent> events = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        int call = 0;
        for (JsonNode item : r.path("output")) {
            switch (item.path("type").asText()) {
                case "message" -> {
                    for (JsonNode part : item.path("content")) {
                        if (part.path("type").asText().equals("output_text")) {
                            text.append(part.path("text").asText(""));
                        }
                    }
                }
                case "function_call" -> {
                    events.add(new ChatEvent.ToolCallStart(0, call, item.path("call_id").asText(), item.path("name").asText()));
                    events.add(new ChatEvent.ToolCallDelta(0, call, item.path("arguments").asText("")));
                    events.add(new ChatEvent.ToolCallEnd(0, call));
                    call++;
                }
                default -> { } // reasoning and other items are not part of the answer's text
            }
        }
        if (!text.isEmpty() || call == 0) {
            events.addFirst(new ChatEvent.Delta(0, text.toString(), null));
        }
        events.add(new ChatEvent.Finish(0, finishReason(r, call > 0)));
        events.add(usage(r));
        return events;
    }

    private static FinishReason finishReason(JsonNode response, boolean calledTools) {
        if (response.path("status").asText().equals("incomplete")) {
            String reason = response.path("incomplete_details").path("reason").asText();
            return reason.equals("content_filter") ? FinishReason.CONTENT_FILTER : FinishReason.LENGTH;
        }
        return calledTools ? FinishReason.TOOL_CALLS : FinishReason.STOP;
    }

    private static ChatEvent.Usage usage(JsonNode response) {
        JsonNode u = response.path("usage");
        return new ChatEvent.Usage(u.path("input_tokens").asInt(0), u.path("output_tokens").asInt(0));
    }
}
