package dev.gatehouse.gateway.backend;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * A provider's stream (SSE, or another framing's {@link StreamPayloads}) as JSON events, with what goes wrong on the way mapped to the gateway's
 * errors the same way for every provider: a transport failure or stall (502/504), an event that is
 * not JSON, a stream that ends before the provider said it was done. Each failure closes the body.
 */
public final class ProviderEvents implements AutoCloseable {
    private final String provider;
    private final StreamPayloads lines;

    public ProviderEvents(String provider, InputStream body, long stallMillis) {
        this(provider, new SseLines(body, stallMillis));
    }

    public ProviderEvents(String provider, StreamPayloads payloads) {
        this.provider = provider;
        this.lines = payloads;
    }

    /** The next data payload; null at the end of the body. */
    public String nextData() {
        try {
            return lines.nextData();
        } catch (IOException e) {
            close();
            throw ProviderHttp.fromIo(provider, e);
        }
    }

    /** Whether the next payload has been read already (see {@link StreamPayloads#hasData()}). */
    public boolean hasData() {
        return lines.hasData();
    }

    public JsonNode json(String data) {
        try {
            return ProviderHttp.MAPPER.readTree(data);
        } catch (IOException e) {
            throw notJson();
        }
    }

    /** One payload's events as {@code translator} reads them from the text. */
    public List<ChatEvent> translate(String data, StreamTranslator translator) {
        try {
            return translator.event(data);
        } catch (IOException e) {
            throw notJson();
        }
    }

    private ApiException notJson() {
        close();
        return new ApiException(502, "server_error", "upstream_bad_response", null,
                "Provider '" + provider + "' sent a stream event that is not JSON.", null);
    }

    /** The body ended before the provider's own end marker. */
    public ApiException endedEarly() {
        close();
        return new ApiException(502, "server_error", "upstream_stream_ended", null,
                "Provider '" + provider + "' ended the stream early.", null);
    }

    @Override
    public void close() {
        lines.close();
    }
}
