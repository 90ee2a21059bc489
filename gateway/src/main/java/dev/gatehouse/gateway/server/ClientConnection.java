package dev.gatehouse.gateway.server;

import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.OutputStream;
import java.util.function.UnaryOperator;

/**
 * What a handler may ask of the connection its request came on (see ClientDeadlines).
 */
public final class ClientConnection {
    private final UnaryOperator<OutputStream> writeLimit;

    ClientConnection(UnaryOperator<OutputStream> writeLimit) {
        this.writeLimit = writeLimit;
    }

    /**
     * From here on, each write of {@code res} must be taken by the client within
     * {@code server.write-timeout-seconds}, else the client is disconnected (see ClientDeadlines).
     * For answers that can be long or large; small error answers are written as they are (a stream
     * filter changes how Helidon writes a response whose request body was left unread).
     */
    public static void limitWrites(ServerRequest req, ServerResponse res) {
        req.context().get(ClientConnection.class).ifPresent(c -> res.streamFilter(c.writeLimit));
    }
}
