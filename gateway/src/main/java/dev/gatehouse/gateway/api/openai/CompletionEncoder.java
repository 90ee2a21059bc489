package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.FinishReason;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the ChatEvent stream into OpenAI's bodies: a whole {@code chat.completion} /
 * {@code text_completion}, or its {@code chat.completion.chunk} stream (the first delta of each
 * choice carries the role, its last chunk the finish_reason, then the usage chunk with no choices
 * when stream_options.include_usage asks for it).
 */
final class CompletionEncoder {
    private static final SerializedString ID = new SerializedString("id");
    private static final SerializedString OBJECT = new SerializedString("object");
    private static final SerializedString CREATED = new SerializedString("created");
    private static final SerializedString MODEL = new SerializedString("model");
    private static final SerializedString CHOICES = new SerializedString("choices");
    private static final SerializedString INDEX = new SerializedString("index");
    private static final SerializedString DELTA = new SerializedString("delta");
    private static final SerializedString LOGPROBS = new SerializedString("logprobs");
    private static final SerializedString FINISH_REASON = new SerializedString("finish_reason");
    private static final SerializedString CHAT_CHUNK = new SerializedString("chat.completion.chunk");
    private static final SerializedString TEXT_COMPLETION = new SerializedString("text_completion");
    private final boolean chat;
    private final boolean legacyFunctions;
    private final String id;
    private final long created;
    private final ChatRequest request;
    private final Choice[] choices;
    private final SerializedString encodedId; // encoded once, written in every chunk
    private final SerializedString encodedModel;
    private ChatEvent.Usage usage; // for the whole response's usage field
    private static final class Choice {
        final StringBuilder text = new StringBuilder();
        final List<ChatEvent.TokenLogprob> logprobs = new ArrayList<>();
        final List<Integer> offsets = new ArrayList<>(); // where each token's text starts in the choice's text
        final List<ToolCallText> calls = new ArrayList<>(); // by call number
        FinishReason finishReason;
        boolean roleSent;
        int textOffset;
    }

    /** A tool call as it is put together from its start and argument fragments. */
    private record ToolCallText(String id, String name, StringBuilder arguments) {}

    /** {@code legacyFunctions}: the client used the old functions API and reads one {@code function_call}, not tool_calls. */
    CompletionEncoder(boolean chat, String id, long created, ChatRequest request, boolean legacyFunctions) {
        this.legacyFunctions = legacyFunctions;
        this.chat = chat;
        this.id = chat ? id : id.replace("chatcmpl-", "cmpl-");
        this.created = created;
        this.request = request;
        this.encodedId = new SerializedString(this.id);
        this.encodedModel = new SerializedString(request.model());
        this.choices = new Choice[request.choices()];
        for (int i = 0; i < choices.length; i++) {
            choices[i] = new Choice();
        }
    }

    /** Accumulates an event for the non-streaming response. */
    void add(ChatEvent e) {
        switch (e) {
            case ChatEvent.Delta d -> {
                Choice c = choices[d.index()];
                if (d.logprobs() != null) {
                    c.logprobs.addAll(d.logprobs());
                    c.offsets.addAll(offsets(d.logprobs(), c.text.length()));
                }
                c.text.append(d.text());
            }
            case ChatEvent.ToolCallStart t -> choices[t.index()].calls.add(new ToolCallText(t.id(), t.name(), new StringBuilder()));
            case ChatEvent.ToolCallDelta t -> choices[t.index()].calls.get(t.call()).arguments().append(t.arguments());
            case ChatEvent.ToolCallEnd t -> { }
            case ChatEvent.Finish f -> choices[f.index()].finishReason = f.reason();
            case ChatEvent.Usage u -> usage = u;
            case ChatEvent.Raw r -> { }
        }
    }

