package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.server.HttpMetrics;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
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

    private final LocalModels models;
    private final long maxBodyBytes;
    private final HttpMetrics metrics;

    public OpenAiApi(LocalModels models, long maxBodyBytes, HttpMetrics metrics) {
        this.models = models;
        this.maxBodyBytes = maxBodyBytes;
        this.metrics = metrics;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/chat/completions", (req, res) -> handle(req, res, "/v1/chat/completions", true))
                .post("/completions", (req, res) -> handle(req, res, "/v1/completions", false))
                .get("/models", this::listModels)
                .get("/models/{id}", this::getModel)
                .any((req, res) -> send(res, new ApiException(404, "invalid_request_error", "unknown_url", null,
                        "Unknown request URL: " + req.prologue().method().text() + " " + req.path().path() + ".", null)));
    }

    private void handle(ServerRequest req, ServerResponse res, String route, boolean chat) {
        long start = System.nanoTime();
        String model = null;
        int status = 200;
        try {
            JsonNode body = readBody(req);
            ChatRequest request = chat ? OpenAiRequests.chat(body) : OpenAiRequests.completion(body);
            Backend backend = backend(request.model());
            model = request.model(); // only a served model becomes a metric label: clients pick the names
            ChatStream stream = backend.open(request);
            CompletionEncoder encoder = new CompletionEncoder(chat, "chatcmpl-" + UUID.randomUUID(),
                    System.currentTimeMillis() / 1000, request);
            if (request.stream()) {
                streamResponse(res, stream, encoder);
            } else {
                res.header(HeaderNames.CONTENT_TYPE, "application/json").send(OpenAiJson.bytes(collect(stream, encoder)));
            }
        } catch (ApiException e) {
            status = e.status();
            send(res, e);
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

    private Backend backend(String model) {
        return models.get(model).orElseThrow(() -> ApiException.modelNotFound(model));
    }

    private JsonNode readBody(ServerRequest req) {
        long declared = req.headers().contentLength().orElse(-1);
        if (declared > maxBodyBytes) {
            throw tooLarge();
        }
        byte[] bytes;
        try (InputStream in = req.content().inputStream()) {
            bytes = in.readNBytes((int) maxBodyBytes + 1);
        } catch (IOException e) {
            throw ApiException.invalid(null, "Could not read the request body: " + e.getMessage());
        }
        if (bytes.length > maxBodyBytes) {
            throw tooLarge();
        }
        if (bytes.length == 0) {
            throw ApiException.invalid(null, "The request body is empty; expected a JSON object.");
        }
        try {
            return OpenAiJson.MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiException.invalid(null, "We could not parse the JSON body of your request: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.invalid(null, "We could not parse the JSON body of your request.");
        }
    }

    private ApiException tooLarge() {
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
        res.header(HeaderNames.CONTENT_TYPE, "application/json").send(OpenAiJson.bytes(list));
    }

    private void getModel(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        if (models.get(id).isEmpty()) {
            send(res, ApiException.modelNotFound(id));
            return;
        }
        res.header(HeaderNames.CONTENT_TYPE, "application/json").send(OpenAiJson.bytes(modelObject(id)));
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
