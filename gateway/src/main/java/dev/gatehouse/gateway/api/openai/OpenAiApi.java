package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.route.RouteFailed;
import dev.gatehouse.gateway.route.Routed;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.server.HttpMetrics;
import dev.gatehouse.serving.embed.EmbeddingBatcher;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The OpenAI-compatible endpoints: /v1/chat/completions, /v1/completions, /v1/models. Every
 * failure, whatever its cause, answers in OpenAI's error shape; nothing here lets a stack trace
 * reach the client.
 */
public final class OpenAiApi implements HttpService {
    private static final Logger LOG = Logger.getLogger(OpenAiApi.class.getName());

    /** How much of an oversized body is read and dropped so the 413 reaches the client (see tooLarge). */
    private static final long DRAIN_LIMIT = 64L << 20;

    private static final HeaderName BACKEND = HeaderNames.create("x-gatehouse-backend");
    private static final HeaderName FALLBACKS = HeaderNames.create("x-gatehouse-fallbacks");

    private final LocalModels models;
    private final Router router;
    private final long maxBodyBytes;
    private final HttpMetrics metrics;

    public OpenAiApi(LocalModels models, Router router, long maxBodyBytes, HttpMetrics metrics) {
        this.models = models;
        this.router = router;
        this.maxBodyBytes = maxBodyBytes;
        this.metrics = metrics;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/chat/completions", (req, res) -> handle(req, res, "/v1/chat/completions", true))
                .post("/completions", (req, res) -> handle(req, res, "/v1/completions", false))
                .post("/embeddings", this::embeddings)
                .get("/models", this::listModels)
                .get("/models/{id}", this::getModel)
                .any(OpenAiApi::unknownUrl);
    }

    /** OpenAI's answer to a path or method it does not serve; also the server's fallback outside /v1. */
    public static void unknownUrl(ServerRequest req, ServerResponse res) {
        send(res, new ApiException(404, "invalid_request_error", "unknown_url", null,
                "Unknown request URL: " + req.prologue().method().text() + " " + req.prologue().uriPath().path() + ".", null));
    }

    private void handle(ServerRequest req, ServerResponse res, String route, boolean chat) {
        long start = System.nanoTime();
        String model = null;
        int status = 200;
        try {
            JsonNode body = readBody(req, res);
            ChatRequest request = chat ? OpenAiRequests.chat(body) : OpenAiRequests.completion(body);
            refuseEmbeddingModel(request.model());
            Routed routed = router.open(request); // picks the target and falls back; see Router
            model = router.metricName(request.model()); // only served names become labels: clients pick the names
            res.header(BACKEND, routed.backend());
            if (!routed.fallbacks().isEmpty()) {
                res.header(FALLBACKS, String.join(", ", routed.fallbacks()));
            }
            ChatStream stream = routed.stream();
            CompletionEncoder encoder = new CompletionEncoder(chat, "chatcmpl-" + UUID.randomUUID(),
                    System.currentTimeMillis() / 1000, request);
            if (request.stream()) {
                streamResponse(res, stream, encoder);
            } else {
                res.header(HeaderNames.CONTENT_TYPE, "application/json").send(OpenAiJson.bytes(collect(stream, encoder)));
            }
        } catch (RouteFailed e) {
            status = e.error().status();
            res.header(FALLBACKS, String.join(", ", e.fallbacks()));
            send(res, e.error());
        } catch (ApiException e) {
            status = e.status();
            send(res, e);
            if (res.headers().contains(HeaderValues.CONNECTION_CLOSE)) {
                // Helidon ignores a handler's Connection: close and would parse the unread body as the next request
                throw new CloseConnectionException("request body left unread");
            }
        } catch (SseWriter.ClientGoneException e) {
            status = 499; // nginx's "client closed request": the generation was cancelled
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            status = 503;
        } catch (RuntimeException e) {
            status = 500;
            LOG.log(Level.SEVERE, "internal error on " + route, e);
            send(res, new ApiException(500, "server_error", null, null, "Internal server error.", null));
        } finally {
            metrics.request(route, model, status, System.nanoTime() - start);
        }
    }

    private void refuseEmbeddingModel(String model) {
        if (models.embeddings(model).isPresent()) {
            throw ApiException.invalid("model", "The model '" + model + "' is an embedding model; use /v1/embeddings.");
        }
    }

