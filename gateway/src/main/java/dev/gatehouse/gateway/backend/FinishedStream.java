package dev.gatehouse.gateway.backend;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;

/** A non-streamed answer, already whole, read as a stream. */
public final class FinishedStream implements ChatStream {
    private final Queue<ChatEvent> events;

    public FinishedStream(List<ChatEvent> events) {
        this.events = new ArrayDeque<>(events);
    }

    @Override
    public ChatEvent next() {
        return events.poll();
    }

    @Override
    public boolean ready() {
        return !events.isEmpty();
    }

    @Override
    public void close() {}
}
