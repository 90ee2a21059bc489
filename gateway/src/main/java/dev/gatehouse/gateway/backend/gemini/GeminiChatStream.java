package dev.gatehouse.gateway.backend.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.ProviderEvents;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Queue;

/**
 * streamGenerateContent?alt=sse: Gemini sends no end marker, so the body's end is the end, and it
 * is a complete answer only if every choice has its finishReason by then.
 */
final class GeminiChatStream implements ChatStream {
    private final String provider;
    private final String apiKey;
    private final int choices;
    private final ProviderEvents events;
    private final GeminiEventTranslator translator = new GeminiEventTranslator();
    private final Queue<ChatEvent> pending = new ArrayDeque<>();
    private boolean done;

    GeminiChatStream(String provider, String apiKey, int choices, InputStream body, long stallMillis) {
        this.provider = provider;
        this.apiKey = apiKey;
        this.choices = choices;
        this.events = new ProviderEvents(provider, body, stallMillis);
    }

    @Override
    public ChatEvent next() {
        while (pending.isEmpty() && !done) {
            String data = events.nextData();
            if (data == null) {
                if (translator.finished() < choices) {
                    throw events.endedEarly();
                }
                close();
                done = true;
                if (translator.usage() != null) {
                    pending.add(translator.usage());
                }
                break;
            }
            JsonNode chunk = events.json(data);
            if (chunk.has("error")) {
                close();
                // after the headers: whatever Google's code, the answer is broken off
                throw GeminiErrors.fromResponse(provider, apiKey, 502, data.getBytes(StandardCharsets.UTF_8), null);
            }
            pending.addAll(translator.response(chunk));
        }
        return pending.poll();
    }

    @Override
    public void close() {
        events.close();
    }
}
