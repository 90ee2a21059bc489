package dev.gatehouse.gateway.backend;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.ProviderConfig;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * The one HTTP provider: POSTs the provider's body to its endpoint with its credentials and the
 * configured extra headers, waits at most the provider's timeout-ms for the response headers, maps
 * a non-200 answer with the provider's error mapping, and reads the answer whole or as a stream
 * through the provider's translators. Retrying and falling back are the router's business. A
 * request the provider takes as the client sent it ({@link ProviderApi#sendsOriginal}) also carries
 * the client's dialect headers, and its answer comes with the provider's own events
 * ({@link ChatEvent.Raw}) before their translations.
 */
public final class HttpProvider implements Backend {
    private final ProviderConfig config;
    private final ProviderApi api;
    private final ProviderHttp client;

    public HttpProvider(ProviderConfig config, ProviderApi api) {
        this.config = config;
        this.api = api;
        this.client = new ProviderHttp(config);
    }

    @Override
    public Capabilities capabilities() {
        return api.capabilities();
    }

    @Override
    public boolean prefills(String model) {
        return api.prefills(model);
    }

    @Override
    public ChatStream open(ChatRequest request) {
        boolean original = api.sendsOriginal(request);
        byte[] body = ProviderHttp.bytes(api.body(request));
        URI uri = api.uri(request);
        HttpRequest.Builder http = HttpRequest.newBuilder(uri) // the client waits timeout-ms for the headers
                .header("Content-Type", "application/json")
                .header("Accept", request.stream() ? api.streamMediaType() : "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (uri.getScheme().equals("http")) {
            http.version(HttpClient.Version.HTTP_1_1); // plain-text servers rarely take the h2c upgrade
        }
        config.headers().forEach(http::header);
        api.authenticate(http, uri, body);
        if (original) { // anthropic-version, anthropic-beta: the client's replace Gatehouse's
            request.original().headers().forEach(http::setHeader);
        }
        HttpResponse<InputStream> response = client.send(http.build());
        if (response.statusCode() != 200) {
            throw api.error(response.statusCode(), client.readAll(response), ProviderHttp.retryAfterMillis(response));
        }
        if (request.stream()) {
            return new ProviderStream(new ProviderEvents(config.name(), api.payloads(response.body(), config.timeoutMillis())),
                    api.stream(request), original);
        }
        JsonNode answer = client.parse(client.readAll(response));
        List<ChatEvent> events = new ArrayList<>(api.answer(request, answer));
        if (original) {
            events.addFirst(new ChatEvent.Raw(answer));
        }
        return new FinishedStream(events);
    }
}
