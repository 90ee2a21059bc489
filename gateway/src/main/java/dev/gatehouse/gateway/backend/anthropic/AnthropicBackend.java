package dev.gatehouse.gateway.backend.anthropic;

import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.Capabilities;
import dev.gatehouse.gateway.backend.FinishedStream;
import dev.gatehouse.gateway.backend.ProviderHttp;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.ProviderConfig;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Anthropic's Messages API (POST {base-url}/v1/messages); {@code request.model()} is Anthropic's model name. */
public final class AnthropicBackend implements Backend {
    static final String API_VERSION = "2023-06-01";

    private final ProviderConfig provider;
    private final ProviderHttp client;

    public AnthropicBackend(ProviderConfig provider) {
        this.provider = provider;
        this.client = new ProviderHttp(provider);
    }

    /** Text only until tools, images and structured output are translated to Anthropic's shapes. */
    @Override
    public Capabilities capabilities() {
        return Capabilities.TEXT;
    }

    @Override
    public ChatStream open(ChatRequest request) {
        byte[] body = ProviderHttp.bytes(AnthropicRequestTranslator.body(request));
        URI uri = URI.create(provider.baseUrl() + "/v1/messages");
        HttpRequest.Builder http = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofMillis(provider.timeoutMillis())) // until the response headers arrive
                .header("Content-Type", "application/json")
                .header("anthropic-version", API_VERSION)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (uri.getScheme().equals("http")) {
            http.version(HttpClient.Version.HTTP_1_1);
        }
        provider.headers().forEach(http::header);
        if (provider.apiKey() != null) {
            http.header("x-api-key", provider.apiKey());
        }
        HttpResponse<InputStream> response = client.send(http.build());
        if (response.statusCode() != 200) {
            throw AnthropicErrors.fromResponse(provider.name(), provider.apiKey(), response.statusCode(),
                    client.readAll(response.body()), ProviderHttp.retryAfterMillis(response));
        }
        if (request.stream()) {
            return new AnthropicChatStream(provider.name(), provider.apiKey(), response.body(), provider.timeoutMillis());
        }
        return new FinishedStream(AnthropicEventTranslator.message(client.parse(client.readAll(response.body()))));
    }
}
