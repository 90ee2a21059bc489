package dev.gatehouse.gateway.backend.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.ProviderEvents;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Queue;

/** A Messages stream; ends at message_stop, and a body that ends before it is a failed answer. */
final class AnthropicChatStream implements ChatStream {
    private final String provider;
    private final String apiKey;
    private final ProviderEvents events;
    private final AnthropicEventTranslator translator = new AnthropicEventTranslator();
    private final Queue<ChatEvent> pending = new ArrayDeque<>();
    private boolean done;

    AnthropicChatStream(String provider, String apiKey, InputStream body, long stallMillis) {
        this.provider = provider;
        this.apiKey = apiKey;
        this.events = new ProviderEvents(provider, body, stallMillis);
    }

    @Override
    public ChatEvent next() {
        while (pending.isEmpty() && !done) {
            String data = events.nextData();
            if (data == null) {
                throw events.endedEarly();
            }
            JsonNode event = events.json(data);
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

    @Override
    public void close() {
        events.close();
    }
}
