package dev.gatehouse.gateway.backend.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.ProviderHttp;
import dev.gatehouse.gateway.backend.StreamTranslator;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's answers -> ChatEvents: a streamed chunk ({@code choices[].delta.content} for chat,
 * {@code choices[].text} for completions, {@code delta.tool_calls} fragments) or a whole response
 * ({@code choices[].message.content} and {@code tool_calls}). One translator per stream: it keeps
 * which tool calls of each choice have started, numbering them in the order they began whatever
 * index the server gives them, and ends them all when their choice finishes.
 */
final class OpenAiEventTranslator implements StreamTranslator {
    private final String provider;
    private final String apiKey;
    /** Per choice: the server's tool-call index -> the call number the events carry. */
    private final Map<Integer, Map<Integer, Integer>> calls = new HashMap<>();

    OpenAiEventTranslator(String provider, String apiKey) {
        this.provider = provider;
        this.apiKey = apiKey;
    }

    /** The stream ends at data: [DONE] (the template's), never at the end of the body. */
    @Override
    public boolean done() {
        return false;
    }

    @Override
    public List<ChatEvent> atEnd() {
        return null;
    }

    /** One chunk of a stream; the usage chunk (no choices) gives the Usage event; an error object ends it. */
    @Override
    public List<ChatEvent> event(JsonNode chunk) {
        if (chunk.has("error")) {
            throw OpenAiErrors.inStream(provider, apiKey, chunk.path("error"));
        }
        List<ChatEvent> events = new ArrayList<>();
        for (JsonNode choice : chunk.path("choices")) {
            int index = choice.path("index").asInt(0);
            JsonNode delta = choice.path("delta");
            String text = choice.has("delta") ? delta.path("content").asText("") : choice.path("text").asText("");
            List<ChatEvent.TokenLogprob> logprobs = logprobs(choice.path("logprobs"));
            if (!text.isEmpty() || logprobs != null) {
                events.add(new ChatEvent.Delta(index, text, logprobs));
            }
            for (JsonNode call : delta.path("tool_calls")) {
                toolCallFragment(index, call, events);
            }
            if (choice.path("finish_reason").isTextual()) {
                endToolCalls(index, events);
                events.add(new ChatEvent.Finish(index, finishReason(choice.path("finish_reason").asText())));
            }
        }
        usage(chunk, events);
        return events;
    }

    /**
     * One chunk read from its text with a streaming parser, no tree: the plain chunks of a streamed
     * answer (text, finish, usage) are most of a proxied stream's events, and a tree per chunk was
     * the larger part of its translation (docs/benchmarks.md, the proxy path's fifth pass). A chunk
     * with anything else (an error, tool calls, logprobs, a field of an unexpected type or given
     * twice) is read again as a tree by {@link #event(JsonNode)}, so both ways give the same events.
     */
    @Override
    public List<ChatEvent> event(String json) throws IOException {
        PlainChunk chunk = PlainChunk.read(json);
        if (chunk == null) {
            return event(ProviderHttp.MAPPER.readTree(json));
        }
        List<ChatEvent> events = new ArrayList<>(chunk.choices().size() + 1);
        for (PlainChunk.PlainChoice choice : chunk.choices()) {
            if (!choice.text().isEmpty()) {
                events.add(new ChatEvent.Delta(choice.index(), choice.text(), null));
            }
            if (choice.finishReason() != null) {
                endToolCalls(choice.index(), events);
                events.add(new ChatEvent.Finish(choice.index(), finishReason(choice.finishReason())));
            }
        }
        if (chunk.usage() != null) {
            events.add(chunk.usage());
        }
        return events;
    }

    /** A choice's tool calls still open end when it finishes. */
    private void endToolCalls(int index, List<ChatEvent> events) {
        Map<Integer, Integer> open = calls.remove(index);
        if (open != null) {
            open.values().stream().sorted().forEach(n -> events.add(new ChatEvent.ToolCallEnd(index, n)));
        }
    }

