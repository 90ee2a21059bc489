package dev.gatehouse.gateway.backend;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;

/**
 * A provider's SSE answer as ChatEvents, read at the client's pace: each data payload goes through
 * the provider's {@link StreamTranslator}; the stream ends at {@code [DONE]}, the translator's own
 * end marker, or a body end the translator accepts; any other end is a failed answer, never a short
 * one. Every failure closes the body, which aborts the upstream request. With {@code raw} (the
 * provider was sent the client's own body) each event also passes on as it came, as a
 * {@link ChatEvent.Raw} before its translation.
 */
final class ProviderStream implements ChatStream {
    private final ProviderEvents events;
    private final StreamTranslator translator;
    private final boolean raw;
    private final Queue<ChatEvent> pending = new ArrayDeque<>();
    private boolean done;

    ProviderStream(String provider, InputStream body, long stallMillis, StreamTranslator translator) {
        this(new ProviderEvents(provider, body, stallMillis), translator, false);
    }

    ProviderStream(ProviderEvents events, StreamTranslator translator, boolean raw) {
        this.events = events;
        this.translator = translator;
        this.raw = raw;
    }

    @Override
    public ChatEvent next() {
        while (pending.isEmpty() && !done) {
            String data = events.nextData();
            if (data == null) {
                List<ChatEvent> last = translator.atEnd();
                if (last == null) {
                    throw events.endedEarly();
                }
                pending.addAll(last);
                finish();
                break;
            }
            if (data.equals("[DONE]")) {
                finish();
                break;
            }
            JsonNode event = events.json(data);
            try {
                List<ChatEvent> translated = translator.event(event);
                if (raw) {
                    pending.add(new ChatEvent.Raw(event));
                }
                pending.addAll(translated);
            } catch (ApiException e) {
                close();
                throw e;
            }
            if (translator.done()) {
                finish();
            }
        }
        return pending.poll();
    }

    private void finish() {
        done = true;
        close();
    }

    @Override
    public void close() {
        events.close();
    }
}
