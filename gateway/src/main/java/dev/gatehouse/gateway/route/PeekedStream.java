package dev.gatehouse.gateway.route;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

/** A stream whose first event the router read to know the target really answers. */
final class PeekedStream implements ChatStream {
    private final ChatStream stream;
    private final Runnable onClose;
    private ChatEvent first;
    private boolean firstTaken;
    private boolean closed;

    /** @param onClose runs once, when the answer is closed (the end of the request for the route's metrics) */
    PeekedStream(ChatEvent first, ChatStream stream, Runnable onClose) {
        this.first = first;
        this.stream = stream;
        this.onClose = onClose;
    }

    @Override
    public ChatEvent next() throws InterruptedException {
        if (!firstTaken) {
            firstTaken = true;
            ChatEvent e = first;
            first = null;
            return e;
        }
        return stream.next();
    }

    @Override
    public boolean ready() {
        return !firstTaken || stream.ready();
    }

    @Override
    public void close() {
        stream.close();
        if (!closed) {
            closed = true;
            onClose.run();
        }
    }
}
