package dev.gatehouse.gateway.backend.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.config.ProviderType;

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
 * OpenAI's chat completions API, and the servers that speak it: any OpenAI-compatible one (vLLM,
 * OpenRouter, Ollama, ...) and Azure OpenAI, which differs only in its URL (the deployment and
 * api-version) and its {@code api-key} header. {@code request.model()} is the provider's own model
 * name, for Azure the deployment's. Errors come back as ApiException with
 * the upstream status (see {@link OpenAiErrors}); retrying elsewhere is the router's business.
 */
public final class OpenAiBackend implements Backend {
    private final ProviderConfig provider;
    private final HttpClient http;

    public OpenAiBackend(ProviderConfig provider) {
        this.provider = provider;
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofMillis(Math.min(provider.timeoutMillis(), 10_000)))
                .build();
    }

    public ProviderConfig provider() {
        return provider;
    }

    @Override
    public ChatStream open(ChatRequest request) {
        byte[] body = bytes(OpenAiRequestTranslator.body(request, provider.type()));
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
        HttpResponse<InputStream> response = send(http.build());
        if (response.statusCode() != 200) {
            throw OpenAiErrors.fromResponse(provider.name(), provider.apiKey(), response.statusCode(),
                    readAll(response.body()), retryAfter(response));
        }
        if (request.stream()) {
            return new SseChatStream(provider.name(), provider.apiKey(), response.body(), provider.timeoutMillis());
        }
        JsonNode whole = parse(readAll(response.body()));
        return new ListStream(new ArrayDeque<>(OpenAiEventTranslator.response(whole)));
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

    private HttpResponse<InputStream> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw OpenAiErrors.fromIo(provider.name(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "server_error", null, null, "Interrupted while waiting for the provider.", null);
        }
    }

    private byte[] readAll(InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw OpenAiErrors.fromIo(provider.name(), e);
        }
    }

    private JsonNode parse(byte[] body) {
        try {
            return OpenAiRequestTranslator.MAPPER.readTree(body);
        } catch (IOException e) {
            throw new ApiException(502, "server_error", "upstream_bad_response", null,
                    "Provider '" + provider.name() + "' answered with a body that is not JSON.", null);
        }
    }

    /** Retry-After in seconds (OpenAI also sends retry-after-ms); null when absent or an HTTP date. */
    private static Integer retryAfter(HttpResponse<?> response) {
        try {
            return response.headers().firstValue("retry-after").map(v -> Integer.parseInt(v.trim())).orElse(null);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return OpenAiRequestTranslator.MAPPER.writeValueAsBytes(node);
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
