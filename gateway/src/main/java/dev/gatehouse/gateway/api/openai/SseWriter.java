package dev.gatehouse.gateway.api.openai;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events the way OpenAI streams: {@code data: <json>} lines separated by a blank line,
 * flushed one by one so each token reaches the client as it is generated, ending with
 * {@code data: [DONE]}. A failed write means the client went away.
 */
public final class SseWriter {
    private static final byte[] PREFIX = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);
    private final OutputStream out;

    public SseWriter(OutputStream out) {
        this.out = out;
    }

    /** @throws ClientGoneException when the connection is closed */
    public void data(byte[] json) {
        write(json);
        flush();
    }

    /** An event held until the next {@link #flush()}: for events that are all here already, sent together. */
    public void write(byte[] json) {
        try {
            out.write(PREFIX);
            out.write(json);
            out.write(END);
        } catch (IOException | UncheckedIOException e) {
            throw new ClientGoneException(e);
        }
    }

    public void flush() {
        try {
            out.flush();
        } catch (IOException | UncheckedIOException e) {
            throw new ClientGoneException(e);
        }
    }

    /** A named event ({@code event: <name>} then its data line), as Anthropic and the Responses API stream. */
    public void event(String name, byte[] json) {
        writeEvent(name, json);
        flush();
    }

    /** A named event held until the next {@link #flush()}. */
    public void writeEvent(String name, byte[] json) {
        try {
            out.write(("event: " + name + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException | UncheckedIOException e) {
            throw new ClientGoneException(e);
        }
        write(json);
    }

    /**
     * The end marker, held like {@link #write}: closing the response stream sends it with whatever is
     * still held. An answer that was all here at once (a provider's burst, a cached answer) then goes
     * out in one write, headers and body together, instead of three (headers, body chunk, last chunk).
     */
    public void done() {
        write(DONE);
    }

    /** The client closed the stream. */
    public static final class ClientGoneException extends RuntimeException {
        public ClientGoneException(Throwable cause) {
            super(cause);
        }
    }
}
