package dev.gatehouse.gateway.backend.gemini;

import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.Capabilities;
import dev.gatehouse.gateway.backend.FinishedStream;
import dev.gatehouse.gateway.backend.ProviderHttp;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.ProviderConfig;

import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Google's Gemini API: POST {base-url}/v1beta/models/{model}:generateContent, or
 * :streamGenerateContent?alt=sse to stream; the key goes in the x-goog-api-key header, never the URL.
 */
public final class GeminiBackend implements Backend {
    private final ProviderConfig provider;
    private final ProviderHttp client;

    public GeminiBackend(ProviderConfig provider) {
        this.provider = provider;
        this.client = new ProviderHttp(provider);
    }

    /** Text only until tools, images and structured output are translated to Gemini's shapes. */
    @Override
    public Capabilities capabilities() {
        return Capabilities.TEXT;
    }

    @Override
    public ChatStream open(ChatRequest request) {
        byte[] body = ProviderHttp.bytes(GeminiRequestTranslator.body(request));
        URI uri = URI.create(provider.baseUrl() + "/v1beta/models/" + URLEncoder.encode(request.model(), StandardCharsets.UTF_8)
                + (request.stream() ? ":streamGenerateContent?alt=sse" : ":generateContent"));
        HttpRequest.Builder http = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofMillis(provider.timeoutMillis())) // until the response headers arrive
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (uri.getScheme().equals("http")) {
            http.version(HttpClient.Version.HTTP_1_1);
        }
        provider.headers().forEach(http::header);
        if (provider.apiKey() != null) {
            http.header("x-goog-api-key", provider.apiKey());
        }
        HttpResponse<InputStream> response = client.send(http.build());
        if (response.statusCode() != 200) {
            throw GeminiErrors.fromResponse(provider.name(), provider.apiKey(), response.statusCode(),
                    client.readAll(response.body()), ProviderHttp.retryAfterMillis(response));
        }
        if (request.stream()) {
            return new GeminiChatStream(provider.name(), provider.apiKey(), request.n(), response.body(), provider.timeoutMillis());
        }
        GeminiEventTranslator translator = new GeminiEventTranslator();
        List<ChatEvent> events = new ArrayList<>(translator.response(client.parse(client.readAll(response.body()))));
        if (translator.usage() != null) {
            events.add(translator.usage());
        }
        return new FinishedStream(events);
    }
}
