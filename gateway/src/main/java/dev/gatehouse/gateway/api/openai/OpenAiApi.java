package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalEmbedder;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.cache.CacheControl;
import dev.gatehouse.gateway.cache.ResponseCache;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.plugin.PluginContext;
import dev.gatehouse.gateway.plugin.Plugins;
import dev.gatehouse.gateway.policy.RateLimiter;
import dev.gatehouse.gateway.route.RouteFailed;
import dev.gatehouse.gateway.route.Routed;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.server.ClientConnection;
import dev.gatehouse.gateway.server.HttpMetrics;
import dev.gatehouse.gateway.usage.UsageRecord;
import dev.gatehouse.gateway.usage.UsageRecorder;
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
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The OpenAI-compatible endpoints: /v1/chat/completions, /v1/completions, /v1/models. Every
 * failure, whatever its cause, answers in OpenAI's error shape; nothing here lets a stack trace
 * reach the client.
 */
public final class OpenAiApi implements HttpService {
    private static final Logger LOG = Logger.getLogger(OpenAiApi.class.getName());

    private static final HeaderName BACKEND = HeaderNames.create("x-gatehouse-backend");
    private static final HeaderName FALLBACKS = HeaderNames.create("x-gatehouse-fallbacks");
    private static final HeaderName CACHE = HeaderNames.create("x-gatehouse-cache");
    private static final HeaderName COST = HeaderNames.create("x-gatehouse-cost-usd");

    private final LocalModels models;
    private final Router router;
    private final RequestBody body;
    private final HttpMetrics metrics;
    private final ApiAuth auth;
    private final UsageRecorder usage;
    private final ResponseCache cache;
    private final Plugins plugins;

