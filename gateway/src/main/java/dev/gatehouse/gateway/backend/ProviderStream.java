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
 * {@link ChatEvent.Raw} before its translation; the opening event (message_start, response.created)
 * waits for the next one, so an error the provider sends right after it still fails the stream
 * before its first event, and the router may fall back.
 */
final class ProviderStream implements ChatStream {
    private final ProviderEvents events;
    private final StreamTranslator translator;
    private final boolean raw;
    private boolean opened; // raw: the opening event has been read
    private ChatEvent.Raw opening; // raw: the opening event, until the next one arrives
    private final Queue<ChatEvent> pending = new ArrayDeque<>();
    private boolean done;
    private ApiException failed; // found by ready(), thrown by the next next()

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
        if (failed != null) {
            ApiException e = failed;
            failed = null;
            throw e;
        }
        while (pending.isEmpty() && !done) {
            step();
        }
        return pending.poll();
    }

    /**
     * Translates the payloads already read from the body, never waiting for the provider (an error
     * among them is thrown by the next {@link #next()}): true when an event, the end or an error is
     * there to be had at once.
     */
    @Override
    public boolean ready() {
        try {
            while (pending.isEmpty() && !done && failed == null && events.hasData()) {
                step();
            }
        } catch (ApiException e) {
            failed = e;
        }
        return !pending.isEmpty() || done || failed != null;
    }

    /** Reads one payload and queues what it translates to. */
    private void step() {
        String data = events.nextData();
        if (data == null) {
            List<ChatEvent> last = translator.atEnd();
            if (last == null) {
                throw events.endedEarly();
            }
            releaseOpening();
            pending.addAll(last);
            finish();
            return;
        }
        if (data.equals("[DONE]")) {
            releaseOpening();
            finish();
            return;
        }
        try {
            if (!raw) { // the translator reads the text itself (OpenAI's chunks with a streaming parser)
                pending.addAll(events.translate(data, translator));
            } else {
                JsonNode event = events.json(data);
                List<ChatEvent> translated = translator.event(event);
                if (!opened && translated.isEmpty() && !translator.done()) {
                    opened = true;
                    opening = new ChatEvent.Raw(event);
                    return;
                }
                opened = true;
                releaseOpening();
                pending.add(new ChatEvent.Raw(event));
                pending.addAll(translated);
            }
        } catch (ApiException e) {
            close();
            throw e;
        }
        if (translator.done()) {
            finish();
        }
    }

    private void releaseOpening() {
        if (opening != null) {
            pending.add(opening);
            opening = null;
        }
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
