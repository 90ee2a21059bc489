package dev.gatehouse.gateway.chat;

/** A backend's answer, read event by event at the caller's pace; closing it early cancels the generation. */
public interface ChatStream extends AutoCloseable {

    /** The next event, waiting for it; null after the last. */
    ChatEvent next() throws InterruptedException;

    /**
     * Whether {@link #next()} would return at once, with no wait for the backend: the writer of a
     * stream then holds its flush until the events that are already here are written with it.
     * False when unknown, so each event is flushed as it comes.
     */
    default boolean ready() {
        return false;
    }

    @Override
    void close();
}
