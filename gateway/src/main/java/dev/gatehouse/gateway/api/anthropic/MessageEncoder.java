package dev.gatehouse.gateway.api.anthropic;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.api.NamedEventStream;
import dev.gatehouse.gateway.api.NamedEventStream.Event;
import dev.gatehouse.gateway.api.openai.OpenAiJson;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the ChatEvent stream into Anthropic's message: whole ({@link #add} then {@link #message}),
 * or as the named events of its stream ({@link #start}, {@link #events} for each event, {@link #end}):
 * message_start, then per content block content_block_start, content_block_delta (text_delta or
 * input_json_delta) and content_block_stop, a ping after the first block starts, then message_delta
 * with the stop_reason and usage, and message_stop.
 *
 * <p>Anthropic's blocks follow one another, while a backend may interleave the arguments of several
 * tool calls, or text with a call's arguments: a call that starts, or text that arrives, while a call's
 * block is open is held back and sent once that block ends (calls first, then the text).
 *
 * <p>An answer from an Anthropic target that was sent the client's own body comes with the target's
 * message as {@link ChatEvent.Raw}: a whole answer is that message as it is (streams: see
 * {@link NamedEventStream}).
 */
final class MessageEncoder implements NamedEventStream.Encoder {

    private final String id;
    private final String model;
    private final long inputEstimate;

    // whole message
    private final List<ObjectNode> blocks = new ArrayList<>();
    private final Map<Integer, StringBuilder> wholeArguments = new LinkedHashMap<>(); // by call number
    private final Map<Integer, ObjectNode> wholeCalls = new LinkedHashMap<>();
    private StringBuilder wholeText; // the text block being filled, null after a tool_use block

    // stream
    private int nextIndex;
    private Open open; // the block being streamed, null when none is
    private final Map<Integer, Held> held = new LinkedHashMap<>(); // tool calls waiting for the open block to end
    private final StringBuilder heldText = new StringBuilder(); // text that arrived while a call's block streamed
    private boolean pinged;

    private FinishReason finish;
    private String stopSequence; // the stop sequence that ended the message, when the backend said which
    private ChatEvent.Usage usage;
    private ObjectNode verbatim; // the target's own message, when it was sent the client's body

    /** The block being streamed: text ({@code call} null) or a tool call's. */
    private record Open(int index, Integer call, boolean[] ended) {}

    private record Held(String id, String name, StringBuilder arguments, boolean[] ended) {}

    /** {@code inputEstimate}: message_start's input_tokens, before the backend has counted them. */
    MessageEncoder(String id, String model, long inputEstimate) {
        this.id = id;
        this.model = model;
        this.inputEstimate = inputEstimate;
    }

    void add(ChatEvent e) {
        switch (e) {
            case ChatEvent.Delta d -> {
                if (d.text().isEmpty()) {
                    return;
                }
                if (wholeText == null) {
                    wholeText = new StringBuilder();
                    ObjectNode block = OpenAiJson.MAPPER.createObjectNode().put("type", "text");
                    blocks.add(block);
                }
                wholeText.append(d.text());
                blocks.get(lastTextBlock()).put("text", wholeText.toString());
            }
            case ChatEvent.ToolCallStart t -> {
                wholeText = null;
                ObjectNode block = OpenAiJson.MAPPER.createObjectNode().put("type", "tool_use").put("id", t.id())
                        .put("name", t.name());
                blocks.add(block);
                wholeCalls.put(t.call(), block);
                wholeArguments.put(t.call(), new StringBuilder());
            }
            case ChatEvent.ToolCallDelta t -> wholeArguments.get(t.call()).append(t.arguments());
            case ChatEvent.ToolCallEnd t -> { }
            case ChatEvent.Finish f -> finished(f);
            case ChatEvent.Usage u -> usage = u;
            case ChatEvent.Raw r -> {
                if (r.data() instanceof ObjectNode whole) {
                    verbatim = whole;
                }
            }
        }
    }

    private int lastTextBlock() {
        for (int i = blocks.size() - 1; ; i--) {
            if (blocks.get(i).path("type").asText().equals("text")) {
                return i;
            }
        }
    }

    ObjectNode message() {
        if (verbatim != null) {
            return verbatim;
        }
        wholeCalls.forEach((call, block) -> block.set("input", input(wholeArguments.get(call).toString())));
        ObjectNode m = envelope();
        ArrayNode content = m.putArray("content");
        blocks.forEach(content::add);
        m.put("stop_reason", stopReason(finish, stopSequence));
        m.put("stop_sequence", stopSequence);
        m.set("usage", usage(usage != null ? usage.promptTokens() : 0, usage != null ? usage.completionTokens() : 0));
        return m;
    }

    /** The first event of a stream. */
    @Override
    public Event start() {
        ObjectNode m = envelope();
        m.putArray("content");
        m.putNull("stop_reason");
        m.putNull("stop_sequence");
        m.set("usage", usage(inputEstimate, 1));
        ObjectNode data = event("message_start");
        data.set("message", m);
        return new Event("message_start", data);
    }

    /** The events one ChatEvent becomes (possibly none). */
    @Override
    public List<Event> events(ChatEvent e) {
        List<Event> out = new ArrayList<>();
        switch (e) {
            case ChatEvent.Delta d -> {
                if (d.text().isEmpty()) {
                    break;
                }
                if (open != null && open.call() != null && !open.ended()[0]) { // a call's arguments still stream
                    heldText.append(d.text());
                    break;
                }
                text(out, d.text());
            }
            case ChatEvent.ToolCallStart t -> {
                if (open != null && open.call() != null && !open.ended()[0]) {
                    held.put(t.call(), new Held(t.id(), t.name(), new StringBuilder(), new boolean[1]));
                } else {
                    closeOpen(out);
                    startBlock(out, t.call(), toolUse(t.id(), t.name()));
                }
            }
            case ChatEvent.ToolCallDelta t -> {
                Held h = held.get(t.call());
                if (h != null) {
                    h.arguments().append(t.arguments());
                } else if (open != null && Integer.valueOf(t.call()).equals(open.call()) && !t.arguments().isEmpty()) {
                    out.add(delta(open.index(), "input_json_delta", "partial_json", t.arguments()));
                }
            }
            case ChatEvent.ToolCallEnd t -> {
                Held h = held.get(t.call());
                if (h != null) {
                    h.ended()[0] = true;
                } else if (open != null && Integer.valueOf(t.call()).equals(open.call())) {
                    open.ended()[0] = true;
                    releaseHeld(out);
                }
            }
            case ChatEvent.Finish f -> {
                finished(f);
                closeOpen(out);
                for (Held h : List.copyOf(held.values())) { // calls the backend never ended: sent as they are
                    h.ended()[0] = true;
                }
                releaseHeld(out);
                closeOpen(out);
            }
            case ChatEvent.Usage u -> usage = u;
            case ChatEvent.Raw r -> { } // streams of the target's own events are sent by NamedEventStream
        }
        return out;
    }

    private void finished(ChatEvent.Finish f) {
        finish = f.reason();
        stopSequence = f.stopSequence();
    }

    /** Text into the open text block, or a new one after the open call's block. */
    private void text(List<Event> out, String text) {
        if (open == null || open.call() != null) {
            closeOpen(out);
            startBlock(out, null, OpenAiJson.MAPPER.createObjectNode().put("type", "text").put("text", ""));
        }
        out.add(delta(open.index(), "text_delta", "text", text));
    }

    /** The last events: message_delta with why it stopped and what it used, then message_stop. */
    @Override
    public List<Event> end() {
        List<Event> out = new ArrayList<>();
        closeOpen(out);
        ping(out);
        ObjectNode data = event("message_delta");
        data.putObject("delta").put("stop_reason", stopReason(finish, stopSequence)).put("stop_sequence", stopSequence);
        data.set("usage", usage(usage != null ? usage.promptTokens() : inputEstimate,
                usage != null ? usage.completionTokens() : 0));
        out.add(new Event("message_delta", data));
        out.add(new Event("message_stop", event("message_stop")));
        return out;
    }

    @Override
    public ObjectNode error(ApiException e) {
        return AnthropicApi.error(e);
    }

    /**
     * Held calls, in order, once no call's block is streaming: ended ones whole, the first unfinished
     * one live; once every held call is out, the held text.
     */
    private void releaseHeld(List<Event> out) {
        var it = held.entrySet().iterator();
        while (it.hasNext()) {
            var entry = it.next();
            Held h = entry.getValue();
            closeOpen(out);
            startBlock(out, entry.getKey(), toolUse(h.id(), h.name()));
            if (!h.arguments().isEmpty()) {
                out.add(delta(open.index(), "input_json_delta", "partial_json", h.arguments().toString()));
            }
            it.remove();
            if (!h.ended()[0]) {
                return; // streams live from here on
            }
            open.ended()[0] = true;
        }
        if (!heldText.isEmpty()) {
            text(out, heldText.toString());
            heldText.setLength(0);
        }
    }

    private void startBlock(List<Event> out, Integer call, ObjectNode block) {
        open = new Open(nextIndex++, call, new boolean[1]);
        ObjectNode data = event("content_block_start").put("index", open.index());
        data.set("content_block", block);
        out.add(new Event("content_block_start", data));
        ping(out);
    }

    private void closeOpen(List<Event> out) {
        if (open != null) {
            out.add(new Event("content_block_stop", event("content_block_stop").put("index", open.index())));
            open = null;
        }
    }

    private void ping(List<Event> out) {
        if (!pinged) {
            pinged = true;
            out.add(new Event("ping", event("ping")));
        }
    }

    private static Event delta(int index, String type, String field, String value) {
        ObjectNode data = event("content_block_delta").put("index", index);
        data.putObject("delta").put("type", type).put(field, value);
        return new Event("content_block_delta", data);
    }

    private static ObjectNode toolUse(String id, String name) {
        ObjectNode block = OpenAiJson.MAPPER.createObjectNode().put("type", "tool_use").put("id", id).put("name", name);
        block.putObject("input");
        return block;
    }

    private static ObjectNode event(String type) {
        return OpenAiJson.MAPPER.createObjectNode().put("type", type);
    }

    private ObjectNode envelope() {
        ObjectNode m = OpenAiJson.MAPPER.createObjectNode();
        m.put("id", id);
        m.put("type", "message");
        m.put("role", "assistant");
        m.put("model", model);
        return m;
    }

    private static ObjectNode usage(long input, long output) {
        return OpenAiJson.MAPPER.createObjectNode().put("input_tokens", input).put("output_tokens", output);
    }

    /**
     * A call's arguments as the input object; a model that wrote something else than a JSON object
     * (a small local model may) has it kept under "arguments" rather than lost.
     */
    private static JsonNode input(String arguments) {
        if (arguments.isBlank()) {
            return OpenAiJson.MAPPER.createObjectNode();
        }
        try {
            JsonNode parsed = OpenAiJson.MAPPER.readTree(arguments);
            if (parsed != null && parsed.isObject()) {
                return parsed;
            }
        } catch (JsonProcessingException e) {
            // falls through
        }
        return OpenAiJson.MAPPER.createObjectNode().put("arguments", arguments);
    }

    /** Anthropic's words for why the message ended; null while it has not. */
    static String stopReason(FinishReason reason, String stopSequence) {
        return reason == null ? null : switch (reason) {
            case STOP -> stopSequence != null ? "stop_sequence" : "end_turn";
            case LENGTH -> "max_tokens";
            case TOOL_CALLS -> "tool_use";
            case CONTENT_FILTER -> "refusal";
        };
    }
}
