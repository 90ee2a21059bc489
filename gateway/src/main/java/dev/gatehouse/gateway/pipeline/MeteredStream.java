package dev.gatehouse.gateway.pipeline;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

/**
 * A backend's stream as it passes to the client, noting what it costs: the usage the backend
 * reports, and the text generated so far for a stream that ends before its usage (the client went
 * away), so hanging up is not free.
 */
final class MeteredStream implements ChatStream {
    private final ChatStream inner;
    private ChatEvent.Usage usage;
    private long completionChars;
    private long firstTokenNanos = -1;

    MeteredStream(ChatStream inner) {
        this.inner = inner;
    }

    @Override
    public ChatEvent next() throws InterruptedException {
        ChatEvent e = inner.next();
        if (e instanceof ChatEvent.Usage u) {
            usage = u;
        } else if (e instanceof ChatEvent.Delta d) {
            completionChars += d.text().length();
        }
        if (firstTokenNanos < 0 && (e instanceof ChatEvent.Delta || e instanceof ChatEvent.ToolCallStart)) {
            firstTokenNanos = System.nanoTime();
        }
        return e;
    }

    @Override
    public boolean ready() {
        return inner.ready();
    }

    /** The usage the backend reported; null until it has. */
    ChatEvent.Usage usage() {
        return usage;
    }

    /** When the first text or tool call arrived ({@link System#nanoTime}); negative before it has. */
    long firstTokenNanos() {
        return firstTokenNanos;
    }

    /** The reported usage, else the prompt's estimate and a token per 4 characters generated. */
    ChatEvent.Usage usageOrEstimate(long promptEstimate) {
        return usage != null ? usage : new ChatEvent.Usage((int) promptEstimate, (int) TokenEstimate.fromChars(completionChars));
    }

    @Override
    public void close() {
        inner.close();
    }
}
