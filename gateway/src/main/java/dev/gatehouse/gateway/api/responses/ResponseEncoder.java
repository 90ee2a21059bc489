package dev.gatehouse.gateway.api.responses;

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
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Turns the ChatEvent stream into a Responses API {@code response} object: whole ({@link #add} then
 * {@link #response}), or as its named stream events ({@link #start}, {@link #events}, {@link #end}),
 * each with a {@code sequence_number}: response.created, then per output item
 * response.output_item.added, for a message response.content_part.added, response.output_text.delta
 * ... done, for a function call response.function_call_arguments.delta ... done,
 * response.output_item.done, and last response.completed (or response.incomplete at the token limit).
 */
final class ResponseEncoder implements NamedEventStream.Encoder {

    private final String id;
    private final long createdAt;
    private final String model;
    private final JsonNode body; // the request, whose settings the response echoes
    private final List<ObjectNode> output = new ArrayList<>();
    private ObjectNode openMessage; // the message item text is being added to; null after a call
    private final Map<Integer, ObjectNode> calls = new HashMap<>(); // by call number
    private final Map<ObjectNode, Integer> indexes = new IdentityHashMap<>(); // output_index of each item (they change)
    private FinishReason finish;
    private ChatEvent.Usage usage;
    private int sequence;
    private ObjectNode verbatim; // the target's own response object, when it was sent the client's body

    ResponseEncoder(String id, long createdAt, String model, JsonNode body) {
        this.id = id;
        this.createdAt = createdAt;
        this.model = model;
        this.body = body;
    }

    /** Accumulates one event for the whole response. */
    void add(ChatEvent e) {
        events(e, null);
    }

    ObjectNode response() {
        if (verbatim != null) {
            return verbatim;
        }
        closeMessage(null);
        return envelope(finish == FinishReason.LENGTH ? "incomplete" : "completed", true);
    }

    @Override
    public Event start() {
        ObjectNode data = event("response.created");
        data.set("response", envelope("in_progress", false));
        return new Event("response.created", data);
    }

    @Override
    public List<Event> events(ChatEvent e) {
        List<Event> out = new ArrayList<>();
        events(e, out);
        return out;
    }

    @Override
    public List<Event> end() {
        List<Event> out = new ArrayList<>();
        closeMessage(out);
        String status = finish == FinishReason.LENGTH ? "incomplete" : "completed";
        String name = "response." + status;
        ObjectNode data = event(name);
        data.set("response", envelope(status, true));
        out.add(new Event(name, data));
        return out;
    }

    /** The stream's error event: {type: error, code, message, param, sequence_number}. */
    @Override
    public ObjectNode error(ApiException e) {
        ObjectNode n = event("error");
        n.put("code", e.code() != null ? e.code() : e.type());
        n.put("message", e.getMessage());
        n.put("param", e.param());
        return n;
    }

    /** Applies one event to the output; {@code out} collects the stream events it makes (null: whole response). */
    private void events(ChatEvent e, List<Event> out) {
        switch (e) {
            case ChatEvent.Delta d -> {
                if (d.text().isEmpty()) {
                    return;
                }
                if (openMessage == null) {
                    openMessage = item("message", "msg_").put("role", "assistant");
                    openMessage.putArray("content");
                    added(openMessage, out);
                    ObjectNode part = part("");
                    openMessage.withArray("content").add(part);
                    if (out != null) {
                        ObjectNode data = itemEvent("response.content_part.added", openMessage).put("content_index", 0);
                        data.set("part", part("")); // a copy: the part itself grows
                        out.add(new Event("response.content_part.added", data));
                    }
                }
                ObjectNode part = (ObjectNode) openMessage.withArray("content").get(0);
                part.put("text", part.path("text").asText() + d.text());
                if (out != null) {
                    ObjectNode data = itemEvent("response.output_text.delta", openMessage).put("content_index", 0)
                            .put("delta", d.text());
                    data.putArray("logprobs");
                    out.add(new Event("response.output_text.delta", data));
                }
            }
            case ChatEvent.ToolCallStart t -> {
                closeMessage(out);
                ObjectNode call = item("function_call", "fc_").put("call_id", t.id()).put("name", t.name()).put("arguments", "");
                calls.put(t.call(), call);
                added(call, out);
            }
            case ChatEvent.ToolCallDelta t -> {
                ObjectNode call = calls.get(t.call());
                call.put("arguments", call.path("arguments").asText() + t.arguments());
                if (out != null && !t.arguments().isEmpty()) {
                    out.add(new Event("response.function_call_arguments.delta",
                            itemEvent("response.function_call_arguments.delta", call).put("delta", t.arguments())));
                }
            }
            case ChatEvent.ToolCallEnd t -> {
                ObjectNode call = calls.get(t.call());
                call.put("status", "completed");
                if (out != null) {
                    out.add(new Event("response.function_call_arguments.done", itemEvent("response.function_call_arguments.done",
                            call).put("name", call.path("name").asText()).put("arguments", call.path("arguments").asText())));
                    done(call, out);
                }
            }
            case ChatEvent.Finish f -> {
                finish = f.reason();
                closeMessage(out);
            }
            case ChatEvent.Usage u -> usage = u;
            case ChatEvent.Raw r -> {
                if (out == null && r.data() instanceof ObjectNode whole) {
                    verbatim = whole;
                }
            }
        }
    }

    /** The message item being written is complete: its text, its part and itself are done. */
    private void closeMessage(List<Event> out) {
        if (openMessage == null) {
            return;
        }
        openMessage.put("status", finish == FinishReason.LENGTH ? "incomplete" : "completed");
        if (out != null) {
            ObjectNode part = (ObjectNode) openMessage.withArray("content").get(0);
            ObjectNode textDone = itemEvent("response.output_text.done", openMessage).put("content_index", 0)
                    .put("text", part.path("text").asText());
            textDone.putArray("logprobs");
            out.add(new Event("response.output_text.done", textDone));
            ObjectNode data = itemEvent("response.content_part.done", openMessage).put("content_index", 0);
            data.set("part", part.deepCopy());
            out.add(new Event("response.content_part.done", data));
            done(openMessage, out);
        }
        openMessage = null;
    }

    private void added(ObjectNode item, List<Event> out) {
        indexes.put(item, output.size());
        output.add(item);
        if (out != null) {
            ObjectNode data = event("response.output_item.added").put("output_index", indexes.get(item));
            data.set("item", item.deepCopy());
            out.add(new Event("response.output_item.added", data));
        }
    }

    private void done(ObjectNode item, List<Event> out) {
        ObjectNode data = event("response.output_item.done").put("output_index", indexes.get(item));
        data.set("item", item.deepCopy());
        out.add(new Event("response.output_item.done", data));
    }

    private ObjectNode itemEvent(String type, ObjectNode item) {
        return event(type).put("item_id", item.path("id").asText()).put("output_index", indexes.get(item));
    }

    private ObjectNode event(String type) {
        return OpenAiJson.MAPPER.createObjectNode().put("type", type).put("sequence_number", sequence++);
    }

    private static ObjectNode item(String type, String idPrefix) {
        return OpenAiJson.MAPPER.createObjectNode().put("id", idPrefix + UUID.randomUUID().toString().replace("-", ""))
                .put("type", type).put("status", "in_progress");
    }

    private static ObjectNode part(String text) {
        ObjectNode part = OpenAiJson.MAPPER.createObjectNode().put("type", "output_text").put("text", text);
        part.putArray("annotations");
        part.putArray("logprobs");
        return part;
    }

    /** The response object: the request's settings echoed, and, once done, the output and usage. */
    private ObjectNode envelope(String status, boolean done) {
        ObjectNode r = OpenAiJson.MAPPER.createObjectNode();
        r.put("id", id);
        r.put("object", "response");
        r.put("created_at", createdAt);
        r.put("status", status);
        r.put("background", false);
        r.putNull("error");
        if (status.equals("incomplete")) {
            r.putObject("incomplete_details").put("reason", "max_output_tokens");
        } else {
            r.putNull("incomplete_details");
        }
        r.set("instructions", body.path("instructions").isTextual() ? body.get("instructions") : null);
        r.set("max_output_tokens", body.path("max_output_tokens").isIntegralNumber() ? body.get("max_output_tokens") : null);
        r.put("model", model);
        ArrayNode items = r.putArray("output");
        if (done) {
            output.forEach(items::add);
        }
        r.put("parallel_tool_calls", body.path("parallel_tool_calls").asBoolean(true));
        r.putNull("previous_response_id");
        r.put("store", false);
        r.put("temperature", body.path("temperature").isNumber() ? body.get("temperature").asDouble() : 1.0);
        r.set("text", body.path("text").path("format").isObject() ? body.get("text")
                : OpenAiJson.MAPPER.createObjectNode().set("format", OpenAiJson.MAPPER.createObjectNode().put("type", "text")));
        r.set("tool_choice", body.hasNonNull("tool_choice") ? body.get("tool_choice") : r.textNode("auto"));
        r.set("tools", body.path("tools").isArray() ? body.get("tools") : OpenAiJson.MAPPER.createArrayNode());
        r.put("top_p", body.path("top_p").isNumber() ? body.get("top_p").asDouble() : 1.0);
        r.put("truncation", "disabled");
        r.set("user", body.path("user").isTextual() ? body.get("user") : null);
        r.set("metadata", body.path("metadata").isObject() ? body.get("metadata") : OpenAiJson.MAPPER.createObjectNode());
        if (done && usage != null) {
            ObjectNode u = r.putObject("usage");
            u.put("input_tokens", usage.promptTokens());
            u.putObject("input_tokens_details").put("cached_tokens", 0).put("cache_write_tokens", 0);
            u.put("output_tokens", usage.completionTokens());
            u.putObject("output_tokens_details").put("reasoning_tokens", 0);
            u.put("total_tokens", usage.totalTokens());
        } else {
            r.putNull("usage");
        }
        return r;
    }
}