    ObjectNode response() {
        ObjectNode root = OpenAiJson.envelope(id, chat ? "chat.completion" : "text_completion", created, request.model());
        ArrayNode list = root.putArray("choices");
        for (int i = 0; i < choices.length; i++) {
            Choice c = choices[i];
            ObjectNode choice = list.addObject();
            choice.put("index", i);
            if (chat) {
                ObjectNode message = choice.putObject("message");
                message.put("role", "assistant");
                if (c.text.isEmpty() && !c.calls.isEmpty()) {
                    message.putNull("content"); // a turn that only calls tools, as OpenAI sends it
                } else {
                    message.put("content", c.text.toString());
                }
                message.putNull("refusal");
                if (!c.calls.isEmpty() && legacyFunctions) {
                    ToolCallText call = c.calls.getFirst();
                    message.putObject("function_call").put("name", call.name()).put("arguments", call.arguments().toString());
                } else if (!c.calls.isEmpty()) {
                    ArrayNode calls = message.putArray("tool_calls");
                    for (ToolCallText call : c.calls) {
                        ObjectNode t = calls.addObject().put("id", call.id()).put("type", "function");
                        t.putObject("function").put("name", call.name()).put("arguments", call.arguments().toString());
                    }
                }
            } else {
                choice.put("text", c.text.toString());
            }
            choice.set("logprobs", logprobs(c.logprobs, c.offsets));
            choice.put("finish_reason", finishReason(c.finishReason, legacyFunctions));
        }
        if (usage != null) {
            root.set("usage", OpenAiJson.usage(usage));
        }
        return root;
    }

    /**
     * Writes the chunks one event becomes when streaming (possibly none) as SSE events, with a
     * generator straight into the response: the names, and the id, object and model every chunk
     * repeats, are encoded once (docs/benchmarks.md, the proxy path's fifth pass: a tree per chunk
     * and a byte array per tree were the larger part of a streamed answer's own work).
     */
    void write(ChatEvent e, SseWriter sse) throws IOException {
        switch (e) {
            case ChatEvent.Delta d -> {
                Choice c = choices[d.index()];
                roleChunk(d.index(), sse);
                if (!d.text().isEmpty() || d.logprobs() != null) {
                    JsonGenerator g = openChoice(sse, d.index());
                    if (chat) {
                        g.writeFieldName(DELTA);
                        g.writeStartObject();
                        g.writeStringField("content", d.text());
                        g.writeEndObject();
                    }
                    g.writeFieldName(LOGPROBS);
                    if (d.logprobs() == null) {
                        g.writeNull();
                    } else {
                        OpenAiJson.MAPPER.writeTree(g, logprobs(d.logprobs(), offsets(d.logprobs(), c.textOffset)));
                    }
                    g.writeFieldName(FINISH_REASON);
                    g.writeNull();
                    if (!chat) {
                        g.writeStringField("text", d.text());
                    }
                    closeChoice(sse, g);
                    c.textOffset += d.text().length();
                }
            }
            case ChatEvent.ToolCallStart t when legacyFunctions -> {
                if (t.call() == 0) { // the functions API has one call per answer
                    roleChunk(t.index(), sse);
                    JsonGenerator g = openDelta(sse, t.index());
                    g.writeObjectFieldStart("function_call");
                    g.writeStringField("name", t.name());
                    g.writeStringField("arguments", "");
                    g.writeEndObject();
                    closeDelta(sse, g);
                }
            }
            case ChatEvent.ToolCallDelta t when legacyFunctions -> {
                if (t.call() == 0) {
                    JsonGenerator g = openDelta(sse, t.index());
                    g.writeObjectFieldStart("function_call");
                    g.writeStringField("arguments", t.arguments());
                    g.writeEndObject();
                    closeDelta(sse, g);
                }
            }
            case ChatEvent.ToolCallStart t -> { // the first fragment of a call carries its id and name
                roleChunk(t.index(), sse);
                JsonGenerator g = openDelta(sse, t.index());
                g.writeArrayFieldStart("tool_calls");
                g.writeStartObject();
                g.writeNumberField("index", t.call());
                g.writeStringField("id", t.id());
                g.writeStringField("type", "function");
                g.writeObjectFieldStart("function");
                g.writeStringField("name", t.name());
                g.writeStringField("arguments", "");
                g.writeEndObject();
                g.writeEndObject();
                g.writeEndArray();
                closeDelta(sse, g);
            }
            case ChatEvent.ToolCallDelta t -> {
                JsonGenerator g = openDelta(sse, t.index());
                g.writeArrayFieldStart("tool_calls");
                g.writeStartObject();
                g.writeNumberField("index", t.call());
                g.writeObjectFieldStart("function");
                g.writeStringField("arguments", t.arguments());
                g.writeEndObject();
                g.writeEndObject();
                g.writeEndArray();
                closeDelta(sse, g);
            }
            case ChatEvent.ToolCallEnd t -> { }
            case ChatEvent.Finish f -> {
                JsonGenerator g = openChoice(sse, f.index());
                if (chat) {
                    g.writeFieldName(DELTA);
                    g.writeStartObject();
                    g.writeEndObject();
                }
                g.writeFieldName(LOGPROBS);
                g.writeNull();
                g.writeFieldName(FINISH_REASON);
                g.writeString(finishReason(f.reason(), legacyFunctions));
                if (!chat) {
                    g.writeStringField("text", "");
                }
                closeChoice(sse, g);
            }
            case ChatEvent.Usage u -> {
                if (request.includeUsage()) {
                    JsonGenerator g = sse.beginData();
                    head(g);
                    g.writeFieldName(CHOICES);
                    g.writeStartArray();
                    g.writeEndArray();
                    g.writeFieldName("usage");
                    OpenAiJson.MAPPER.writeTree(g, OpenAiJson.usage(u));
                    g.writeEndObject();
                    sse.endData();
                }
            }
            case ChatEvent.Raw r -> { }
        }
    }

