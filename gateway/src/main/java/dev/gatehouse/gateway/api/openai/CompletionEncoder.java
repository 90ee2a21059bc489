package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.FinishReason;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns the ChatEvent stream into OpenAI's bodies: a whole {@code chat.completion} /
 * {@code text_completion}, or its {@code chat.completion.chunk} stream (the first delta of each
 * choice carries the role, its last chunk the finish_reason, then the usage chunk with no choices
 * when stream_options.include_usage asks for it).
 */
final class CompletionEncoder {
    private final boolean chat;
    private final boolean legacyFunctions;
    private final String id;
    private final long created;
    private final ChatRequest request;
    private final Choice[] choices;
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
            putLogprobs(choice, c.logprobs, c.offsets);
            choice.put("finish_reason", finishReason(c.finishReason, legacyFunctions));
        }
        if (usage != null) {
            root.set("usage", OpenAiJson.usage(usage));
        }
        return root;
    }

    /** The chunks one event becomes when streaming (possibly none). */
    List<ObjectNode> chunks(ChatEvent e) {
        List<ObjectNode> out = new ArrayList<>();
        switch (e) {
            case ChatEvent.Delta d -> {
                Choice c = choices[d.index()];
                roleChunk(d.index(), out);
                if (!d.text().isEmpty() || d.logprobs() != null) {
                    ObjectNode chunk = chunk(d.index());
                    if (chat) {
                        delta(chunk).put("content", d.text());
                    } else {
                        ((ObjectNode) chunk.get("choices").get(0)).put("text", d.text());
                    }
                    if (d.logprobs() != null) {
                        putLogprobs(chunk, d.logprobs(), offsets(d.logprobs(), c.textOffset));
                    }
                    c.textOffset += d.text().length();
                        out.add(chunk);
                }
            }
            case ChatEvent.ToolCallStart t when legacyFunctions -> {
                if (t.call() == 0) { // the functions API has one call per answer
                    roleChunk(t.index(), out);
                    ObjectNode chunk = chunk(t.index());
                    delta(chunk).putObject("function_call").put("name", t.name()).put("arguments", "");
                    out.add(chunk);
                }
            }
            case ChatEvent.ToolCallDelta t when legacyFunctions -> {
                if (t.call() == 0) {
                    ObjectNode chunk = chunk(t.index());
                    delta(chunk).putObject("function_call").put("arguments", t.arguments());
                    out.add(chunk);
                }
            }
            case ChatEvent.ToolCallStart t -> { // the first fragment of a call carries its id and name
                roleChunk(t.index(), out);
                ObjectNode chunk = chunk(t.index());
                ObjectNode call = delta(chunk).putArray("tool_calls").addObject().put("index", t.call())
                        .put("id", t.id()).put("type", "function");
                call.putObject("function").put("name", t.name()).put("arguments", "");
                out.add(chunk);
            }
            case ChatEvent.ToolCallDelta t -> {
                ObjectNode chunk = chunk(t.index());
                delta(chunk).putArray("tool_calls").addObject().put("index", t.call())
                        .putObject("function").put("arguments", t.arguments());
                out.add(chunk);
            }
            case ChatEvent.ToolCallEnd t -> { }
            case ChatEvent.Finish f -> {
                ObjectNode chunk = chunk(f.index());
                ObjectNode choice = (ObjectNode) chunk.get("choices").get(0);
                if (!chat) {
                    choice.put("text", "");
                }
                choice.put("finish_reason", finishReason(f.reason(), legacyFunctions));
                out.add(chunk);
            }
            case ChatEvent.Usage u -> {
                if (request.includeUsage()) {
                    ObjectNode chunk = OpenAiJson.envelope(id, chat ? "chat.completion.chunk" : "text_completion", created,
                            request.model());
                    chunk.putArray("choices");
                    chunk.set("usage", OpenAiJson.usage(u));
                    out.add(chunk);
                }
            }
            case ChatEvent.Raw r -> { }
        }
        return out;
    }

    /** The first chunk of a chat choice says who speaks. */
    private void roleChunk(int index, List<ObjectNode> out) {
        Choice c = choices[index];
        if (chat && !c.roleSent) {
            c.roleSent = true;
            ObjectNode first = chunk(index);
            delta(first).put("role", "assistant").put("content", "");
            out.add(first);
        }
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

    /** A chunk for one choice with an empty delta and finish_reason null, to be filled in. */
    private ObjectNode chunk(int index) {
        ObjectNode root = OpenAiJson.envelope(id, chat ? "chat.completion.chunk" : "text_completion", created, request.model());
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", index);
        if (chat) {
            choice.putObject("delta");
        }
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return root;
    }

    private static ObjectNode delta(ObjectNode chunk) {
        return (ObjectNode) chunk.get("choices").get(0).get("delta");
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

    private void putLogprobs(ObjectNode target, List<ChatEvent.TokenLogprob> tokens, List<Integer> offsets) {
        ObjectNode choice = target.has("choices") ? (ObjectNode) target.get("choices").get(0) : target;
        if (!request.sampling().logprobs()) {
            choice.putNull("logprobs");
        } else if (chat) {
            choice.set("logprobs", OpenAiJson.chatLogprobs(tokens));
        } else {
            choice.set("logprobs", OpenAiJson.completionLogprobs(tokens, offsets));
        }
    }
}
