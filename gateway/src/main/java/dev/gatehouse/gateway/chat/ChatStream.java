package dev.gatehouse.gateway.chat;

/** A backend's answer, read event by event at the caller's pace; closing it early cancels the generation. */
public interface ChatStream extends AutoCloseable {

    /** The next event, waiting for it; null after the last. */
    ChatEvent next() throws InterruptedException;

    @Override
    void close();
}
