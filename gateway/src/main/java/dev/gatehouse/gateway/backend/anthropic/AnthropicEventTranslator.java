package dev.gatehouse.gateway.backend.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.StreamTranslator;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Anthropic's answers -> ChatEvents. A stream is message_start (input tokens), content blocks
 * (content_block_start, content_block_delta with text_delta or input_json_delta,
 * content_block_stop), message_delta (stop_reason, output tokens), message_stop; a whole message
 * carries the same in its content blocks, stop_reason and usage. One choice, index 0. A tool_use
 * block is a tool call (numbered in the order the blocks start); the block of the forced tool that
 * stands in for a json_schema response format is the answer's text instead, and its tool_use stop
 * a plain stop. Prompt tokens count the cached ones too (Anthropic's input_tokens leaves out what was
 * read from or written to its prompt cache).
 */
final class AnthropicEventTranslator implements StreamTranslator {
    private final String provider;
    private final String apiKey;
    private final String formatTool; // null when the request has no json_schema response format
    private final Map<Integer, Integer> calls = new HashMap<>(); // content block index -> call number
    private final Set<Integer> formatBlocks = new HashSet<>();
    private int inputTokens;
    private int outputTokens;
    private boolean stopped;

    AnthropicEventTranslator(String provider, String apiKey, String formatTool) {
        this.provider = provider;
        this.apiKey = apiKey;
        this.formatTool = formatTool;
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
        int block = e.path("index").asInt(0);
        switch (e.path("type").asText()) {
            case "error" -> throw AnthropicErrors.inStream(provider, apiKey, e.path("error"));
            case "message_start" -> {
                JsonNode usage = e.path("message").path("usage");
                inputTokens = inputTokens(usage);
                outputTokens = usage.path("output_tokens").asInt(0);
            }
            case "content_block_start" -> {
                JsonNode start = e.path("content_block");
                if (start.path("type").asText().equals("tool_use")) {
                    if (start.path("name").asText().equals(formatTool)) {
                        formatBlocks.add(block);
                    } else {
                        int call = calls.size();
                        calls.put(block, call);
                        events.add(new ChatEvent.ToolCallStart(0, call, start.path("id").asText(), start.path("name").asText()));
                    }
                }
            }
            case "content_block_delta" -> {
                JsonNode delta = e.path("delta");
                String type = delta.path("type").asText();
                if (type.equals("text_delta") && !delta.path("text").asText().isEmpty()) {
                    events.add(new ChatEvent.Delta(0, delta.path("text").asText(), null));
                } else if (type.equals("input_json_delta") && !delta.path("partial_json").asText().isEmpty()) {
                    String json = delta.path("partial_json").asText();
                    if (formatBlocks.contains(block)) {
                        events.add(new ChatEvent.Delta(0, json, null));
                    } else if (calls.containsKey(block)) {
                        events.add(new ChatEvent.ToolCallDelta(0, calls.get(block), json));
                    }
                }
            }
            case "content_block_stop" -> {
                if (calls.containsKey(block)) {
                    events.add(new ChatEvent.ToolCallEnd(0, calls.get(block)));
                }
            }
            case "message_delta" -> {
                outputTokens = e.path("usage").path("output_tokens").asInt(outputTokens);
                if (e.path("usage").has("input_tokens")) { // the final count, when Anthropic sends it here
                    inputTokens = inputTokens(e.path("usage"));
                }
                JsonNode reason = e.path("delta").path("stop_reason");
                if (reason.isTextual()) {
                    events.add(finish(reason.asText(), e.path("delta").path("stop_sequence"), !formatBlocks.isEmpty()));
                }
            }
            case "message_stop" -> {
                stopped = true;
                events.add(new ChatEvent.Usage(inputTokens, outputTokens));
            }
            default -> { } // ping: nothing to say
        }
        return events;
    }

    /** A whole message: its text and tool calls in block order, the finish, the usage. */
    List<ChatEvent> message(JsonNode m) {
        List<ChatEvent> events = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        boolean formatted = false;
        int call = 0;
        for (JsonNode block : m.path("content")) {
            switch (block.path("type").asText()) {
                case "text" -> text.append(block.path("text").asText());
                case "tool_use" -> {
                    if (block.path("name").asText().equals(formatTool)) {
                        text.append(block.path("input").toString());
                        formatted = true;
                    } else {
                        events.add(new ChatEvent.ToolCallStart(0, call, block.path("id").asText(), block.path("name").asText()));
                        events.add(new ChatEvent.ToolCallDelta(0, call, block.path("input").toString()));
                        events.add(new ChatEvent.ToolCallEnd(0, call));
                        call++;
                    }
                }
                default -> { } // thinking and other blocks are not part of the answer's text
            }
        }
        if (!text.isEmpty() || call == 0) {
            events.addFirst(new ChatEvent.Delta(0, text.toString(), null));
        }
        JsonNode usage = m.path("usage");
        events.add(finish(m.path("stop_reason").asText("end_turn"), m.path("stop_sequence"), formatted));
        events.add(new ChatEvent.Usage(inputTokens(usage), usage.path("output_tokens").asInt(0)));
        return events;
    }

    /** The prompt's tokens: input_tokens and those read from or written to the prompt cache. */
    private static int inputTokens(JsonNode usage) {
        return usage.path("input_tokens").asInt(0) + usage.path("cache_creation_input_tokens").asInt(0)
                + usage.path("cache_read_input_tokens").asInt(0);
    }

    /** The finish, with the stop sequence that ended the message when that is why it stopped. */
    private static ChatEvent.Finish finish(String stopReason, JsonNode stopSequence, boolean formatted) {
        return new ChatEvent.Finish(0, finishReason(stopReason, formatted),
                stopReason.equals("stop_sequence") && stopSequence.isTextual() ? stopSequence.asText() : null);
    }

    /** {@code formatted}: the tool_use stop was the response format's forced tool, so the answer simply ended. */
    static FinishReason finishReason(String stopReason, boolean formatted) {
        return switch (stopReason) {
            case "max_tokens" -> FinishReason.LENGTH;
            case "tool_use" -> formatted ? FinishReason.STOP : FinishReason.TOOL_CALLS;
            case "refusal" -> FinishReason.CONTENT_FILTER;
            default -> FinishReason.STOP; // end_turn, stop_sequence, pause_turn
        };
    }
}
