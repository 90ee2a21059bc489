package dev.gatehouse.gateway.backend.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Capabilities;
import dev.gatehouse.gateway.backend.ProviderApi;
import dev.gatehouse.gateway.backend.StreamTranslator;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.config.ProviderConfig;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Google's Gemini API: POST {base-url}/v1beta/models/{model}:generateContent, or
 * :streamGenerateContent?alt=sse to stream; the key goes in the x-goog-api-key header, never the URL.
 */
public final class GeminiProvider implements ProviderApi {
    private final ProviderConfig provider;

    public GeminiProvider(ProviderConfig provider) {
        this.provider = provider;
    }

    @Override
    public Capabilities capabilities() {
        return Capabilities.EVERYTHING;
    }

    @Override
    public URI uri(ChatRequest request) {
        return URI.create(provider.baseUrl() + "/v1beta/models/" + URLEncoder.encode(request.model(), StandardCharsets.UTF_8)
                + (request.stream() ? ":streamGenerateContent?alt=sse" : ":generateContent"));
    }

    @Override
    public void authenticate(HttpRequest.Builder http, URI uri, byte[] body) {
        if (provider.apiKey() != null) {
            http.header("x-goog-api-key", provider.apiKey());
        }
    }

    @Override
    public JsonNode body(ChatRequest request) {
        return GeminiRequestTranslator.body(request);
    }

    @Override
    public ApiException error(int status, byte[] body, Long retryAfterMillis) {
        return GeminiErrors.fromResponse(provider.name(), provider.apiKey(), status, body, retryAfterMillis);
    }

    @Override
    public List<ChatEvent> answer(ChatRequest request, JsonNode body) {
        return new GeminiEventTranslator(provider.name(), provider.apiKey(), 1).answer(body);
    }

    @Override
    public StreamTranslator stream(ChatRequest request) {
        return new GeminiEventTranslator(provider.name(), provider.apiKey(), request.n());
    }
}
