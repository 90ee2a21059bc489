package dev.gatehouse.gateway.backend.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.ProviderConfig;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Queue;

/**
 * Google's Gemini API: POST {base-url}/v1beta/models/{model}:generateContent, or
 * :streamGenerateContent?alt=sse to stream; the key goes in the x-goog-api-key header, never the URL.
 */
public final class GeminiBackend implements Backend {
    private final ProviderConfig provider;
    private final HttpClient http;

    public GeminiBackend(ProviderConfig provider) {
        this.provider = provider;
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofMillis(Math.min(provider.timeoutMillis(), 10_000)))
                .build();
    }

    @Override
    public ChatStream open(ChatRequest request) {
        byte[] body = bytes(GeminiRequestTranslator.body(request));
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
        HttpResponse<InputStream> response = send(http.build());
        if (response.statusCode() != 200) {
            throw GeminiErrors.fromResponse(provider.name(), provider.apiKey(), response.statusCode(),
                    readAll(response.body()), retryAfter(response));
        }
        if (request.stream()) {
            return new GeminiChatStream(provider.name(), provider.apiKey(), request.n(), response.body(), provider.timeoutMillis());
        }
        GeminiEventTranslator translator = new GeminiEventTranslator();
        Queue<ChatEvent> events = new ArrayDeque<>(translator.response(parse(readAll(response.body()))));
        if (translator.usage() != null) {
            events.add(translator.usage());
        }
        return new ListStream(events);
    }

    private HttpResponse<InputStream> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw GeminiErrors.fromIo(provider.name(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "server_error", null, null, "Interrupted while waiting for the provider.", null);
        }
    }

    private byte[] readAll(InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw GeminiErrors.fromIo(provider.name(), e);
        }
    }

    private JsonNode parse(byte[] body) {
        try {
            return GeminiRequestTranslator.MAPPER.readTree(body);
        } catch (IOException e) {
            throw new ApiException(502, "server_error", "upstream_bad_response", null,
                    "Provider '" + provider.name() + "' answered with a body that is not JSON.", null);
        }
    }

    private static Integer retryAfter(HttpResponse<?> response) {
        try {
            return response.headers().firstValue("retry-after").map(v -> Integer.parseInt(v.trim())).orElse(null);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return GeminiRequestTranslator.MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A non-streamed answer, already whole. */
    private record ListStream(Queue<ChatEvent> events) implements ChatStream {
        @Override
        public ChatEvent next() {
            return events.poll();
        }

        @Override
        public void close() {}
    }
}