    /** The first chunk of a chat choice says who speaks. */
    private void roleChunk(int index, SseWriter sse) throws IOException {
        Choice c = choices[index];
        if (chat && !c.roleSent) {
            c.roleSent = true;
            JsonGenerator g = openDelta(sse, index);
            g.writeStringField("role", "assistant");
            g.writeStringField("content", "");
            closeDelta(sse, g);
        }
    }

    /** The envelope every chunk starts with: id, object, created, model. */
    private void head(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeFieldName(ID);
        g.writeString(encodedId);
        g.writeFieldName(OBJECT);
        g.writeString(chat ? CHAT_CHUNK : TEXT_COMPLETION);
        g.writeFieldName(CREATED);
        g.writeNumber(created);
        g.writeFieldName(MODEL);
        g.writeString(encodedModel);
    }

    /** A chunk up to its one choice's index; the choice's fields follow. */
    private JsonGenerator openChoice(SseWriter sse, int index) throws IOException {
        JsonGenerator g = sse.beginData();
        head(g);
        g.writeFieldName(CHOICES);
        g.writeStartArray();
        g.writeStartObject();
        g.writeFieldName(INDEX);
        g.writeNumber(index);
        return g;
    }

    private static void closeChoice(SseWriter sse, JsonGenerator g) throws IOException {
        g.writeEndObject();
        g.writeEndArray();
        g.writeEndObject();
        sse.endData();
    }

    /** A chat chunk up to inside its delta, for a tool call's fields. */
    private JsonGenerator openDelta(SseWriter sse, int index) throws IOException {
        JsonGenerator g = openChoice(sse, index);
        g.writeFieldName(DELTA);
        g.writeStartObject();
        return g;
    }

    /** Ends the delta, then the choice with no logprobs and no finish yet. */
    private static void closeDelta(SseWriter sse, JsonGenerator g) throws IOException {
        g.writeEndObject();
        g.writeFieldName(LOGPROBS);
        g.writeNull();
        g.writeFieldName(FINISH_REASON);
        g.writeNull();
        closeChoice(sse, g);
    }

    /** OpenAI's words for why a choice ended; null while it has not. */
    static String finishReason(FinishReason reason, boolean legacyFunctions) {
        return reason == null ? null : switch (reason) {
            case STOP -> "stop";
            case LENGTH -> "length";
            case TOOL_CALLS -> legacyFunctions ? "function_call" : "tool_calls";
            case CONTENT_FILTER -> "content_filter";
        };
    }

    /**
     * text_offset of a delta's tokens: the first starts where the delta's text does (after the echoed
     * prompt and everything before it, so the offsets index the choice's own text); any later ones in
     * the same delta follow by their token text.
     */
    private static List<Integer> offsets(List<ChatEvent.TokenLogprob> tokens, int start) {
        List<Integer> out = new ArrayList<>();
        int offset = start;
        for (ChatEvent.TokenLogprob t : tokens) {
            out.add(offset);
            offset += t.token().length();
        }
        return out;
    }

    /** A choice's logprobs: null unless asked for, else in the chat or the completions shape. */
    private JsonNode logprobs(List<ChatEvent.TokenLogprob> tokens, List<Integer> offsets) {
        if (!request.sampling().logprobs()) {
            return NullNode.getInstance();
        }
        return chat ? OpenAiJson.chatLogprobs(tokens) : OpenAiJson.completionLogprobs(tokens, offsets);
    }
}
