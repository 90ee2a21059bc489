package dev.gatehouse.gateway.backend;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;

/**
 * What makes one provider's HTTP API its own: where a request goes, how Gatehouse proves who it is,
 * the request body, the answers and the errors. Everything they share (timeouts, the HTTP client,
 * SSE framing, transport failures, the end of a stream) is {@link HttpProvider}'s. A provider is a
 * folder with one of these, registered by type in {@link Providers}.
 */
public interface ProviderApi {

    /** What the translators carry: the router passes over this provider for requests that need more. */
    Capabilities capabilities();

    /** The endpoint of this request (it may name the model or the streaming operation). */
    URI uri(ChatRequest request);

    /**
     * The headers that authenticate the request (and any the API requires), besides Content-Type and
     * Accept; {@code uri} and {@code body} are what is sent, for APIs that sign them (Bedrock's SigV4).
     */
    void authenticate(HttpRequest.Builder http, URI uri, byte[] body);

    /**
     * Whether this request goes as the client's own body ({@link ChatRequest#original()}), because the
     * provider speaks the client's dialect: its answer then also reaches the client as the provider
     * sent it, beside the translated events. The provider's {@link #uri}, {@link #body} and translators
     * then speak that dialect too.
     */
    default boolean sendsOriginal(ChatRequest request) {
        return false;
    }

    /** The request body; throws {@link ApiException#unsupported} for what the provider cannot serve. */
    JsonNode body(ChatRequest request);

    /** A non-200 answer as the gateway's error (keeping the upstream status, never the provider's key). */
    ApiException error(int status, byte[] body, Long retryAfterMillis);

    /** A whole (non-streamed) answer as events, Usage last. */
    List<ChatEvent> answer(ChatRequest request, JsonNode body);

    /** A translator for one streamed answer. */
    StreamTranslator stream(ChatRequest request);

    /** Whether {@code model} continues a final assistant message (see {@link Backend#prefills}). */
    default boolean prefills(String model) {
        return false;
    }

    /** The Accept header of a streamed request. */
    default String streamMediaType() {
        return "text/event-stream";
    }

    /** A streamed answer's body as JSON events: SSE unless the API frames its streams otherwise. */
    default StreamPayloads payloads(InputStream body, long stallMillis) {
        return new SseLines(body, stallMillis);
    }
}
