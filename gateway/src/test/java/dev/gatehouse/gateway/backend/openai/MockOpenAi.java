package dev.gatehouse.gateway.backend.openai;

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
 * A fake api.openai.com on a free loopback port: answers POST /v1/chat/completions in OpenAI's wire
 * format (a chat.completion object, or chat.completion.chunk SSE lines ending in data: [DONE]) with
 * {@link #REPLY}, and fails the next requests on demand with OpenAI's own error bodies. A request
 * with tools whose conversation does not end in tool results is answered with two parallel calls
 * ({@link #CALLS}; streamed, their argument fragments interleave); one that ends in tool results with
 * {@link #TOOL_ANSWER}; one with a json_schema response format with {@link #JSON_REPLY}.
 */
public final class MockOpenAi implements AutoCloseable {
    public static final String REPLY = "Hello from the cloud.";
    /** The text of POST /v1/responses (OpenAI's Responses API). */
    public static final String RESPONSES_REPLY = MockResponsesApi.REPLY;
    public static final String KEY = "sk-test-MOCK-abcdefghijklmnop0123456789";

    /** What the next request gets instead of an answer. */
    public enum Fault {
        SERVER_ERROR, RATE_LIMITED, BAD_KEY, CONNECTION_CLOSED,
        /** 400 context_length_exceeded */
        BAD_REQUEST,
        /** 400 invalid_value for temperature */
        INVALID_VALUE,
        /** 400 whose message quotes another provider's key and a bearer token, as a misconfigured proxy might */
        LEAKY_ERROR,
        /** streams: the body ends after the first word, without finish_reason or [DONE] */
        STREAM_CUT,
        /** streams: headers and the role chunk, then silence for {@link #STALL_MILLIS} */
        STALL_AT_START,
        /** streams: the first word, then silence */
        STALL_AFTER_FIRST_WORD,
        /** streams: the first word, then a data line that is not JSON */
        GARBAGE_AFTER_FIRST_WORD,
        /** whole answers and streams: status 200 and the headers, then silence for {@link #STALL_MILLIS} */
        STALL_BEFORE_BODY
    }

    public static final long STALL_MILLIS = 5_000;

    /** The calls a request with tools gets: id, function name, arguments. */
    public static final List<List<String>> CALLS = List.of(
            List.of("call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", "{\"city\":\"Paris\",\"unit\":\"celsius\"}"),
            List.of("call_ABqNgTH7cW8rMFqvdPWH4T9k", "get_weather", "{\"city\":\"Tokyo\",\"unit\":\"celsius\"}"));
    public static final String TOOL_ANSWER = "Paris is sunny at 21°C; Tokyo is rainy at 14°C.";
    public static final String JSON_REPLY = "{\"city\":\"Paris\",\"temperature\":21}";


    /** One request as received. */
    public record Received(String path, String query, Map<String, List<String>> headers, JsonNode body) {
        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final Queue<Fault> faults = new ConcurrentLinkedQueue<>();
    private final List<Received> received = new CopyOnWriteArrayList<>();

    public MockOpenAi() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/chat/completions", this::chat);
        server.createContext("/openai/deployments/", this::chat); // Azure OpenAI: the model is the deployment in the path
        server.createContext("/v1/responses", this::responses);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    /** {@code http://127.0.0.1:PORT}, what an azure-openai base-url takes. */
    public String root() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** {@code http://127.0.0.1:PORT/v1}, what base-url takes. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    public void failNext(Fault... next) {
        faults.addAll(List.of(next));
    }

    /** Forgets faults a failed test left queued. */
    public void clearFaults() {
        faults.clear();
    }

    public List<Received> received() {
        return received;
    }

    /** POST /v1/responses: see {@link MockResponsesApi}; faults answer as for chat. */
    private void responses(HttpExchange ex) throws IOException {
        JsonNode body = JSON.readTree(ex.getRequestBody());
        received.add(new Received(ex.getRequestURI().getPath(), ex.getRequestURI().getQuery(),
                Map.copyOf(ex.getRequestHeaders()), body));
        Fault fault = faults.poll();
        if (fault != null) {
            fail(ex, fault);
            return;
        }
        MockResponsesApi.answer(ex, body);
    }

    private void chat(HttpExchange ex) throws IOException {
        JsonNode body = JSON.readTree(ex.getRequestBody());
        received.add(new Received(ex.getRequestURI().getPath(), ex.getRequestURI().getQuery(),
                Map.copyOf(ex.getRequestHeaders()), body));
        Fault fault = faults.poll();
        if (fault == Fault.STALL_BEFORE_BODY) {
            ex.getResponseHeaders().add("Content-Type", body.path("stream").asBoolean(false)
                    ? "text/event-stream; charset=utf-8" : "application/json");
            ex.sendResponseHeaders(200, 0);
            ex.getResponseBody().flush();
            sleep();
            ex.close();
            return;
        }
        boolean streamFault = fault == Fault.STREAM_CUT || fault == Fault.STALL_AT_START || fault == Fault.STALL_AFTER_FIRST_WORD
                || fault == Fault.GARBAGE_AFTER_FIRST_WORD;
        if (fault != null && !streamFault) {
            fail(ex, fault);
            return;
        }
        String model = body.path("model").asText(ex.getRequestURI().getPath().split("/")[3]);
        JsonNode messages = body.path("messages");
        boolean toolResults = messages.get(messages.size() - 1).path("role").asText().equals("tool");
        if (!body.path("tools").isEmpty() && !toolResults) {
            toolCalls(ex, model, body.path("stream").asBoolean(false));
            return;
        }
        String reply = toolResults ? TOOL_ANSWER
                : body.path("response_format").path("type").asText().equals("json_schema") ? JSON_REPLY : REPLY;
        if (body.path("stream").asBoolean(false)) {
            stream(ex, model, fault, reply);
            return;
        }
        send(ex, 200, Map.of(), """
                {"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,
                 "model":"%s","choices":[{"index":0,"message":{"role":"assistant","content":%s,"refusal":null,
                 "annotations":[]},"logprobs":null,"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":19,"completion_tokens":6,"total_tokens":25,
                  "prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},
                  "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,
                  "rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_06737a9306"}
                """.formatted(model, JSON.writeValueAsString(reply)));
    }

    /** Two parallel tool calls as OpenAI sends them; streamed, the second starts before the first's arguments are done. */
    private static void toolCalls(HttpExchange ex, String model, boolean stream) throws IOException {
        if (!stream) {
            StringBuilder calls = new StringBuilder();
            for (List<String> c : CALLS) {
                calls.append(calls.isEmpty() ? "" : ",").append("{\"id\":\"").append(c.get(0))
                        .append("\",\"type\":\"function\",\"function\":{\"name\":\"").append(c.get(1))
                        .append("\",\"arguments\":").append(JSON.writeValueAsString(c.get(2))).append("}}");
            }
            send(ex, 200, Map.of(), """
                    {"id":"chatcmpl-abc123","object":"chat.completion","created":1699896916,"model":"%s",
                     "choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[%s],"refusal":null,
                     "annotations":[]},"logprobs":null,"finish_reason":"tool_calls"}],
                     "usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99}}
                    """.formatted(model, calls));
            return;
        }
        ex.getResponseHeaders().add("Content-Type", "text/event-stream; charset=utf-8");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            String head = "{\"id\":\"chatcmpl-456\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\""
                    + model + "\",\"choices\":[{\"index\":0,\"delta\":";
            String tail = ",\"logprobs\":null,\"finish_reason\":null}]}";
            for (int i = 0; i < CALLS.size(); i++) { // the first fragment of each call: id, type, name, no arguments
                List<String> c = CALLS.get(i);
                data(out, head + (i == 0 ? "{\"role\":\"assistant\",\"content\":null," : "{")
                        + "\"tool_calls\":[{\"index\":" + i + ",\"id\":\"" + c.get(0)
                        + "\",\"type\":\"function\",\"function\":{\"name\":\"" + c.get(1) + "\",\"arguments\":\"\"}}]}" + tail);
            }
            for (int at = 0; at < 40; at += 7) { // then 7-character argument fragments, alternating between the calls
                for (int i = 0; i < CALLS.size(); i++) {
                    String args = CALLS.get(i).get(2);
                    if (at < args.length()) {
                        data(out, head + "{\"tool_calls\":[{\"index\":" + i + ",\"function\":{\"arguments\":"
                                + JSON.writeValueAsString(args.substring(at, Math.min(args.length(), at + 7))) + "}}]}" + tail);
                    }
                }
            }
            data(out, head + "{}" + ",\"logprobs\":null,\"finish_reason\":\"tool_calls\"}]}");
            data(out, "{\"id\":\"chatcmpl-456\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\""
                    + model + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":82,\"completion_tokens\":17,\"total_tokens\":99}}");
            data(out, "[DONE]");
        }
    }

    private static void stream(HttpExchange ex, String model, Fault fault, String reply) throws IOException {
        ex.getResponseHeaders().add("Content-Type", "text/event-stream; charset=utf-8");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            String head = "{\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\""
                    + model + "\",\"system_fingerprint\":\"fp_44709d6fcb\",";
            data(out, head + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
                    + "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}");
            if (fault == Fault.STALL_AT_START) {
                sleep();
                return;
            }
            List<String> pieces = reply.equals(REPLY) ? List.of("Hello", " from", " the", " cloud", ".") : List.of(reply);
            for (String piece : pieces) {
                data(out, head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":" + JSON.writeValueAsString(piece)
                        + "},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}");
                if (fault == Fault.STREAM_CUT) {
                    return; // the body ends here, without finish_reason or [DONE]
                }
                if (fault == Fault.STALL_AFTER_FIRST_WORD) {
                    sleep();
                    return;
                }
                if (fault == Fault.GARBAGE_AFTER_FIRST_WORD) {
                    data(out, head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"cut");
                    data(out, "[DONE]");
                    return;
                }
            }
            data(out, head + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}");
            data(out, head + "\"choices\":[],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":6,\"total_tokens\":25}}");
            data(out, "[DONE]");
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(STALL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void data(OutputStream out, String json) throws IOException {
        out.write(("data: " + json + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void fail(HttpExchange ex, Fault fault) throws IOException {
        switch (fault) {
            case SERVER_ERROR -> send(ex, 500, Map.of(), """
                    {"error":{"message":"The server had an error while processing your request. Sorry about that!",
                     "type":"server_error","param":null,"code":null}}""");
            case RATE_LIMITED -> send(ex, 429, Map.of("retry-after", "20", "retry-after-ms", "20000"), """
                    {"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-abc on requests per min (RPM): \
                    Limit 3, Used 3, Requested 1. Please try again in 20s.","type":"requests","param":null,
                     "code":"rate_limit_exceeded"}}""");
            case BAD_REQUEST -> send(ex, 400, Map.of(), """
                    {"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages \
                    resulted in 130017 tokens. Please reduce the length of the messages.","type":"invalid_request_error",
                     "param":"messages","code":"context_length_exceeded"}}""");
            case INVALID_VALUE -> send(ex, 400, Map.of(), """
                    {"error":{"message":"Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got \
                    2.5 instead.","type":"invalid_request_error","param":"temperature","code":"decimal_above_max_value"}}""");
            case BAD_KEY -> send(ex, 401, Map.of(), """
                    {"error":{"message":"Incorrect API key provided: %s. You can find your API key at \
                    https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,
                     "code":"invalid_api_key"}}""".formatted(KEY));
            case LEAKY_ERROR -> send(ex, 400, Map.of(), """
                    {"error":{"message":"Invalid upstream credentials sk-ant-api03-OTHERTENANT-0123456789abcdef and \
                    Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz for model gpt-4o.",
                     "type":"invalid_request_error","param":null,"code":null}}""");
            case CONNECTION_CLOSED -> ex.close(); // no status line at all
            default -> throw new IllegalStateException(fault.name());
        }
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
