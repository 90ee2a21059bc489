package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.api.Endpoint;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalEmbedder;
import dev.gatehouse.gateway.cache.CacheControl;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.Identifiers;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.pipeline.Call;
import dev.gatehouse.gateway.pipeline.ChatPipeline;
import dev.gatehouse.gateway.connection.HeldBody;
import dev.gatehouse.serving.embed.EmbeddingBatcher;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;

/**
 * The OpenAI-compatible endpoints: /v1/chat/completions, /v1/completions, /v1/embeddings,
 * /v1/models. Decoding and encoding only: each request is decoded into the internal form and served
 * by the {@link ChatPipeline}. Every failure, whatever its cause, answers in OpenAI's error shape;
 * nothing here lets a stack trace reach the client.
 */
public final class OpenAiApi implements HttpService {
    private final ChatPipeline pipeline;
    private final Endpoint endpoint;

    public OpenAiApi(ChatPipeline pipeline, long maxBodyBytes) {
        this.pipeline = pipeline;
        this.endpoint = new Endpoint(pipeline, maxBodyBytes, DIALECT);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/chat/completions", (req, res) -> serve("/v1/chat/completions", req, res,
                        (json, call) -> completion(json, req, res, call, true)))
                .post("/completions", (req, res) -> serve("/v1/completions", req, res,
                        (json, call) -> completion(json, req, res, call, false)))
                .post("/embeddings", (req, res) -> serve("/v1/embeddings", req, res,
                        (json, call) -> embeddings(json, res, call)))
                .get("/models", this::listModels)
                .get("/models/{id}", this::getModel)
                .any(OpenAiApi::unknownUrl);
    }

    /** OpenAI's answer to a path or method it does not serve; also the server's fallback outside /v1. */
    public static void unknownUrl(ServerRequest req, ServerResponse res) {
        send(res, new ApiException(404, "invalid_request_error", "unknown_url", null,
                "Unknown request URL: " + req.prologue().method().text() + " " + req.prologue().uriPath().path() + ".", null));
    }

    /** OpenAI's credentials (Authorization: Bearer), user field and error shape, for {@link Endpoint}. */
    public static final Endpoint.Dialect DIALECT = new Endpoint.Dialect() {
        @Override
        public ApiAuth.Caller authenticate(ApiAuth auth, ServerRequest req) {
            return auth.authenticate(req);
        }

        @Override
        public String user(JsonNode body) {
            return body.path("user").textValue();
        }

        @Override
        public void send(ServerResponse res, ApiException e) {
            OpenAiApi.send(res, e);
        }
    };

    /** Serves {@code route} in OpenAI's error shape; public for the Responses API, which shares it. */
    public void serve(String route, ServerRequest req, ServerResponse res, Endpoint.Handler handler) {
        endpoint.serve(route, req, res, handler);
    }

    private void completion(JsonNode body, ServerRequest req, ServerResponse res, Call call, boolean chat)
            throws InterruptedException {
        ChatRequest parsed = chat ? OpenAiRequests.chat(body) : OpenAiRequests.completion(body);
        Call.Answer answer = call.chat(parsed, CacheControl.of(req.headers().values(HeaderNames.CACHE_CONTROL)));
        CompletionEncoder encoder = new CompletionEncoder(chat, "chatcmpl-" + UUID.randomUUID(),
                System.currentTimeMillis() / 1000, answer.request(), OpenAiRequests.legacyFunctions(body));
        if (answer.request().stream()) {
            streamResponse(req, res, answer.stream(), encoder);
        } else {
            WholeAnswer.collect(req, res, answer, encoder::add);
            call.costHeader(); // known before a whole answer's headers go: what it cost, from the price list
            WholeAnswer.send(req, res, encoder.response());
        }
    }

    private void embeddings(JsonNode body, ServerResponse res, Call call) throws Exception {
        String name = EmbeddingsRequests.model(body);
        try (LocalEmbedder.Lease lease = call.embeddings(name, EmbeddingsRequests.estimate(body))) {
            EmbeddingBatcher batcher = lease.batcher();
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
            call.used(new ChatEvent.Usage(tokens, 0));
            res.header(HeaderNames.CONTENT_TYPE, "application/json")
                    .send(OpenAiJson.bytes(EmbeddingsRequests.response(name, vectors, tokens, parsed.base64())));
        }
    }

    /** A client that stops reading is cut off (the write timeout), and its generation cancelled. */
    private static void streamResponse(ServerRequest req, ServerResponse res, ChatStream stream,
                                       CompletionEncoder encoder) throws InterruptedException {
        try (stream) {
            ChatEvent first = stream.next(); // a refusal before the first token still gets a proper status
            res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
            res.header(HeaderNames.CACHE_CONTROL, "no-cache");
            try (var out = new HeldBody(req, res)) {
                SseWriter sse = new SseWriter(out);
                try {
                    for (ChatEvent e = first; e != null; e = stream.next()) {
                        encoder.write(e, sse);
                        if (!stream.ready()) { // flushed when the next event is not here yet: one write for a burst
                            sse.flush();
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
            caller = pipeline.auth().authenticate(req);
        } catch (ApiException e) {
            send(res, e);
            return;
        }
        // listing costs nothing, but a limited caller still sees where it stands
        pipeline.rateHeaders(caller, (name, value) -> res.header(HeaderNames.create(name), value));
        ObjectNode list = OpenAiJson.MAPPER.createObjectNode();
        list.put("object", "list");
        ArrayNode data = list.putArray("data");
        pipeline.modelNames(caller).forEach(name -> data.add(modelObject(name)));
        res.header(HeaderNames.CONTENT_TYPE, "application/json").send(OpenAiJson.bytes(list));
    }

    private void getModel(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        try {
            pipeline.requireModel(pipeline.auth().authenticate(req), Identifiers.requireShort(id, "model"));
        } catch (ApiException e) {
            send(res, e);
            return;
        }
        if (!pipeline.serves(id)) {
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
