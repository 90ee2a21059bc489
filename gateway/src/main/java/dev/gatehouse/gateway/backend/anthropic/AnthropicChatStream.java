package dev.gatehouse.gateway.backend.anthropic;

import dev.gatehouse.gateway.backend.ProviderHttp;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.SseLines;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Queue;

/** A Messages stream; ends at message_stop, and a body that ends before it is a failed answer. */
final class AnthropicChatStream implements ChatStream {
    private final String provider;
    private final String apiKey;
    private final SseLines lines;
    private final AnthropicEventTranslator translator = new AnthropicEventTranslator();
    private final Queue<ChatEvent> pending = new ArrayDeque<>();
    private boolean done;

    AnthropicChatStream(String provider, String apiKey, InputStream body, long stallMillis) {
        this.provider = provider;
        this.apiKey = apiKey;
        this.lines = new SseLines(body, stallMillis);
    }

    @Override
    public ChatEvent next() {
        while (pending.isEmpty() && !done) {
            String data;
            try {
                data = lines.nextData();
            } catch (IOException e) {
                close();
                throw ProviderHttp.fromIo(provider, e);
            }
            if (data == null) {
                close();
                throw new ApiException(502, "server_error", "upstream_stream_ended", null,
                        "Provider '" + provider + "' ended the stream early.", null);
            }
            JsonNode event = parse(data);
            if (event.path("type").asText().equals("error")) {
                close();
                throw AnthropicErrors.inStream(provider, apiKey, event.path("error"));
            }
            pending.addAll(translator.event(event));
            if (event.path("type").asText().equals("message_stop")) {
                done = true;
                close();
            }
        }
        return pending.poll();
    }

    private JsonNode parse(String data) {
        try {
            return AnthropicRequestTranslator.MAPPER.readTree(data);
        } catch (IOException e) {
            close();
            throw new ApiException(502, "server_error", "upstream_bad_response", null,
                    "Provider '" + provider + "' sent a stream event that is not JSON.", null);
        }
    }

    @Override
    public void close() {
        lines.close();
    }
}
