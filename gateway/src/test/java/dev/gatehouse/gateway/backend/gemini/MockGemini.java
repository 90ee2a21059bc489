package dev.gatehouse.gateway.backend.gemini;

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
 * A fake generativelanguage.googleapis.com: generateContent and streamGenerateContent?alt=sse in
 * Gemini's wire format (SSE lines end in CRLF and there is no end marker), with Google's error bodies.
 * With function declarations it answers as Gemini does: {@link #CALLS} as functionCall parts (no
 * ids; streamed, one call per chunk) and finishReason STOP; after functionResponse parts,
 * {@link #TOOL_ANSWER}; with responseMimeType application/json, {@link #JSON_REPLY}.
 */
public final class MockGemini implements AutoCloseable {
    public static final String KEY = "AIzaSyMOCK-abcdefghijklmnop0123456789";
    /** Each call as [name, args]. */
    public static final List<List<String>> CALLS = List.of(
            List.of("get_weather", "{\"city\":\"Paris\",\"unit\":\"celsius\"}"),
            List.of("get_weather", "{\"city\":\"Tokyo\",\"unit\":\"celsius\"}"));
    public static final String TOOL_ANSWER = "Paris is sunny at 21°C; Tokyo is rainy at 14°C.";
    public static final String JSON_REPLY = "{\"city\":\"Paris\",\"temperature\":21}";

    public enum Fault {
        RATE_LIMITED, BAD_KEY, BAD_REQUEST, OVERLOADED, SAFETY, STREAM_CUT,
        /** 429 whose google.rpc.RetryInfo asks for "1.5s" */
        RATE_LIMITED_RETRY_DELAY,
        /** 400 INVALID_ARGUMENT "The input token count (...) exceeds the maximum number of tokens allowed (...)." */
        INPUT_TOO_LONG,
        /** 500 INTERNAL */
        SERVER_ERROR,
        /** streams: "Hello", then a chunk that stops with finishReason SAFETY */
        SAFETY_IN_STREAM
    }

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

    public MockGemini() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1beta/models/", this::generate);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
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

    private void generate(HttpExchange ex) throws IOException {
        JsonNode body = JSON.readTree(ex.getRequestBody());
        received.add(new Received(ex.getRequestURI().getPath(), ex.getRequestURI().getQuery(),
                Map.copyOf(ex.getRequestHeaders()), body));
        Fault fault = faults.poll();
        boolean stream = ex.getRequestURI().getPath().endsWith(":streamGenerateContent");
        if (fault == Fault.RATE_LIMITED) {
            send(ex, 429, """
                    {"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}""");
        } else if (fault == Fault.RATE_LIMITED_RETRY_DELAY) {
            send(ex, 429, """
                    {"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details. \
                    For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
                     "status":"RESOURCE_EXHAUSTED","details":[
                      {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":
                       "generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":
                       "GenerateRequestsPerMinutePerProjectPerModel-FreeTier","quotaDimensions":{"location":"global",
                       "model":"gemini-2.0-flash"},"quotaValue":"15"}]},
                      {"@type":"type.googleapis.com/google.rpc.Help","links":[{"description":"Learn more about Gemini API quotas",
                       "url":"https://ai.google.dev/gemini-api/docs/rate-limits"}]},
                      {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}""");
        } else if (fault == Fault.INPUT_TOO_LONG) {
            send(ex, 400, """
                    {"error":{"code":400,"message":"The input token count (1200293) exceeds the maximum number of tokens \
                    allowed (1048576).","status":"INVALID_ARGUMENT"}}""");
        } else if (fault == Fault.BAD_KEY) {
            send(ex, 400, """
                    {"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",
                     "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID",
                     "domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}}""");
        } else if (fault == Fault.BAD_REQUEST) {
            send(ex, 400, """
                    {"error":{"code":400,"message":"* GenerateContentRequest.generation_config.max_output_tokens: \
                    max_output_tokens must be positive.\\n","status":"INVALID_ARGUMENT"}}""");
        } else if (fault == Fault.OVERLOADED) {
            send(ex, 503, """
                    {"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}""");
        } else if (fault == Fault.SERVER_ERROR) {
            send(ex, 500, """
                    {"error":{"code":500,"message":"An internal error has occurred. Please retry or report in \
                    https://developers.generativeai.google/guide/troubleshooting","status":"INTERNAL"}}""");
        } else if (fault == Fault.SAFETY) {
            send(ex, 200, """
                    {"candidates":[{"finishReason":"SAFETY","index":0,"safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT",
                     "probability":"HIGH"}]}],"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8},"modelVersion":"gemini-2.0-flash"}""");
        } else if (!body.path("tools").isEmpty() && !lastHas(body, "functionResponse")) {
            List<String> parts = CALLS.stream().map(c -> "{\"functionCall\":{\"name\":\"" + c.get(0) + "\",\"args\":" + c.get(1) + "}}")
                    .toList();
            if (stream) {
                ex.getResponseHeaders().add("Content-Type", "text/event-stream");
                ex.sendResponseHeaders(200, 0);
                try (OutputStream out = ex.getResponseBody()) {
                    for (int i = 0; i < parts.size(); i++) {
                        data(out, "{\"candidates\": [{\"content\": {\"parts\": [" + parts.get(i) + "],\"role\": \"model\"},"
                                + (i == parts.size() - 1 ? "\"finishReason\": \"STOP\"," : "") + "\"index\": 0}],"
                                + "\"usageMetadata\": {\"promptTokenCount\": 61,\"candidatesTokenCount\": 24,\"totalTokenCount\": 85},"
                                + "\"modelVersion\": \"gemini-2.0-flash\"}");
                    }
                }
            } else {
                send(ex, 200, """
                        {"candidates":[{"content":{"parts":[%s],"role":"model"},"finishReason":"STOP","index":0}],
                         "usageMetadata":{"promptTokenCount":61,"candidatesTokenCount":24,"totalTokenCount":85},
                         "modelVersion":"gemini-2.0-flash"}""".formatted(String.join(",", parts)));
            }
        } else if (lastHas(body, "functionResponse")
                || body.path("generationConfig").path("responseMimeType").asText().equals("application/json")) {
            String text = JSON.writeValueAsString(lastHas(body, "functionResponse") ? TOOL_ANSWER : JSON_REPLY);
            String candidate = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":" + text + "}],\"role\":\"model\"},"
                    + "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":90,"
                    + "\"candidatesTokenCount\":15,\"totalTokenCount\":105},\"modelVersion\":\"gemini-2.0-flash\"}";
            if (stream) {
                ex.getResponseHeaders().add("Content-Type", "text/event-stream");
                ex.sendResponseHeaders(200, 0);
                try (OutputStream out = ex.getResponseBody()) {
                    data(out, candidate);
                }
            } else {
                send(ex, 200, candidate);
            }
        } else if (stream) {
            ex.getResponseHeaders().add("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                data(out, "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hello\"}],\"role\": \"model\"},\"index\": 0}],"
                        + "\"usageMetadata\": {\"promptTokenCount\": 8,\"totalTokenCount\": 8},\"modelVersion\": \"gemini-2.0-flash\"}");
                if (fault == Fault.STREAM_CUT) {
                    return;
                }
                if (fault == Fault.SAFETY_IN_STREAM) {
                    data(out, "{\"candidates\": [{\"finishReason\": \"SAFETY\",\"index\": 0,\"safetyRatings\": [{\"category\": "
                            + "\"HARM_CATEGORY_DANGEROUS_CONTENT\",\"probability\": \"HIGH\"}]}],\"usageMetadata\": "
                            + "{\"promptTokenCount\": 8,\"candidatesTokenCount\": 1,\"totalTokenCount\": 9},"
                            + "\"modelVersion\": \"gemini-2.0-flash\"}");
                    return;
                }
                data(out, "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" from Gemini.\"}],\"role\": \"model\"},"
                        + "\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,"
                        + "\"candidatesTokenCount\": 5,\"totalTokenCount\": 13},\"modelVersion\": \"gemini-2.0-flash\"}");
            }
        } else {
            send(ex, 200, """
                    {"candidates":[{"content":{"parts":[{"text":"Hello from Gemini."}],"role":"model"},"finishReason":"STOP",
                     "avgLogprobs":-0.05,"index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":5,
                     "totalTokenCount":13},"modelVersion":"gemini-2.0-flash","responseId":"abc"}""");
        }
    }

    /** Whether the last turn of the conversation has a part of this kind. */
    private static boolean lastHas(JsonNode body, String part) {
        JsonNode contents = body.path("contents");
        for (JsonNode p : contents.get(contents.size() - 1).path("parts")) {
            if (p.has(part)) {
                return true;
            }
        }
        return false;
    }

    private static void data(OutputStream out, String json) throws IOException {
        out.write(("data: " + json + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void send(HttpExchange ex, int status, String json) throws IOException {
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
