package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events the way OpenAI streams: {@code data: <json>} lines separated by a blank line,
 * flushed one by one so each token reaches the client as it is generated, ending with
 * {@code data: [DONE]}. A failed write means the client went away.
 *
 * <p>An event's JSON is either given as bytes ({@link #write}) or written in place with a Jackson
 * generator ({@link #beginData}, {@link #endData}), which puts it straight into the response's buffer
 * with no tree and no byte array of its own.
 */
public final class SseWriter {
    private static final byte[] PREFIX = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);
    private static final SerializedString RAW_PREFIX = new SerializedString("data: ");
    private static final SerializedString RAW_END = new SerializedString("\n\n");
    /**
     * Events follow each other at the root with nothing between them; flushing the generator only moves
     * its buffer into the response stream (the socket is flushed by {@link #flush}); its buffers are
     * shared between requests' virtual threads rather than kept per thread.
     */
    private static final JsonFactory JSON = new JsonFactoryBuilder()
            .recyclerPool(JsonRecyclerPools.newConcurrentDequePool())
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .disable(StreamWriteFeature.FLUSH_PASSED_TO_STREAM)
            .rootValueSeparator((String) null)
            .build();
    private final OutputStream out;
    private JsonGenerator json; // made by the first beginData

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
            moveJson();
            out.write(PREFIX);
            out.write(json);
            out.write(END);
        } catch (IOException | UncheckedIOException e) {
            throw new ClientGoneException(e);
        }
    }

    /**
     * Starts an event whose JSON the caller writes with the returned generator, one value, then ends
     * with {@link #endData}; held until the next {@link #flush()} like {@link #write}.
     */
    public JsonGenerator beginData() throws IOException {
        if (json == null) {
            json = JSON.createGenerator(out);
        }
        json.writeRaw(RAW_PREFIX);
        return json;
    }

    public void endData() throws IOException {
        json.writeRaw(RAW_END);
    }

    /** What the generator holds goes into the response stream first, to keep the events in order. */
    private void moveJson() throws IOException {
        if (json != null) {
            json.flush();
        }
    }

    public void flush() {
        try {
            moveJson();
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
            moveJson();
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
        if (json != null) {
            try {
                json.close(); // gives its buffer back; everything it held was moved by the write above
            } catch (IOException e) {
                throw new ClientGoneException(e);
            }
        }
    }

    /** The client closed the stream. */
    public static final class ClientGoneException extends RuntimeException {
        public ClientGoneException(Throwable cause) {
            super(cause);
        }
    }
}