    /** A fragment of a streamed tool call: the first (with id and name) starts it, then arguments follow. */
    private void toolCallFragment(int index, JsonNode call, List<ChatEvent> events) {
        Map<Integer, Integer> open = calls.computeIfAbsent(index, i -> new LinkedHashMap<>());
        int serverIndex = call.path("index").asInt(open.size());
        Integer number = open.get(serverIndex);
        JsonNode function = call.path("function");
        if (number == null) {
            number = open.size();
            open.put(serverIndex, number);
            events.add(new ChatEvent.ToolCallStart(index, number, call.path("id").asText("call_" + index + "_" + number),
                    function.path("name").asText("")));
        }
        String arguments = function.path("arguments").asText("");
        if (!arguments.isEmpty()) {
            events.add(new ChatEvent.ToolCallDelta(index, number, arguments));
        }
    }

    /** A non-streamed response: per choice its whole text then its finish, usage last. */
    static List<ChatEvent> response(JsonNode response) {
        List<ChatEvent> events = new ArrayList<>();
        for (JsonNode choice : response.path("choices")) {
            int index = choice.path("index").asInt(0);
            JsonNode message = choice.path("message");
            String text = choice.has("message") ? message.path("content").asText("") : choice.path("text").asText("");
            JsonNode toolCalls = message.path("tool_calls");
            if (!text.isEmpty() || toolCalls.isEmpty()) {
                events.add(new ChatEvent.Delta(index, text, logprobs(choice.path("logprobs"))));
            }
            for (int n = 0; n < toolCalls.size(); n++) {
                JsonNode call = toolCalls.get(n);
                events.add(new ChatEvent.ToolCallStart(index, n, call.path("id").asText("call_" + index + "_" + n),
                        call.path("function").path("name").asText("")));
                String arguments = call.path("function").path("arguments").asText("");
                if (!arguments.isEmpty()) {
                    events.add(new ChatEvent.ToolCallDelta(index, n, arguments));
                }
                events.add(new ChatEvent.ToolCallEnd(index, n));
            }
            finish(choice, index, events);
        }
        usage(response, events);
        return events;
    }

    private static void finish(JsonNode choice, int index, List<ChatEvent> events) {
        JsonNode reason = choice.path("finish_reason");
        if (reason.isTextual()) {
            events.add(new ChatEvent.Finish(index, finishReason(reason.asText())));
        }
    }

    static FinishReason finishReason(String reason) {
        return switch (reason) {
            case "length" -> FinishReason.LENGTH;
            case "tool_calls", "function_call" -> FinishReason.TOOL_CALLS;
            case "content_filter" -> FinishReason.CONTENT_FILTER;
            default -> FinishReason.STOP;
        };
    }

    private static void usage(JsonNode node, List<ChatEvent> events) {
        JsonNode u = node.path("usage");
        if (u.isObject()) {
            events.add(new ChatEvent.Usage(u.path("prompt_tokens").asInt(0), u.path("completion_tokens").asInt(0)));
        }
    }

    /** Chat logprobs ({@code content: [{token, logprob, top_logprobs}]}); null when absent. */
    private static List<ChatEvent.TokenLogprob> logprobs(JsonNode node) {
        JsonNode content = node.path("content");
        if (!content.isArray() || content.isEmpty()) {
            return null;
        }
        List<ChatEvent.TokenLogprob> out = new ArrayList<>();
        for (JsonNode t : content) {
            List<ChatEvent.TopLogprob> top = new ArrayList<>();
            for (JsonNode alt : t.path("top_logprobs")) {
                top.add(new ChatEvent.TopLogprob(alt.path("token").asText(), (float) alt.path("logprob").asDouble()));
            }
            out.add(new ChatEvent.TokenLogprob(t.path("token").asText(), (float) t.path("logprob").asDouble(), top));
        }
        return out;
    }
}
