package dev.gatehouse.gateway.backend.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A fake api.anthropic.com on a free loopback port: POST /v1/messages answered as the Messages API
 * reference shows (a message object, or message_start ... message_stop events), with its error
 * bodies on demand. With tools it answers as Claude does: {@link #PREAMBLE} then two tool_use
 * blocks ({@link #CALLS}, streamed as input_json_delta fragments); with a forced tool
 * ({@code tool_choice: {type: tool}}) one tool_use of that tool with {@link #FORMAT_INPUT}; after
 * tool results, {@link #TOOL_ANSWER}. With {@code thinking} it answers as extended thinking does: a
 * thinking block ({@link #THOUGHT}, signed), a redacted_thinking block and {@link #REPLY} with a
 * citation, its usage counting prompt-cache tokens ({@link #CACHE_TOKENS}); with a stop sequence that
 * occurs in {@link #REPLY}, the reply up to it, stopped there.
 */
public final class MockAnthropic implements AutoCloseable {
    public static final String REPLY = "Hello from Claude.";
    public static final String KEY = "sk-ant-api03-MOCK-abcdefghijklmnop0123456789";
    public static final String PREAMBLE = "I'll check both cities.";
    public static final List<List<String>> CALLS = List.of(
            List.of("toolu_01A09q90qw90lq917835lq9", "get_weather", "{\"city\":\"Paris\",\"unit\":\"celsius\"}"),
            List.of("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", "{\"city\":\"Tokyo\",\"unit\":\"celsius\"}"));
    public static final String TOOL_ANSWER = "Paris is sunny at 21°C; Tokyo is rainy at 14°C.";
    public static final String FORMAT_INPUT = "{\"city\":\"Paris\",\"temperature\":21}";
    public static final String THOUGHT = "The user wants a greeting.";
    /** cache_creation_input_tokens + cache_read_input_tokens of a thinking answer (whose input_tokens is 12). */
    public static final int CACHE_TOKENS = 150;

    public enum Fault {
        OVERLOADED, RATE_LIMITED, BAD_REQUEST, OVERLOADED_IN_STREAM,
        /** 400 invalid_request_error "prompt is too long: ... tokens > 200000 maximum": a context length error */
        PROMPT_TOO_LONG,
        /** 500 api_error */
        SERVER_ERROR,
        /** 429 rate_limit_error with retry-after: 1, short enough for the router to wait */
        RATE_LIMITED_BRIEFLY,
        /** streams: message_start, then an overloaded_error event before any text */
        OVERLOADED_BEFORE_TEXT
    }

    public record Received(Map<String, List<String>> headers, JsonNode body) {
        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final Queue<Fault> faults = new ConcurrentLinkedQueue<>();
    private final List<Received> received = new CopyOnWriteArrayList<>();

    public MockAnthropic() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/messages", this::messages);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    /** {@code http://127.0.0.1:PORT}, what base-url takes. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public void failNext(Fault... next) {
        faults.addAll(List.of(next));
    }

    public void clearFaults() {
        faults.clear();
    }

    public List<Received> received() {
        return received;
    }

    private void messages(HttpExchange ex) throws IOException {
        JsonNode body = JSON.readTree(ex.getRequestBody());
        received.add(new Received(Map.copyOf(ex.getRequestHeaders()), body));
        Fault fault = faults.poll();
        switch (fault == null ? "none" : fault.name()) {
            case "OVERLOADED" -> send(ex, 529, Map.of(), """
                    {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""");
            case "RATE_LIMITED" -> send(ex, 429, Map.of("retry-after", "7"), """
                    {"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded \
                    your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers \
                    for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later."}}""");
            case "SERVER_ERROR" -> send(ex, 500, Map.of(), """
                    {"type":"error","error":{"type":"api_error","message":"Internal server error"}}""");
            case "RATE_LIMITED_BRIEFLY" -> send(ex, 429, Map.of("retry-after", "1"), """
                    {"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your \
                    per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers for \
                    current usage. Please reduce the prompt length or the maximum tokens requested, or try again later."}}""");
            case "BAD_REQUEST" -> send(ex, 400, Map.of(), """
                    {"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate \
                    between \\"user\\" and \\"assistant\\", but found multiple \\"user\\" roles in a row"}}""");
            case "PROMPT_TOO_LONG" -> send(ex, 400, Map.of(), """
                    {"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208656 tokens \
                    > 200000 maximum"},"request_id":"req_011CTHk1mwGUHsoh8MJuB6fJ"}""");
            default -> {
                String model = body.path("model").asText();
                if (body.has("thinking")) {
                    thinking(ex, model, body.path("stream").asBoolean(false));
                    return;
                }
                for (JsonNode stop : body.path("stop_sequences")) {
                    if (REPLY.contains(stop.asText())) { // as Claude would: the reply ends before it
                        stopped(ex, model, stop.asText(), body.path("stream").asBoolean(false));
                        return;
                    }
                }
                JsonNode messages = body.path("messages");
                JsonNode last = messages.get(messages.size() - 1).path("content");
                boolean results = last.isArray() && last.get(0).path("type").asText().equals("tool_result");
                if (!body.path("tools").isEmpty() && !results) {
                    String forced = body.path("tool_choice").path("type").asText().equals("tool")
                            ? body.path("tool_choice").path("name").asText() : null;
                    List<List<String>> calls = forced == null ? CALLS : List.of(List.of("toolu_01Fmt", forced, FORMAT_INPUT));
                    if (body.path("stream").asBoolean(false)) {
                        streamToolUse(ex, model, forced == null ? PREAMBLE : null, calls);
                    } else {
                        StringBuilder content = new StringBuilder(forced == null
                                ? "{\"type\":\"text\",\"text\":" + JSON.writeValueAsString(PREAMBLE) + "}" : "");
                        for (List<String> c : calls) {
                            content.append(content.isEmpty() ? "" : ",").append("{\"type\":\"tool_use\",\"id\":\"").append(c.get(0))
                                    .append("\",\"name\":\"").append(c.get(1)).append("\",\"input\":").append(c.get(2)).append("}");
                        }
                        send(ex, 200, Map.of(), """
                                {"id":"msg_01Aq9w938a90dw8q","type":"message","role":"assistant","model":"%s",
                                 "content":[%s],"stop_reason":"tool_use","stop_sequence":null,
                                 "usage":{"input_tokens":472,"output_tokens":89}}""".formatted(model, content));
                    }
                    return;
                }
                String reply = results ? TOOL_ANSWER : REPLY;
                if (body.path("stream").asBoolean(false) && results) {
                    streamText(ex, model, reply);
                } else if (body.path("stream").asBoolean(false)) {
                    stream(ex, model, fault);
                } else {
                    send(ex, 200, Map.of(), """
                            {"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","type":"message","role":"assistant","model":"%s",
                             "content":[{"type":"text","text":%s}],"stop_reason":"end_turn","stop_sequence":null,
                             "usage":{"input_tokens":12,"output_tokens":6}}""".formatted(model, JSON.writeValueAsString(reply)));
                }
            }
        }
    }

    private static void stream(HttpExchange ex, String model, Fault fault) throws IOException {
        boolean overloaded = fault == Fault.OVERLOADED_IN_STREAM;
        ex.getResponseHeaders().add("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            event(out, "message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY\","
                    + "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"" + model + "\",\"stop_reason\":null,"
                    + "\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}");
            if (fault == Fault.OVERLOADED_BEFORE_TEXT) { // the headers said 200; the error comes as an event
                event(out, "error", "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}");
                return;
            }
            event(out, "content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
            event(out, "ping", "{\"type\": \"ping\"}");
            for (String piece : List.of("Hello", " from", " Claude", ".")) {
                event(out, "content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\""
                        + piece + "\"}}");
                if (overloaded) {
                    event(out, "error", "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}");
                    return;
                }
            }
            event(out, "content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
            event(out, "message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},"
                    + "\"usage\":{\"output_tokens\":6}}");
            event(out, "message_stop", "{\"type\":\"message_stop\"}");
        }
    }

    private static final String THINKING_USAGE = "{\"input_tokens\":12,\"cache_creation_input_tokens\":100,"
            + "\"cache_read_input_tokens\":50,\"output_tokens\":40}";
    private static final String SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3h";

    private static void thinking(HttpExchange ex, String model, boolean stream) throws IOException {
        String citation = "{\"type\":\"char_location\",\"cited_text\":\"Hello\",\"document_index\":0,"
                + "\"document_title\":null,\"start_char_index\":0,\"end_char_index\":5}";
        if (!stream) {
            send(ex, 200, Map.of(), """
                    {"id":"msg_01Think","type":"message","role":"assistant","model":"%s","content":[
                     {"type":"thinking","thinking":%s,"signature":"%s"},
                     {"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4a"},
                     {"type":"text","text":%s,"citations":[%s]}],
                     "stop_reason":"end_turn","stop_sequence":null,"usage":%s}"""
                    .formatted(model, JSON.writeValueAsString(THOUGHT), SIGNATURE, JSON.writeValueAsString(REPLY), citation,
                            THINKING_USAGE));
            return;
        }
        ex.getResponseHeaders().add("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            event(out, "message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_01Think\",\"type\":"
                    + "\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"" + model + "\",\"stop_reason\":null,"
                    + "\"stop_sequence\":null,\"usage\":" + THINKING_USAGE.replace("40}", "1}") + "}}");
            event(out, "content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
                    + "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}");
            event(out, "content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
                    + "{\"type\":\"thinking_delta\",\"thinking\":" + JSON.writeValueAsString(THOUGHT) + "}}");
            event(out, "content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
                    + "{\"type\":\"signature_delta\",\"signature\":\"" + SIGNATURE + "\"}}");
            event(out, "content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
            event(out, "content_block_start", "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
                    + "{\"type\":\"text\",\"text\":\"\",\"citations\":[]}}");
            event(out, "content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
                    + "{\"type\":\"citations_delta\",\"citation\":" + citation + "}}");
            event(out, "content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
                    + "{\"type\":\"text_delta\",\"text\":" + JSON.writeValueAsString(REPLY) + "}}");
            event(out, "content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}");
            event(out, "message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
                    + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":40}}");
            event(out, "message_stop", "{\"type\":\"message_stop\"}");
        }
    }

    /** {@link #REPLY} up to {@code stop}, stopped there. */
    private static void stopped(HttpExchange ex, String model, String stop, boolean stream) throws IOException {
        String text = REPLY.substring(0, REPLY.indexOf(stop));
        if (!stream) {
            send(ex, 200, Map.of(), """
                    {"id":"msg_01Stop","type":"message","role":"assistant","model":"%s","content":[{"type":"text","text":%s}],
                     "stop_reason":"stop_sequence","stop_sequence":%s,"usage":{"input_tokens":12,"output_tokens":2}}"""
                    .formatted(model, JSON.writeValueAsString(text), JSON.writeValueAsString(stop)));
            return;
        }
        ex.getResponseHeaders().add("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            start(out, model);
            textBlock(out, 0, text);
            event(out, "message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"stop_sequence\","
                    + "\"stop_sequence\":" + JSON.writeValueAsString(stop) + "},\"usage\":{\"output_tokens\":2}}");
            event(out, "message_stop", "{\"type\":\"message_stop\"}");
        }
    }

    private static void start(OutputStream out, String model) throws IOException {
        event(out, "message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_014p7gG3wDgGV9EUtLvnow3U\","
                + "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"" + model + "\",\"stop_reason\":null,"
                + "\"stop_sequence\":null,\"usage\":{\"input_tokens\":472,\"output_tokens\":2}}}");
    }

    private static void textBlock(OutputStream out, int index, String text) throws IOException {
        event(out, "content_block_start", "{\"type\":\"content_block_start\",\"index\":" + index
                + ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
        event(out, "content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" + index
                + ",\"delta\":{\"type\":\"text_delta\",\"text\":" + JSON.writeValueAsString(text) + "}}");
        event(out, "content_block_stop", "{\"type\":\"content_block_stop\",\"index\":" + index + "}");
    }

    private static void end(OutputStream out, String stopReason) throws IOException {
        event(out, "message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" + stopReason
                + "\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":89}}");
        event(out, "message_stop", "{\"type\":\"message_stop\"}");
    }

    private static void streamText(HttpExchange ex, String model, String text) throws IOException {
        ex.getResponseHeaders().add("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            start(out, model);
            textBlock(out, 0, text);
            end(out, "end_turn");
        }
    }

    /** Text (when given), then a tool_use block per call whose input arrives in 6-character input_json_delta fragments. */
    private static void streamToolUse(HttpExchange ex, String model, String text, List<List<String>> calls) throws IOException {
        ex.getResponseHeaders().add("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            start(out, model);
            int index = 0;
            if (text != null) {
                textBlock(out, index++, text);
            }
            for (List<String> c : calls) {
                event(out, "content_block_start", "{\"type\":\"content_block_start\",\"index\":" + index
                        + ",\"content_block\":{\"type\":\"tool_use\",\"id\":\"" + c.get(0) + "\",\"name\":\"" + c.get(1)
                        + "\",\"input\":{}}}");
                event(out, "content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" + index
                        + ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}");
                for (int at = 0; at < c.get(2).length(); at += 6) {
                    event(out, "content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" + index
                            + ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
                            + JSON.writeValueAsString(c.get(2).substring(at, Math.min(c.get(2).length(), at + 6))) + "}}");
                }
                event(out, "content_block_stop", "{\"type\":\"content_block_stop\",\"index\":" + index + "}");
                index++;
            }
            end(out, "tool_use");
        }
    }

    private static void event(OutputStream out, String name, String json) throws IOException {
        out.write(("event: " + name + "\ndata: " + json + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void send(HttpExchange ex, int status, Map<String, String> headers, String json) throws IOException {
        headers.forEach(ex.getResponseHeaders()::add);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
