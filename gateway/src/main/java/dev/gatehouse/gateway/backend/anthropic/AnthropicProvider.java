package dev.gatehouse.gateway.backend.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Capabilities;
import dev.gatehouse.gateway.backend.ProviderApi;
import dev.gatehouse.gateway.backend.StreamTranslator;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.OriginalRequest;
import dev.gatehouse.gateway.config.ProviderConfig;

import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;

/**
 * Anthropic's Messages API (POST {base-url}/v1/messages); {@code request.model()} is Anthropic's model
 * name. A request that came in through Gatehouse's own Messages API is sent as the client wrote it
 * (with Anthropic's model name), with the client's anthropic-version and anthropic-beta headers.
 */
public final class AnthropicProvider implements ProviderApi {
    static final String API_VERSION = "2023-06-01";

    private final ProviderConfig provider;

    public AnthropicProvider(ProviderConfig provider) {
        this.provider = provider;
    }

    /** Tools, images and json_schema (as a forced tool); no json_object mode; Messages API bodies as they are. */
    @Override
    public Capabilities capabilities() {
        return new Capabilities(true, true, false, true, null).takingOriginals(OriginalRequest.Dialect.ANTHROPIC_MESSAGES);
    }

    @Override
    public boolean sendsOriginal(ChatRequest request) {
        return request.hasOriginal(OriginalRequest.Dialect.ANTHROPIC_MESSAGES);
    }

    /** A final assistant message is a prefill: Claude goes on from its last word. */
    @Override
    public boolean prefills(String model) {
        return true;
    }

    @Override
    public URI uri(ChatRequest request) {
        return URI.create(provider.baseUrl() + "/v1/messages");
    }

    @Override
    public void authenticate(HttpRequest.Builder http, URI uri, byte[] body) {
        http.setHeader("anthropic-version", API_VERSION); // a client's own replaces it (see HttpProvider)
        if (provider.apiKey() != null) {
            http.header("x-api-key", provider.apiKey());
        }
    }

    @Override
    public JsonNode body(ChatRequest request) {
        return sendsOriginal(request) ? request.original().bodyFor(request.model()) : AnthropicRequestTranslator.body(request);
    }

    @Override
    public ApiException error(int status, byte[] body, Long retryAfterMillis) {
        return AnthropicErrors.fromResponse(provider.name(), provider.apiKey(), status, body, retryAfterMillis);
    }

    @Override
    public List<ChatEvent> answer(ChatRequest request, JsonNode body) {
        return new AnthropicEventTranslator(provider.name(), provider.apiKey(),
                AnthropicRequestTranslator.formatTool(request)).message(body);
    }

    @Override
    public StreamTranslator stream(ChatRequest request) {
        return new AnthropicEventTranslator(provider.name(), provider.apiKey(), AnthropicRequestTranslator.formatTool(request));
    }
}
