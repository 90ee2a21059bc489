package dev.gatehouse.gateway.connection;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.socket.HelidonSocket;
import io.helidon.http.HeaderValues;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.OutputStream;
import java.util.function.UnaryOperator;

/**
 * What a handler may ask of the connection its request came on: time limits on its writes, and
 * notice that the client of a whole (non-streaming) answer has closed its connection while the
 * answer is being generated. Helidon's HTTP/1.1 connection does not read the socket while a handler
 * runs, and a handler that writes only at the end has no write to fail; so, once the request body
 * has been read, a {@link Watch} reads the socket on a thread of its own, as Go's net/http does. End
 * of stream there means the client went away (a client that half-closes its side after sending is
 * taken as gone too): the handler's thread is interrupted, and its generation is cancelled. The
 * watching read cannot be called off without closing the socket, so a watched request's
 * connection closes after its answer ({@code Connection: close}).
 */
public final class ClientConnection {
    private final HelidonSocket socket;
    private final WriteLimit writeLimit;

    ClientConnection(HelidonSocket socket, WriteLimit writeLimit) {
        this.socket = socket;
        this.writeLimit = writeLimit;
    }

    /** The time limit on a response's writes ({@link ClientDeadlines}): on each write of its stream, or on one whole send. */
    interface WriteLimit extends UnaryOperator<OutputStream> {
        /** Runs {@code send}, which writes a whole response; an UncheckedIOException if the client did not take it in time. */
        void send(Runnable send);
    }

    /**
     * From here on, each write of {@code res} must be taken by the client within
     * {@code server.write-timeout-seconds}, else the client is disconnected (see ClientDeadlines).
     * For a stream once it is sent as it comes ({@link HeldBody}); whole answers use {@link #sendLimited},
     * and small error answers are written as they are (a stream filter changes how Helidon writes a
     * response whose request body was left unread).
     */
    static void limitWrites(ServerRequest req, ServerResponse res) {
        req.context().get(ClientConnection.class).ifPresent(c -> res.streamFilter(c.writeLimit));
    }

    /**
     * Sends {@code body} as the whole response, in one write the client must take within
     * {@code server.write-timeout-seconds}, as {@link #limitWrites} asks of each write of a stream. A
     * body given whole goes out with its headers in one buffer; behind a stream filter Helidon would
     * copy it through a buffered output stream and a chunk buffer instead (about 5 kB more garbage
     * per answer: docs/benchmarks.md, "Seventh pass: JIT churn and allocations").
     */
    public static void sendLimited(ServerRequest req, ServerResponse res, byte[] body) {
        sendLimited(req, res, body, body.length);
    }

    /** The same for the first {@code length} bytes of {@code body}. */
    public static void sendLimited(ServerRequest req, ServerResponse res, byte[] body, int length) {
        ClientConnection c = req.context().get(ClientConnection.class).orElse(null);
        if (c == null) {
            res.send(body, 0, length);
        } else {
            c.writeLimit.send(() -> res.send(body, 0, length));
        }
    }

    /** Starts watching the connection of {@code req} for the current thread; a no-op outside a Gatehouse server. */
    public static Watch watch(ServerRequest req, ServerResponse res) {
        ClientConnection connection = req.context().get(ClientConnection.class).orElse(null);
        if (connection == null || connection.socket == null) {
            return new Watch(null);
        }
        req.context().register(Watch.USED); // tells the server to close the connection afterwards
        res.header(HeaderValues.CONNECTION_CLOSE);
        Watch watch = new Watch(Thread.currentThread());
        Thread.ofVirtual().name("gatehouse-client-watch").start(() -> {
            try {
                while (connection.socket.read(BufferData.growing(512)) >= 0) {
                    // bytes after the request: not a close; the connection ends after this answer anyway
                }
            } catch (RuntimeException e) {
                // reset, or closed by the server after the answer: either way nothing more to read
            }
            watch.clientGone();
        });
        return watch;
    }

    /** Whether {@code req} was watched, so its connection must close after the answer. */
    static boolean watched(ServerRequest req) {
        return req.context().get(Watch.class).isPresent();
    }

    /** Watching one request; close it once the answer is generated. */
    public static final class Watch implements AutoCloseable {
        private static final Watch USED = new Watch(null);

        private final Thread handler;
        private boolean done; // guarded by this
        private boolean gone; // guarded by this

        private Watch(Thread handler) {
            this.handler = handler;
            this.done = handler == null;
        }

        private synchronized void clientGone() {
            if (!done) {
                gone = true;
                handler.interrupt();
            }
        }

        /** Whether the client went away before {@link #close()}: what the handler was waiting on was interrupted. */
        public synchronized boolean gone() {
            return gone;
        }

        /** Stops interrupting; clears an interrupt that came after the handler's wait had ended. */
        @Override
        public synchronized void close() {
            done = true;
            if (gone) {
                Thread.interrupted();
            }
        }
    }
}
