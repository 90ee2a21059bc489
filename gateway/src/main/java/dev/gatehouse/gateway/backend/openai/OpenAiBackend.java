package dev.gatehouse.gateway.backend.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.Capabilities;
import dev.gatehouse.gateway.backend.FinishedStream;
import dev.gatehouse.gateway.backend.ProviderHttp;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.config.ProviderType;

import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * OpenAI's chat completions API, and the servers that speak it: any OpenAI-compatible one (vLLM,
 * OpenRouter, Ollama, ...) and Azure OpenAI, which differs only in its URL (the deployment and
 * api-version) and its {@code api-key} header. {@code request.model()} is the provider's own model
 * name, for Azure the deployment's. Errors come back as ApiException with
 * the upstream status (see {@link OpenAiErrors}); retrying elsewhere is the router's business.
 */
public final class OpenAiBackend implements Backend {
    private final ProviderConfig provider;
    private final ProviderHttp client;

    public OpenAiBackend(ProviderConfig provider) {
        this.provider = provider;
        this.client = new ProviderHttp(provider);
    }

    public ProviderConfig provider() {
        return provider;
    }

    /** OpenAI, Azure and compatible servers take tools, images and response formats as the client sent them. */
    @Override
    public Capabilities capabilities() {
        return Capabilities.EVERYTHING;
    }

    @Override
    public ChatStream open(ChatRequest request) {
        byte[] body = ProviderHttp.bytes(OpenAiRequestTranslator.body(request, provider.type()));
        URI uri = uri(request);
        HttpRequest.Builder http = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofMillis(provider.timeoutMillis())) // until the response headers arrive
                .header("Content-Type", "application/json")
                .header("Accept", request.stream() ? "text/event-stream" : "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (uri.getScheme().equals("http")) {
            http.version(HttpClient.Version.HTTP_1_1); // plain-text servers rarely take the h2c upgrade
        }
        provider.headers().forEach(http::header);
        if (provider.apiKey() != null && provider.type() == ProviderType.AZURE_OPENAI) {
            http.header("api-key", provider.apiKey());
        } else if (provider.apiKey() != null) {
            http.header("Authorization", "Bearer " + provider.apiKey());
        }
        HttpResponse<InputStream> response = client.send(http.build());
        if (response.statusCode() != 200) {
            throw OpenAiErrors.fromResponse(provider.name(), provider.apiKey(), response.statusCode(),
                    client.readAll(response.body()), ProviderHttp.retryAfterMillis(response));
        }
        if (request.stream()) {
            return new SseChatStream(provider.name(), provider.apiKey(), response.body(), provider.timeoutMillis());
        }
        JsonNode whole = client.parse(client.readAll(response.body()));
        return new FinishedStream(OpenAiEventTranslator.response(whole));
    }

    private URI uri(ChatRequest request) {
        String operation = request.isChat() ? "/chat/completions" : "/completions";
        if (provider.type() == ProviderType.AZURE_OPENAI) {
            return URI.create(provider.baseUrl() + "/openai/deployments/" + encode(request.model()) + operation
                    + "?api-version=" + encode(provider.apiVersion()));
        }
        return URI.create(provider.baseUrl() + operation);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
