package dev.gatehouse.gateway.api.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.api.openai.OpenAiJson;
import dev.gatehouse.gateway.api.openai.RequestBody;
import dev.gatehouse.gateway.api.openai.SseWriter;
import dev.gatehouse.gateway.api.openai.WholeAnswer;
import dev.gatehouse.gateway.cache.CacheControl;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.connection.ClientConnection;
import dev.gatehouse.gateway.pipeline.Call;
import dev.gatehouse.gateway.pipeline.ChatPipeline;
import dev.gatehouse.gateway.pipeline.TokenEstimate;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Anthropic's Messages API: POST /v1/messages and /v1/messages/count_tokens. Decoding and encoding
 * only: each request is decoded into the internal form and served by the {@link ChatPipeline}, so
 * keys, limits, budgets, the cache, plugins, usage (logged under the route /v1/messages) and
 * fallbacks apply as to chat completions. The key is read from {@code x-api-key} or
 * {@code Authorization: Bearer}. Every failure answers in Anthropic's error shape.
 */
public final class AnthropicApi implements HttpService {
    private static final Logger LOG = Logger.getLogger(AnthropicApi.class.getName());

    private final ChatPipeline pipeline;
    private final RequestBody body;

    public AnthropicApi(ChatPipeline pipeline, long maxBodyBytes) {
        this.pipeline = pipeline;
        this.body = new RequestBody(maxBodyBytes);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/messages", (req, res) -> serve("/v1/messages", req, res, (json, call) -> messages(json, req, res, call)))
                .post("/messages/count_tokens", (req, res) -> serve("/v1/messages/count_tokens", req, res,
                        (json, call) -> countTokens(json, res)));
    }

    @FunctionalInterface
    private interface Handler {
        void handle(JsonNode body, Call call) throws Exception;
    }

    /** Authenticates, reads the body and runs the handler; every way out becomes an Anthropic error and ends the call. */
    private void serve(String route, ServerRequest req, ServerResponse res, Handler handler) {
        Call call = pipeline.begin(route, name -> req.headers().first(HeaderNames.create(name)).orElse(null),
                (name, value) -> res.header(HeaderNames.create(name), value));
        int status = 200;
        try {
            try {
                call.caller(pipeline.auth().authenticateApiKeyHeader(req)); // before the body: strangers get nothing parsed
            } catch (ApiException e) {
                res.header(HeaderValues.CONNECTION_CLOSE);
                throw e;
            }
            JsonNode json = body.read(req, res);
            call.asks(json.path("model").textValue(), json.path("metadata").path("user_id").textValue());
            handler.handle(json, call);
        } catch (ApiException e) {
            status = e.status();
            send(res, e);
            if (res.headers().contains(HeaderValues.CONNECTION_CLOSE)) {
                throw new CloseConnectionException("request body left unread");
            }
        } catch (SseWriter.ClientGoneException e) {
            status = 499;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            status = 503;
        } catch (Exception e) {
            status = 500;
            LOG.log(Level.SEVERE, "internal error on " + route, e);
            send(res, new ApiException(500, "server_error", null, null, "Internal server error.", null));
        } finally {
            call.end(status);
        }
    }

    private void messages(JsonNode json, ServerRequest req, ServerResponse res, Call call) throws InterruptedException {
        ChatRequest parsed = AnthropicRequests.decode(json, false);
        Call.Answer answer = call.chat(parsed, CacheControl.of(req.headers().values(HeaderNames.CACHE_CONTROL)));
        MessageEncoder encoder = new MessageEncoder("msg_" + UUID.randomUUID().toString().replace("-", ""),
                answer.request().model(), TokenEstimate.prompt(answer.request()));
        ClientConnection.limitWrites(req, res);
        if (answer.request().stream()) {
            stream(res, answer.stream(), encoder);
            return;
        }
        WholeAnswer.collect(req, res, answer, encoder::add);
        call.costHeader();
        WholeAnswer.send(res, encoder.message());
    }

    private static void stream(ServerResponse res, ChatStream stream, MessageEncoder encoder) throws InterruptedException {
        try (stream) {
            ChatEvent first = stream.next(); // a refusal before the first token still gets a proper status
            res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
            res.header(HeaderNames.CACHE_CONTROL, "no-cache");
            try (var out = res.outputStream()) {
                SseWriter sse = new SseWriter(out);
                send(sse, encoder.start());
                try {
                    for (ChatEvent e = first; e != null; e = stream.next()) {
                        for (MessageEncoder.Event event : encoder.events(e)) {
                            send(sse, event);
                        }
                    }
                    for (MessageEncoder.Event event : encoder.end()) {
                        send(sse, event);
                    }
                } catch (ApiException e) { // headers are gone: the error travels as an error event
                    sse.event("error", OpenAiJson.bytes(error(e)));
                }
            } catch (IOException e) {
                throw new SseWriter.ClientGoneException(e);
            }
        }
    }

    private static void send(SseWriter sse, MessageEncoder.Event event) {
        sse.event(event.name(), OpenAiJson.bytes(event.data()));
    }

    /**
     * {"input_tokens": N}: a local model's prompt as its template renders it and its tokenizer counts
     * it; for a provider route, Gatehouse's estimate (characters / 4, tool definitions included).
     */
    private void countTokens(JsonNode json, ServerResponse res) {
        ChatRequest parsed = AnthropicRequests.decode(json, true);
        ObjectNode out = OpenAiJson.MAPPER.createObjectNode().put("input_tokens", pipeline.promptTokens(parsed));
        res.header(HeaderNames.CONTENT_TYPE, "application/json").send(OpenAiJson.bytes(out));
    }

    /** Anthropic's error body: {"type": "error", "error": {"type", "message"}}. */
    static ObjectNode error(ApiException e) {
        ObjectNode root = OpenAiJson.MAPPER.createObjectNode().put("type", "error");
        String message = e.getMessage();
        if (e.param() != null && !message.contains(e.param())) {
            message = e.param() + ": " + message;
        }
        root.putObject("error").put("type", errorType(e.status())).put("message", message);
        return root;
    }

    /** Anthropic's error type for an HTTP status. */
    static String errorType(int status) {
        return switch (status) {
            case 400, 422 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 402, 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_error";
            case 503, 529 -> "overloaded_error";
            default -> status < 500 ? "invalid_request_error" : "api_error";
        };
    }

    private static void send(ServerResponse res, ApiException e) {
        if (res.isSent()) {
            return;
        }
        res.status(Status.create(e.status()));
        if (e.retryAfterSeconds() != null) {
            res.header(HeaderNames.RETRY_AFTER, String.valueOf(e.retryAfterSeconds()));
        }
        res.header(HeaderNames.CONTENT_TYPE, "application/json").send(OpenAiJson.bytes(error(e)));
    }
}