    public OpenAiApi(LocalModels models, Router router, long maxBodyBytes, HttpMetrics metrics, ApiAuth auth,
                     UsageRecorder usage, ResponseCache cache, Plugins plugins) {
        this.cache = cache;
        this.plugins = plugins;
        this.auth = auth;
        this.usage = usage;
        this.models = models;
        this.router = router;
        this.body = new RequestBody(maxBodyBytes);
        this.metrics = metrics;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/chat/completions", (req, res) -> serve("/v1/chat/completions", req, res,
                        (json, r, outcome) -> completion(json, req, r, outcome, true, "/v1/chat/completions")))
                .post("/completions", (req, res) -> serve("/v1/completions", req, res,
                        (json, r, outcome) -> completion(json, req, r, outcome, false, "/v1/completions")))
                .post("/embeddings", (req, res) -> serve("/v1/embeddings", req, res, this::embeddings))
                .get("/models", this::listModels)
                .get("/models/{id}", this::getModel)
                .any(OpenAiApi::unknownUrl);
    }

    /** OpenAI's answer to a path or method it does not serve; also the server's fallback outside /v1. */
    public static void unknownUrl(ServerRequest req, ServerResponse res) {
        send(res, new ApiException(404, "invalid_request_error", "unknown_url", null,
                "Unknown request URL: " + req.prologue().method().text() + " " + req.prologue().uriPath().path() + ".", null));
    }

    /** What a handler reports, once it knows, for the metrics and the usage log. */
    private static final class Outcome {
        String model; // the metric label: only served names
        String backend; // who answered: local:NAME, PROVIDER:MODEL, cache
        List<String> fallbacks = List.of();
        ChatEvent.Usage usage; // real usage when known: corrects the rate limiter's estimate, prices the request
        boolean cacheHit; // answered from the response cache: no backend ran, nothing to pay
        ApiAuth.Caller caller; // who asked, for the plugins
    }

    @FunctionalInterface
    private interface Handler {
        void handle(JsonNode body, ServerResponse res, Outcome outcome) throws Exception;
    }

    /** Reads the body and runs the handler; every way out becomes an OpenAI error and one metrics record. */
    private void serve(String route, ServerRequest req, ServerResponse res, Handler handler) {
        long start = System.nanoTime();
        Outcome outcome = new Outcome();
        int status = 200;
        ApiAuth.Caller caller = null;
        JsonNode json = null;
        Admission admission = null;
        try {
            try {
                caller = auth.authenticate(req); // before the body: strangers get nothing parsed
            } catch (ApiException e) {
                res.header(HeaderValues.CONNECTION_CLOSE); // their body stays unread: close, never parse it as a request
                throw e;
            }
            outcome.caller = caller;
            json = body.read(req, res);
            caller.requireModel(json.path("model").textValue()); // a missing model is the handler's 400
            admission = Admission.admit(auth, usage, caller, json, res);
            handler.handle(json, res, outcome);
        } catch (RouteFailed e) {
            status = e.error().status();
            outcome.fallbacks = e.fallbacks();
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
        } catch (Exception e) {
            status = 500;
            LOG.log(Level.SEVERE, "internal error on " + route, e);
            send(res, new ApiException(500, "server_error", null, null, "Internal server error.", null));
        } finally {
            if (admission != null) {
                if (outcome.usage != null) { // a cached answer ran no model: it spends no tokens
                    admission.settle(outcome.cacheHit ? 0 : outcome.usage.totalTokens());
                }
                admission.close();
            }
            long nanos = System.nanoTime() - start;
            metrics.request(route, outcome.model, status, nanos);
            if (caller != null) { // only callers we know are logged: strangers cannot fill the disk
                try {
                    record(route, caller, json, outcome, status, nanos);
                } catch (RuntimeException e) { // the answer is sent: a failing usage store must not turn it into a 500
                    LOG.log(Level.SEVERE, "cannot record usage for " + route, e);
                }
            }
        }
    }

    private void record(String route, ApiAuth.Caller caller, JsonNode json, Outcome outcome, int status, long nanos) {
        long prompt = outcome.usage == null ? 0 : outcome.usage.promptTokens();
        long completion = outcome.usage == null ? 0 : outcome.usage.completionTokens();
        String keyId = caller.limitId(); // the key's id, or jwt:USER
        String user = caller.user() != null ? caller.user() : json == null ? null : json.path("user").textValue();
        String model = json == null ? null : json.path("model").textValue();
        UsageRecord r = new UsageRecord(Instant.now(), route, keyId, user, model, outcome.backend, prompt, completion,
                outcome.cacheHit ? 0 : usage.cost(outcome.backend, prompt, completion), TimeUnit.NANOSECONDS.toMillis(nanos),
                status, String.join(", ", outcome.fallbacks), outcome.cacheHit);
        usage.record(caller.key(), r, outcome.model);
    }

    private void completion(JsonNode body, ServerRequest req, ServerResponse res, Outcome outcome, boolean chat,
                            String endpoint) throws InterruptedException {
        ChatRequest parsed = chat ? OpenAiRequests.chat(body) : OpenAiRequests.completion(body);
        ApiAuth.Caller caller = outcome.caller;
        Plugins.Applied plugged = plugins.onRequest(parsed, new PluginContext(endpoint, caller.limitId(),
                caller.user() != null ? caller.user() : parsed.user())); // before the cache: it keys what models see
        ChatRequest request = plugged.request();
        refuseEmbeddingModel(request.model());
        refuseWhileLoading(request.model());
        ResponseCache.Lookup cached = cache.lookup(request, CacheControl.of(req.headers().values(HeaderNames.CACHE_CONTROL)));
        if (cached.result() != null) {
            res.header(CACHE, cached.result().name());
        }
        ChatStream stream;
        if (cached.hit()) {
            outcome.cacheHit = true;
            outcome.backend = "cache";
            stream = cached.replay();
        } else {
            Routed routed = router.open(request); // picks the target and falls back; see Router
            outcome.backend = routed.backend();
            outcome.fallbacks = routed.fallbacks();
            if (!routed.fallbacks().isEmpty()) {
                res.header(FALLBACKS, String.join(", ", routed.fallbacks()));
            }
            stream = cached.record(routed.stream()); // stored once it ends cleanly, when the request may be
        }
        res.header(BACKEND, outcome.backend);
        try {
            stream = plugged.onResponse(stream); // the cache keeps the model's answer; plugins see every one they send
        } catch (RuntimeException e) {
            stream.close(); // a local sequence would otherwise hold its KV slot, a provider its connection
            throw e;
        }
        // only names that were served become labels, never what a client made up (open refused those)
        outcome.model = router.metricName(request.model());
        CompletionEncoder encoder = new CompletionEncoder(chat, "chatcmpl-" + UUID.randomUUID(),
                System.currentTimeMillis() / 1000, request);
        ClientConnection.limitWrites(req, res); // a client that stops reading is cut off, and its generation cancelled
        try {
            if (request.stream()) {
                streamResponse(res, stream, encoder);
            } else {
                ObjectNode answer = outcome.cacheHit ? collect(stream, encoder) : collectWatched(req, res, stream, encoder);
                ChatEvent.Usage used = encoder.usage();
                if (used != null) { // known before a whole answer's headers go: what it cost, from the price list
                    double cost = outcome.cacheHit ? 0 : usage.cost(outcome.backend, used.promptTokens(), used.completionTokens());
                    res.header(COST, BigDecimal.valueOf(cost).toPlainString());
                }
                try {
                    res.header(HeaderNames.CONTENT_TYPE, "application/json").send(OpenAiJson.bytes(answer));
                } catch (UncheckedIOException e) { // gone, or too slow to take it (server.write-timeout-seconds)
                    throw new SseWriter.ClientGoneException(e);
                }
            }
        } finally { // also when the client went away mid-stream: what was generated is paid for
            outcome.usage = encoder.usageOrEstimate(RateLimiter.promptEstimate(body));
        }
    }

    /** A model-store folder not loaded yet: the client is told to retry, not that it does not exist. */
    private void refuseWhileLoading(String model) {
        if (models.loading(model)) {
            throw new ApiException(503, "server_error", "model_loading", "model",
                    "The model '" + model + "' is still loading; retry shortly.", 5);
        }
    }

    private void refuseEmbeddingModel(String model) {
        if (models.embeddings(model).isPresent()) {
            throw ApiException.invalid("model", "The model '" + model + "' is an embedding model; use /v1/embeddings.");
        }
    }

    private void embeddings(JsonNode body, ServerResponse res, Outcome outcome) throws Exception {
        String name = EmbeddingsRequests.model(body);
        if (models.get(name).isPresent()) {
            throw ApiException.invalid("model", "The model '" + name + "' is a chat model and does not give embeddings.");
        }
        refuseWhileLoading(name);
        // the lease keeps the model open while this request tokenizes and waits for its batch: an unload waits for it
        try (LocalEmbedder.Lease lease = models.leaseEmbeddings(name).orElseThrow(() -> ApiException.modelNotFound(name))) {
            EmbeddingBatcher batcher = lease.batcher();
            outcome.model = name;
            outcome.backend = "local:" + name;
            EmbeddingsRequests.Parsed parsed = EmbeddingsRequests.parse(body, batcher.model());
            List<float[]> vectors;
            try {
                vectors = batcher.embed(parsed.inputs()).get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IllegalStateException) { // unloaded past its grace period
                    throw new ApiException(503, "server_error", "model_unloaded", "model", e.getCause().getMessage() + ".", 1);
                }
                throw e;
            }
            int tokens = parsed.inputs().stream().mapToInt(ids -> ids.length).sum();
            outcome.usage = new ChatEvent.Usage(tokens, 0);
            res.header(HeaderNames.CONTENT_TYPE, "application/json")
                    .send(OpenAiJson.bytes(EmbeddingsRequests.response(name, vectors, tokens, parsed.base64())));
        }
    }

    private static ObjectNode collect(ChatStream stream, CompletionEncoder encoder) throws InterruptedException {
        try (stream) {
            for (ChatEvent e; (e = stream.next()) != null; ) {
                encoder.add(e);
            }
            return encoder.response();
        }
    }

    /** {@link #collect}, cancelled when the client closes its connection meanwhile (see ClientConnection). */
    private static ObjectNode collectWatched(ServerRequest req, ServerResponse res, ChatStream stream,
                                             CompletionEncoder encoder) throws InterruptedException {
        ClientConnection.Watch watch = ClientConnection.watch(req, res);
        try {
            return collect(stream, encoder);
        } catch (InterruptedException | RuntimeException e) {
            if (watch.gone()) { // the interrupt was the watch's: collect closed the stream, which cancelled the generation
                throw new SseWriter.ClientGoneException(e);
            }
            throw e;
        } finally {
            watch.close();
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
        ApiAuth.Caller caller;
        try {
            caller = auth.authenticate(req);
        } catch (ApiException e) {
            send(res, e);
            return;
        }
        if (caller.limitId() != null) { // listing costs nothing, but a limited caller still sees where it stands
            Admission.rateHeaders(res, auth.limiter().peek(caller.limitId(), caller.rpm(), caller.tpm()));
        }
        ObjectNode list = OpenAiJson.MAPPER.createObjectNode();
        list.put("object", "list");
        ArrayNode data = list.putArray("data");
        models.names().stream().filter(caller::allows).forEach(name -> data.add(modelObject(name)));
        router.routeNames().stream().filter(name -> models.get(name).isEmpty() && caller.allows(name))
                .forEach(name -> data.add(modelObject(name)));
        res.header(HeaderNames.CONTENT_TYPE, "application/json").send(OpenAiJson.bytes(list));
    }

    private void getModel(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        try {
            auth.authenticate(req).requireModel(id);
        } catch (ApiException e) {
            send(res, e);
            return;
        }
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
        if (code == 503) { // the server's max-requests (Helidon answers it before routing)
            headers.set(HeaderNames.RETRY_AFTER, "1");
        }
        ApiException e = code == 503
                ? new ApiException(503, "server_error", "server_overloaded", null,
                        "The server is answering as many requests as it takes at once; retry shortly.", 1)
                : new ApiException(code, code >= 500 ? "server_error" : "invalid_request_error",
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

    public static void send(ServerResponse res, ApiException e) {
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
