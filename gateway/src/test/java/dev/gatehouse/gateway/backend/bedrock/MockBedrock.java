package dev.gatehouse.gateway.backend.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.eventstream.HeaderValue;
import software.amazon.awssdk.eventstream.Message;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fake bedrock-runtime.{region}.amazonaws.com on a free loopback port: POST
 * /model/{modelId}/converse answered as the Converse reference shows. Every request's SigV4
 * signature is recomputed here with the SDK's signer from the fixed test credentials, the signed
 * headers the request names and its own X-Amz-Date; a mismatch is the 403 Bedrock gives. With
 * tools it answers {@link #PREAMBLE} and a toolUse of {@link #CALL}; after a toolResult, {@link #TOOL_ANSWER}.
 */
public final class MockBedrock implements AutoCloseable {
    public static final String KEY_ID = "AKIDEXAMPLE";
    public static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    public static final String REGION = "eu-west-3";
    public static final String REPLY = "Hello from Bedrock.";
    public static final String PREAMBLE = "Let me look that up.";
    public static final List<String> CALL = List.of("tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "get_weather", "{\"city\":\"Paris\",\"unit\":\"celsius\"}");
    public static final String TOOL_ANSWER = "Paris is sunny at 21°C.";

    public enum Fault {
        /** 429 ThrottlingException */
        THROTTLED,
        /** 429 ModelNotReadyException */
        NOT_READY,
        /** 503 ServiceUnavailableException */
        UNAVAILABLE,
        /** 400 ValidationException "Input is too long for requested model." */
        TOO_LONG,
        /** streams: one text delta, then a throttlingException event */
        THROTTLED_IN_STREAM,
        /** streams: the second frame has a byte flipped in its payload (its message CRC fails) */
        CORRUPT_FRAME,
        /** streams: the body ends in the middle of a frame */
        CUT_MID_FRAME
    }

    public record Received(String path, Map<String, List<String>> headers, JsonNode body) {
        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern AUTHORIZATION = Pattern.compile(
            "AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})");
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private final HttpServer server;
    private final Queue<Fault> faults = new ConcurrentLinkedQueue<>();
    private final List<Received> received = new CopyOnWriteArrayList<>();

    public MockBedrock() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/model/", this::converse);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public void failNext(Fault... next) {
        faults.addAll(List.of(next));
    }

    public List<Received> received() {
        return received;
    }

    private void converse(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] raw = exchange.getRequestBody().readAllBytes();
            String path = exchange.getRequestURI().getRawPath();
            String problem = signatureProblem(exchange, raw);
            if (problem != null) {
                send(exchange, 403, "{\"message\":\"" + problem + "\"}");
                return;
            }
            JsonNode body = JSON.readTree(raw);
            received.add(new Received(path, Map.copyOf(exchange.getRequestHeaders()), body));
            Fault fault = faults.poll();
            if (fault != null && fault.ordinal() <= Fault.TOO_LONG.ordinal()) {
                switch (fault) {
                    case THROTTLED -> send(exchange, 429, "{\"message\":\"Too many requests, please wait before trying again.\"}");
                    case NOT_READY -> send(exchange, 429, "{\"message\":\"Model is not ready for inference. Wait and try your request again.\"}");
                    case UNAVAILABLE -> send(exchange, 503, "{\"message\":\"Bedrock is unable to process your request.\"}");
                    case TOO_LONG -> send(exchange, 400, "{\"message\":\"Input is too long for requested model.\"}");
                }
                return;
            }
            if (path.endsWith("/converse-stream")) {
                stream(exchange, answer(body), fault);
            } else if (path.endsWith("/converse")) {
                send(exchange, 200, JSON.writeValueAsString(answer(body)));
            } else {
                send(exchange, 404, "{\"message\":\"unknown operation\"}");
            }
        }
    }

    /** Null when the request is signed for {@link #KEY_ID} in {@link #REGION} as the SDK would sign it; else why not. */
    private String signatureProblem(HttpExchange exchange, byte[] body) {
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        Matcher m = authorization == null ? null : AUTHORIZATION.matcher(authorization);
        if (m == null || !m.matches()) {
            return "Missing or malformed Authorization header.";
        }
        if (!m.group(1).equals(KEY_ID) || !m.group(3).equals(REGION) || !m.group(4).equals(BedrockSigner.SERVICE)) {
            return "Credential scope names the wrong key, region or service.";
        }
        List<String> signed = List.of(m.group(5).split(";"));
        if (!signed.contains("host") || !signed.contains("x-amz-date")) {
            return "host and x-amz-date must be signed.";
        }
        String amzDate = exchange.getRequestHeaders().getFirst("X-Amz-Date");
        SdkHttpRequest.Builder request = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(exchange.getRequestMethod()))
                .uri(URI.create(baseUrl() + exchange.getRequestURI().getRawPath()));
        for (String name : signed) {
            if (!name.equals("host") && !name.equals("x-amz-date") && !name.equals("x-amz-content-sha256")) {
                request.putHeader(name, exchange.getRequestHeaders().getFirst(name));
            }
        }
        Clock at = Clock.fixed(ZonedDateTime.parse(amzDate, AMZ_DATE).toInstant(), ZoneOffset.UTC);
        String expected = AwsV4HttpSigner.create().sign(r -> r.identity(AwsBasicCredentials.create(KEY_ID, SECRET))
                        .request(request.build()).payload(ContentStreamProvider.fromByteArray(body))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, BedrockSigner.SERVICE)
                        .putProperty(AwsV4HttpSigner.REGION_NAME, REGION)
                        .putProperty(AwsV4HttpSigner.SIGNING_CLOCK, at))
                .request().firstMatchingHeader("Authorization").orElse("");
        return expected.equals(authorization) ? null
                : "The request signature we calculated does not match the signature you provided.";
    }

    private static ObjectNode answer(JsonNode request) {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode content = out.putObject("output").putObject("message").put("role", "assistant").putArray("content");
        JsonNode last = request.path("messages").get(request.path("messages").size() - 1).path("content");
        boolean afterResult = last.findValue("toolResult") != null;
        if (request.has("toolConfig") && !afterResult) {
            content.addObject().put("text", PREAMBLE);
            ObjectNode use = content.addObject().putObject("toolUse").put("toolUseId", CALL.get(0)).put("name", CALL.get(1));
            try {
                use.set("input", JSON.readTree(CALL.get(2)));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            out.put("stopReason", "tool_use");
        } else {
            content.addObject().put("text", afterResult ? TOOL_ANSWER : REPLY);
            out.put("stopReason", "end_turn");
        }
        out.putObject("usage").put("inputTokens", 15).put("outputTokens", 7).put("totalTokens", 22);
        return out;
    }

    /**
     * The answer as ConverseStream events, each an event-stream frame encoded by the SDK, written in
     * pieces of 1, 2, 3, ... 13 bytes so frames (and their preludes) split at every kind of boundary.
     */
    private static void stream(HttpExchange exchange, ObjectNode answer, Fault fault) throws IOException {
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        List<byte[]> events = new ArrayList<>();
        events.add(frame("event", "messageStart", "{\"role\":\"assistant\"}"));
        JsonNode content = answer.path("output").path("message").path("content");
        for (int i = 0; i < content.size(); i++) {
            JsonNode block = content.get(i);
            if (block.has("toolUse")) {
                JsonNode use = block.path("toolUse");
                ObjectNode start = JSON.createObjectNode().put("contentBlockIndex", i);
                start.putObject("start").putObject("toolUse").put("toolUseId", use.path("toolUseId").asText())
                        .put("name", use.path("name").asText());
                events.add(frame("event", "contentBlockStart", start.toString()));
                String input = use.path("input").toString();
                for (int at = 0; at < input.length(); at += 5) { // input JSON in fragments, as Bedrock sends it
                    ObjectNode delta = JSON.createObjectNode().put("contentBlockIndex", i);
                    delta.putObject("delta").putObject("toolUse").put("input", input.substring(at, Math.min(input.length(), at + 5)));
                    events.add(frame("event", "contentBlockDelta", delta.toString()));
                }
            } else {
                String text = block.path("text").asText();
                for (String word : text.split("(?<= )")) {
                    ObjectNode delta = JSON.createObjectNode().put("contentBlockIndex", i);
                    delta.putObject("delta").put("text", word);
                    events.add(frame("event", "contentBlockDelta", delta.toString()));
                    if (fault == Fault.THROTTLED_IN_STREAM) {
                        events.add(frame("exception", "throttlingException", "{\"message\":\"Too many tokens, please wait.\"}"));
                        break;
                    }
                }
            }
            events.add(frame("event", "contentBlockStop", "{\"contentBlockIndex\":" + i + "}"));
        }
        events.add(frame("event", "messageStop", "{\"stopReason\":\"" + answer.path("stopReason").asText() + "\"}"));
        ObjectNode metadata = JSON.createObjectNode();
        metadata.set("usage", answer.path("usage"));
        metadata.putObject("metrics").put("latencyMs", 42);
        events.add(frame("event", "metadata", metadata.toString()));
        if (fault == Fault.CORRUPT_FRAME) {
            byte[] second = events.get(1);
            second[second.length - 6] ^= 0x01; // inside the payload: the message CRC no longer matches
        }
        events.forEach(frames::writeBytes);
        byte[] all = frames.toByteArray();
        int length = fault == Fault.CUT_MID_FRAME ? all.length - 7 : all.length;
        exchange.getResponseHeaders().set("Content-Type", "application/vnd.amazon.eventstream");
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream out = exchange.getResponseBody()) {
            for (int at = 0, piece = 1; at < length; at += piece, piece = piece % 13 + 1) {
                out.write(all, at, Math.min(piece, length - at));
                out.flush();
            }
        }
    }

    /** One event-stream message as Bedrock frames it. */
    static byte[] frame(String messageType, String type, String json) {
        Map<String, HeaderValue> headers = new LinkedHashMap<>();
        headers.put(":message-type", HeaderValue.fromString(messageType));
        headers.put(messageType.equals("exception") ? ":exception-type" : ":event-type",
                HeaderValue.fromString(type));
        headers.put(":content-type", HeaderValue.fromString("application/json"));
        ByteBuffer buffer = new Message(headers, json.getBytes(StandardCharsets.UTF_8))
                .toByteBuffer();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    private static void send(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
