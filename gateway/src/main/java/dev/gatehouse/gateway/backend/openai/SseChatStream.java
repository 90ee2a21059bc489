package dev.gatehouse.gateway.backend.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.ProviderEvents;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Queue;

/**
 * An OpenAI chat.completion.chunk stream. Ends at {@code data: [DONE]}; a body that ends before it
 * is a failed answer, not a short one.
 */
final class SseChatStream implements ChatStream {
    private final String provider;
    private final String apiKey;
    private final ProviderEvents events;
    private final OpenAiEventTranslator translator = new OpenAiEventTranslator();
    private final Queue<ChatEvent> pending = new ArrayDeque<>();
    private boolean done;

    SseChatStream(String provider, String apiKey, InputStream body, long stallMillis) {
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
            if (data.equals("[DONE]")) {
                done = true;
                close();
                break;
            }
            JsonNode chunk = events.json(data);
            if (chunk.has("error")) {
                close();
                throw OpenAiErrors.inStream(provider, apiKey, chunk.path("error"));
            }
            pending.addAll(translator.chunk(chunk));
        }
        return pending.poll();
    }

    @Override
    public void close() {
        events.close();
    }
}
