package dev.gatehouse.gateway.backend.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Capabilities;
import dev.gatehouse.gateway.backend.ProviderApi;
import dev.gatehouse.gateway.backend.StreamTranslator;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.OriginalRequest;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.config.ProviderType;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * OpenAI's chat completions API, and the servers that speak it: any OpenAI-compatible one (vLLM,
 * OpenRouter, Ollama, ...) and Azure OpenAI, which differs only in its URL (the deployment and
 * api-version) and its {@code api-key} header. {@code request.model()} is the provider's own model
 * name, for Azure the deployment's. Tools, images and response formats go as the client sent them.
 * With {@code responses-api} (OpenAI's own API has it), a request that came in through Gatehouse's
 * Responses API goes to {base-url}/responses as the client wrote it (with the provider's model name).
 */
public final class OpenAiProvider implements ProviderApi {
    private final ProviderConfig provider;

    public OpenAiProvider(ProviderConfig provider) {
        this.provider = provider;
    }

    @Override
    public Capabilities capabilities() {
        return provider.responsesApi() ? Capabilities.EVERYTHING.takingOriginals(OriginalRequest.Dialect.OPENAI_RESPONSES)
                : Capabilities.EVERYTHING;
    }

    @Override
    public boolean sendsOriginal(ChatRequest request) {
        return provider.responsesApi() && request.hasOriginal(OriginalRequest.Dialect.OPENAI_RESPONSES);
    }

    @Override
    public URI uri(ChatRequest request) {
        if (sendsOriginal(request)) {
            return URI.create(provider.baseUrl() + "/responses");
        }
        String operation = request.isChat() ? "/chat/completions" : "/completions";
        if (provider.type() == ProviderType.AZURE_OPENAI) {
            return URI.create(provider.baseUrl() + "/openai/deployments/" + encode(request.model()) + operation
                    + "?api-version=" + encode(provider.apiVersion()));
        }
        return URI.create(provider.baseUrl() + operation);
    }

    @Override
    public void authenticate(HttpRequest.Builder http, URI uri, byte[] body) {
        if (provider.apiKey() != null && provider.type() == ProviderType.AZURE_OPENAI) {
            http.header("api-key", provider.apiKey());
        } else if (provider.apiKey() != null) {
            http.header("Authorization", "Bearer " + provider.apiKey());
        }
    }

    @Override
    public JsonNode body(ChatRequest request) {
        return sendsOriginal(request) ? request.original().bodyFor(request.model())
                : OpenAiRequestTranslator.body(request, provider.type());
    }

    @Override
    public ApiException error(int status, byte[] body, Long retryAfterMillis) {
        return OpenAiErrors.fromResponse(provider.name(), provider.apiKey(), status, body, retryAfterMillis);
    }

    @Override
    public List<ChatEvent> answer(ChatRequest request, JsonNode body) {
        return sendsOriginal(request) ? ResponsesEventTranslator.response(body) : OpenAiEventTranslator.response(body);
    }

    @Override
    public StreamTranslator stream(ChatRequest request) {
        return sendsOriginal(request) ? new ResponsesEventTranslator(provider.name(), provider.apiKey())
                : new OpenAiEventTranslator(provider.name(), provider.apiKey());
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
