package dev.gatehouse.gateway.route;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

/** A stream whose first event the router read to know the target really answers. */
final class PeekedStream implements ChatStream {
    private final ChatStream stream;
    private ChatEvent first;
    private boolean firstTaken;

    PeekedStream(ChatEvent first, ChatStream stream) {
        this.first = first;
        this.stream = stream;
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
    public void close() {
        stream.close();
    }
}
