package dev.gatehouse.gateway.cache;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

import java.util.Iterator;
import java.util.List;

/** A stored answer played back as if a backend were generating it, so it encodes exactly like a fresh one. */
final class ReplayStream implements ChatStream {
    private final Iterator<ChatEvent> events;

    ReplayStream(List<ChatEvent> events) {
        this.events = events.iterator();
    }

    @Override
    public ChatEvent next() {
        return events.hasNext() ? events.next() : null;
    }

    @Override
    public void close() {}
}
