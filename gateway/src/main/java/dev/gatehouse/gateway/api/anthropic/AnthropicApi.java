package dev.gatehouse.gateway.api.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.api.Endpoint;
import dev.gatehouse.gateway.api.NamedEventStream;
import dev.gatehouse.gateway.api.openai.OpenAiJson;
import dev.gatehouse.gateway.api.openai.WholeAnswer;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.cache.CacheControl;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.pipeline.Call;
import dev.gatehouse.gateway.pipeline.ChatPipeline;
import dev.gatehouse.gateway.pipeline.TokenEstimate;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Anthropic's Messages API: POST /v1/messages and /v1/messages/count_tokens. Decoding and encoding
 * only: each request is decoded into the internal form and served by the {@link ChatPipeline}, so
 * keys, limits, budgets, the cache, plugins, usage (logged under the route /v1/messages) and
 * fallbacks apply as to chat completions. The key is read from {@code x-api-key} or
 * {@code Authorization: Bearer}. Every failure answers in Anthropic's error shape. The client's body
 * and its {@code anthropic-version} / {@code anthropic-beta} headers travel with the request, so an
 * Anthropic target gets them unchanged (see {@link dev.gatehouse.gateway.chat.OriginalRequest}).
 */
public final class AnthropicApi implements HttpService {
    /** The client's headers an Anthropic target is sent as they are. */
    static final List<String> FORWARDED_HEADERS = List.of("anthropic-version", "anthropic-beta");

    /** Anthropic's credentials (x-api-key, or Authorization: Bearer), user field and error shape. */
    static final Endpoint.Dialect DIALECT = new Endpoint.Dialect() {
        @Override
        public ApiAuth.Caller authenticate(ApiAuth auth, ServerRequest req) {
            return auth.authenticateApiKeyHeader(req);
        }

        @Override
        public String user(JsonNode body) {
            return body.path("metadata").path("user_id").textValue();
        }

        @Override
        public void send(ServerResponse res, ApiException e) {
            AnthropicApi.send(res, e);
        }
    };

    private final ChatPipeline pipeline;
    private final Endpoint endpoint;

    public AnthropicApi(ChatPipeline pipeline, long maxBodyBytes) {
        this.pipeline = pipeline;
        this.endpoint = new Endpoint(pipeline, maxBodyBytes, DIALECT);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/messages", (req, res) -> endpoint.serve("/v1/messages", req, res,
                        (json, call) -> messages(json, req, res, call)))
                .post("/messages/count_tokens", (req, res) -> endpoint.serve("/v1/messages/count_tokens", req, res,
                        (json, call) -> countTokens(json, res)));
    }

    private void messages(JsonNode json, ServerRequest req, ServerResponse res, Call call) throws InterruptedException {
        ChatRequest parsed = AnthropicRequests.decode(json, false, forwardedHeaders(req));
        Call.Answer answer = call.chat(parsed, CacheControl.of(req.headers().values(HeaderNames.CACHE_CONTROL)));
        MessageEncoder encoder = new MessageEncoder("msg_" + UUID.randomUUID().toString().replace("-", ""),
                answer.request().model(), TokenEstimate.prompt(answer.request()));
        if (answer.request().stream()) {
            NamedEventStream.send(req, res, answer.stream(), encoder);
            return;
        }
        WholeAnswer.collect(req, res, answer, encoder::add);
        call.costHeader();
        WholeAnswer.send(req, res, encoder.message());
    }

    private static Map<String, String> forwardedHeaders(ServerRequest req) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : FORWARDED_HEADERS) {
            HeaderName header = HeaderNames.create(name);
            if (req.headers().contains(header)) {
                String value = String.join(",", req.headers().get(header).allValues());
                if (!value.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) { // what an HTTP client can send on unchanged
                    throw ApiException.invalid(name, name + ": only printable ASCII characters are allowed.");
                }
                out.put(name, value);
            }
        }
        return out;
    }

    /**
     * {"input_tokens": N}: a local model's prompt as its template renders it and its tokenizer counts
     * it; for a provider route, Gatehouse's estimate (characters / 4, tool definitions included).
     */
    private void countTokens(JsonNode json, ServerResponse res) {
        ChatRequest parsed = AnthropicRequests.decode(json, true, Map.of());
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