    private void embeddings(ServerRequest req, ServerResponse res) {
        long start = System.nanoTime();
        String model = null;
        int status = 200;
        try {
            JsonNode body = readBody(req, res);
            String name = EmbeddingsRequests.model(body);
            if (models.get(name).isPresent()) {
                throw ApiException.invalid("model", "The model '" + name + "' is a chat model and does not give embeddings.");
            }
            EmbeddingBatcher batcher = models.embeddings(name).orElseThrow(() -> ApiException.modelNotFound(name));
            model = name;
            EmbeddingsRequests.Parsed parsed = EmbeddingsRequests.parse(body, batcher.model());
            List<float[]> vectors = batcher.embed(parsed.inputs()).get();
            int tokens = parsed.inputs().stream().mapToInt(ids -> ids.length).sum();
            res.header(HeaderNames.CONTENT_TYPE, "application/json")
                    .send(OpenAiJson.bytes(EmbeddingsRequests.response(name, vectors, tokens, parsed.base64())));
        } catch (ApiException e) {
            status = e.status();
            send(res, e);
            if (res.headers().contains(HeaderValues.CONNECTION_CLOSE)) {
                throw new CloseConnectionException("request body left unread");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            status = 503;
        } catch (java.util.concurrent.ExecutionException | RuntimeException e) {
            status = 500;
            LOG.log(Level.SEVERE, "internal error on /v1/embeddings", e);
            send(res, new ApiException(500, "server_error", null, null, "Internal server error.", null));
        } finally {
            metrics.request("/v1/embeddings", model, status, System.nanoTime() - start);
        }
    }

    private JsonNode readBody(ServerRequest req, ServerResponse res) {
        long declared = req.headers().contentLength().orElse(0);
        if (declared < 0) { // Helidon reads -1 as "chunked" and fails on other negatives deep in its reader
            throw unreadable(res, "Invalid Content-Length: " + declared + ".");
        }
        boolean expectContinue = req.headers().contains(HeaderValues.EXPECT_100);
        if (declared > maxBodyBytes && (declared > DRAIN_LIMIT || expectContinue)) {
            throw tooLarge(res, null); // not worth reading, or not even sent yet: answer and close
        }
        InputStream in = req.content().inputStream();
        if (declared > maxBodyBytes) {
            throw tooLarge(res, in);
        }
        byte[] bytes;
        try {
            bytes = in.readNBytes((int) maxBodyBytes + 1);
        } catch (IOException | RuntimeException e) {
            // bad chunk sizes, a body shorter than its Content-Length, a client gone: the client's doing, not a 500
            LOG.log(Level.FINE, "unreadable request body", e);
            throw unreadable(res, "The request body could not be read: the connection ended early or the body's framing "
                    + "(Content-Length or chunked encoding) is invalid.");
        }
        if (bytes.length > maxBodyBytes) {
            throw tooLarge(res, in);
        }
        try {
            in.close(); // at the end already; marks the entity consumed
        } catch (IOException | RuntimeException e) {
            throw unreadable(res, "The request body could not be read.");
        }
        if (bytes.length == 0) {
            throw ApiException.invalid(null, "The request body is empty; expected a JSON object.");
        }
        // Jackson's decoder lets overlong forms (0xC0 0xAF = '/') through; JSON on the wire must be valid UTF-8
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes));
        } catch (CharacterCodingException e) {
            throw ApiException.invalid(null, "The request body is not valid UTF-8.");
        }
        try {
            return OpenAiJson.MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiException.invalid(null, "We could not parse the JSON body of your request: " + jsonProblem(e));
        } catch (IOException e) {
            throw ApiException.invalid(null, "We could not parse the JSON body of your request.");
        }
    }

    private static boolean drain(InputStream in) {
        byte[] scratch = new byte[64 * 1024];
        long dropped = 0;
        try {
            for (int n; (n = in.read(scratch)) >= 0; ) {
                dropped += n;
                if (dropped > DRAIN_LIMIT) {
                    return false;
                }
            }
            in.close();
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Jackson's own words, minus what is about Jackson rather than the JSON: its class and feature names
     * ("enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS`", "from `StreamReadConstraints...`",
     * "[Source: REDACTED ...]"), with the position instead.
     */
    static String jsonProblem(JsonProcessingException e) {
        String why = e.getOriginalMessage();
        if (why.startsWith("Trailing token")) {
            why = "unexpected data after the JSON value";
        }
        why = why.replaceAll(", from `[^`]*`", "")
                .replaceAll(": enable `[^`]*` to allow", "")
                .replaceAll(" \\(not recognized as one since Feature '[^']*' not enabled for parser\\)", "")
                .replaceAll(" \\(start marker at \\[Source.*$", "");
        if (why.contains("`") || why.contains("[Source")) {
            why = "invalid JSON"; // an unforeseen message: better vague than leaking internals
        }
        JsonLocation at = e.getLocation();
        return at == null || at.getLineNr() < 1 ? why : why + " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ").";
    }

    /**
     * The connection closes after these answers (see handle): reading the rest of the body would take
     * all of an oversized one, however large the client says it is, and with broken framing would wait
     * for bytes that never come.
     */
    private static ApiException unreadable(ServerResponse res, String message) {
        res.header(HeaderValues.CONNECTION_CLOSE);
        return ApiException.invalid(null, message);
    }

    /**
     * 413. The rest of the body, up to {@link #DRAIN_LIMIT}, is read and dropped first: a client still
     * sending it would otherwise see the connection reset instead of the answer. A larger rest, or
     * {@code in} null, closes the connection after the answer.
     */
    private ApiException tooLarge(ServerResponse res, InputStream in) {
        if (in == null || !drain(in)) {
            res.header(HeaderValues.CONNECTION_CLOSE);
        }
        return new ApiException(413, "invalid_request_error", "request_too_large", null,
                "The request body is larger than " + maxBodyBytes + " bytes.", null);
    }

    private static ObjectNode collect(ChatStream stream, CompletionEncoder encoder) throws InterruptedException {
        try (stream) {
            for (ChatEvent e; (e = stream.next()) != null; ) {
                encoder.add(e);
            }
            return encoder.response();
        }
    }

    private static void streamResponse(ServerResponse res, ChatStream stream, CompletionEncoder encoder)
            throws InterruptedException {
        try (stream) {
            ChatEvent first = stream.next(); // a refusal before the first token still gets a proper status
            res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
            res.header(HeaderNames.CACHE_CONTROL, "no-cache");
            try (var out = res.outputStream()) {
                SseWriter sse = new SseWriter(out);
                try {
                    for (ChatEvent e = first; e != null; e = stream.next()) {
                        for (ObjectNode chunk : encoder.chunks(e)) {
                            sse.data(OpenAiJson.bytes(chunk));
                        }
                    }
                } catch (ApiException e) { // headers are gone: the error travels as a data line
                    sse.data(OpenAiJson.bytes(OpenAiJson.error(e)));
                }
                sse.done();
            } catch (IOException e) {
                throw new SseWriter.ClientGoneException(e);
            }
        }
    }

    private void listModels(ServerRequest req, ServerResponse res) {
        ObjectNode list = OpenAiJson.MAPPER.createObjectNode();
        list.put("object", "list");
        ArrayNode data = list.putArray("data");
        models.names().forEach(name -> data.add(modelObject(name)));
        router.routeNames().stream().filter(name -> models.get(name).isEmpty()).forEach(name -> data.add(modelObject(name)));
        res.header(HeaderNames.CONTENT_TYPE, "application/json").send(OpenAiJson.bytes(list));
    }

    private void getModel(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        if (models.get(id).isEmpty() && models.embeddings(id).isEmpty() && !router.isRoute(id)) {
            send(res, ApiException.modelNotFound(id));
            return;
        }
        res.header(HeaderNames.CONTENT_TYPE, "application/json").send(OpenAiJson.bytes(modelObject(id)));
    }

    /**
     * Helidon's answer to requests it refuses before routing (unparseable Content-Length, bad
     * percent-encoding, oversized headers or URI, unknown HTTP version), in OpenAI's error shape
     * instead of an empty body.
     */
    public static DirectHandler.TransportResponse transportError(DirectHandler.TransportRequest request,
                                                                 DirectHandler.EventType event, Status status,
                                                                 ServerResponseHeaders headers, String message) {
        int code = status.code();
        ApiException e = new ApiException(code, code >= 500 ? "server_error" : "invalid_request_error",
                code == 413 ? "request_too_large" : null, null,
                "The HTTP request could not be processed: " + status.reasonPhrase() + ".", null);
        return DirectHandler.TransportResponse.builder()
                .status(status)
                .headers(headers)
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .keepAlive(false)
                .entity(OpenAiJson.bytes(OpenAiJson.error(e)))
                .build();
    }

    private static ObjectNode modelObject(String name) {
        ObjectNode m = OpenAiJson.MAPPER.createObjectNode();
        m.put("id", name);
        m.put("object", "model");
        m.put("created", 0);
        m.put("owned_by", "gatehouse");
        return m;
    }

    static void send(ServerResponse res, ApiException e) {
        if (res.isSent()) {
            return;
        }
        res.status(Status.create(e.status()));
        if (e.retryAfterSeconds() != null) {
            res.header(HeaderNames.RETRY_AFTER, String.valueOf(e.retryAfterSeconds()));
        }
        res.header(HeaderNames.CONTENT_TYPE, "application/json").send(OpenAiJson.bytes(OpenAiJson.error(e)));
    }
}
