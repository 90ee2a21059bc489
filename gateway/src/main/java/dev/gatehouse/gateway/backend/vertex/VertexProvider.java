package dev.gatehouse.gateway.backend.vertex;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.backend.Capabilities;
import dev.gatehouse.gateway.backend.ProviderApi;
import dev.gatehouse.gateway.backend.ProviderHttp;
import dev.gatehouse.gateway.backend.StreamTranslator;
import dev.gatehouse.gateway.backend.anthropic.AnthropicProvider;
import dev.gatehouse.gateway.backend.gemini.GeminiProvider;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ResponseFormat;
import dev.gatehouse.gateway.config.ProviderConfig;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;

/**
 * Google Vertex AI: {base-url}/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}
 * with an OAuth2 access token ({@link VertexToken}). Google's Gemini models take the Gemini API's
 * bodies (generateContent, streamGenerateContent?alt=sse); Anthropic's Claude models take the
 * Messages API's (rawPredict, streamRawPredict) with {@code anthropic_version} in the body instead
 * of {@code model}. So the translations are the Gemini and Anthropic providers', only the address
 * and the credentials are Vertex's (see {@link VertexPublisher} for which publisher a model is).
 */
public final class VertexProvider implements ProviderApi {
    static final String ANTHROPIC_VERSION = "vertex-2023-10-16";

    private final ProviderConfig provider;
    private final GeminiProvider gemini;
    private final AnthropicProvider anthropic;
    private final VertexToken token;

    public VertexProvider(ProviderConfig provider) {
        this.provider = provider;
        this.gemini = new GeminiProvider(provider);
        this.anthropic = new AnthropicProvider(provider);
        this.token = new VertexToken(provider.name(), provider.gcp().credentialsJson());
    }

    /** Gemini's: everything. Claude has no json_object mode and refuses it in {@link #body}, so the router moves on. */
    @Override
    public Capabilities capabilities() {
        return Capabilities.EVERYTHING;
    }

    /** Claude continues a final assistant message; Gemini answers after it. */
    @Override
    public boolean prefills(String model) {
        return VertexPublisher.of(model).anthropic();
    }

    @Override
    public URI uri(ChatRequest request) {
        VertexPublisher m = VertexPublisher.of(request.model());
        String method = m.anthropic() ? (request.stream() ? "streamRawPredict" : "rawPredict")
                : (request.stream() ? "streamGenerateContent?alt=sse" : "generateContent");
        return URI.create(provider.baseUrl() + "/v1/projects/" + provider.gcp().project() + "/locations/"
                + provider.gcp().location() + "/publishers/" + m.publisher() + "/models/" + m.model() + ":" + method);
    }

    @Override
    public void authenticate(HttpRequest.Builder http, URI uri, byte[] body) {
        token.headers(uri).forEach((name, values) -> values.forEach(v -> http.header(name, v)));
    }

    @Override
    public JsonNode body(ChatRequest request) {
        if (!VertexPublisher.of(request.model()).anthropic()) {
            return gemini.body(request);
        }
        ResponseFormat f = request.responseFormat();
        if (f != null && f.type() == ResponseFormat.Type.JSON_OBJECT) {
            throw ApiException.unsupportedValue("response_format", "This model does not support response_format 'json_object'.");
        }
        ObjectNode body = (ObjectNode) anthropic.body(request.withoutOriginal()); // translated: Vertex is not a pass-through target
        body.remove("model"); // it is in the path
        body.put("anthropic_version", ANTHROPIC_VERSION);
        return body;
    }

    /**
     * Vertex's own refusals (quota, auth, unknown model) are Google's shape, {@code {"error":{"code","status"}}},
     * for either publisher; what Claude itself refuses keeps Anthropic's, {@code {"type":"error","error":{"type"}}}.
     */
    @Override
    public ApiException error(int status, byte[] body, Long retryAfterMillis) {
        if (status == 401) {
            token.forget(); // kept until it expires otherwise: an hour of refusals for a revoked token
        }
        JsonNode parsed = parse(body);
        if (parsed.isArray() && parsed.size() > 0) { // a streamed method's error can come as a one-element array
            body = ProviderHttp.bytes(parsed.get(0));
            parsed = parsed.get(0);
        }
        return parsed.path("error").path("type").isTextual() ? anthropic.error(status, body, retryAfterMillis)
                : gemini.error(status, body, retryAfterMillis);
    }

    @Override
    public List<ChatEvent> answer(ChatRequest request, JsonNode body) {
        return VertexPublisher.of(request.model()).anthropic() ? anthropic.answer(request, body) : gemini.answer(request, body);
    }

    @Override
    public StreamTranslator stream(ChatRequest request) {
        return VertexPublisher.of(request.model()).anthropic() ? anthropic.stream(request) : gemini.stream(request);
    }

    private static JsonNode parse(byte[] body) {
        try {
            JsonNode node = ProviderHttp.MAPPER.readTree(body);
            return node == null ? ProviderHttp.MAPPER.createObjectNode() : node;
        } catch (IOException e) {
            return ProviderHttp.MAPPER.createObjectNode();
        }
    }
}
