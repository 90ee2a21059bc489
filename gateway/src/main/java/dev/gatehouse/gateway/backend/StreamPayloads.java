package dev.gatehouse.gateway.backend;

import java.io.IOException;

/**
 * A streamed answer's body as one JSON text per event: SSE {@code data:} lines ({@link SseLines},
 * what most providers send) or another framing a {@link ProviderApi} reads itself (Bedrock's AWS
 * event-stream).
 */
public interface StreamPayloads extends AutoCloseable {

    /** The next event's JSON text; null at the end of the body. */
    String nextData() throws IOException;

    /** Whether {@link #nextData()} would return a payload already read, without reading the body. */
    default boolean hasData() {
        return false;
    }

    /** Closing the body before its end aborts the upstream request. */
    @Override
    void close();
}
