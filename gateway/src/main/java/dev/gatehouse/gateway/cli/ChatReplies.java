package dev.gatehouse.gateway.cli;

import dev.gatehouse.serving.text.ChatMessage;

import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** Where {@code gatehouse chat} gets its answers: a model loaded in the process, or a running server. */
interface ChatReplies extends AutoCloseable {

    /** Thrown out of {@link #reply} when {@code stopped} turned true mid-answer (Ctrl-C). */
    final class Stopped extends RuntimeException {
        Stopped() {
            super("stopped", null, false, false);
        }
    }

    /** The assistant's answer to {@code history}, each piece handed to {@code text} as it arrives. */
    String reply(List<ChatMessage> history, Consumer<String> text, BooleanSupplier stopped);

    @Override
    void close();
}
