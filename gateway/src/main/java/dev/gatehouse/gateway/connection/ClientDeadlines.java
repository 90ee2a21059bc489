package dev.gatehouse.gateway.connection;

import dev.gatehouse.gateway.config.ServerLimits;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http1.Http1ConnectionListener;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * How long a client may take to send its request and to take its answer (see {@link ServerLimits}):
 * the headers from the end of the request line, the body from the end of the headers, each write of
 * an answer that may be large or long (see {@link ClientConnection#limitWrites}). Past a limit the
 * client is disconnected ({@link Deadlines}); a generation it was waiting for is then cancelled like
 * any other whose client went away.
 */
public final class ClientDeadlines implements Filter, Http1ConnectionListener, AutoCloseable {
    private final Deadlines deadlines = new Deadlines("gatehouse-deadlines", 100);
    private final ServerLimits limits;
    /** Helidon reads a connection's requests on that connection's own thread: the guard of the headers being read. */
    private final ThreadLocal<Deadlines.Guard> head = new ThreadLocal<>();
    /** The same way, the connection a request came on, from its headers to its handler (see {@link ClientConnection}). */
    private final ThreadLocal<ConnectionContext> connection = new ThreadLocal<>();
    private final ClientConnection.WriteLimit writeLimit = new WriteLimit();

    public ClientDeadlines(ServerLimits limits) {
        this.limits = limits;
    }

    /** The request line has arrived: the headers have {@code header-timeout} from here. */
    @Override
    public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
        head.set(deadlines.start(limits.headerTimeout().toNanos()));
    }

    @Override
    public void headers(ConnectionContext ctx, Headers headers) {
        connection.set(ctx);
        Deadlines.Guard g = head.get();
        if (g != null) {
            g.close();
            head.remove();
        }
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        long bodyDeadline = System.nanoTime() + limits.bodyTimeout().toNanos();
        req.streamFilter(in -> new BodyStream(in, bodyDeadline));
        ConnectionContext ctx = connection.get();
        req.context().register(new ClientConnection(ctx == null ? null : ctx.serverSocket(), writeLimit));
        chain.proceed();
        if (ClientConnection.watched(req)) { // its watching read still runs: nothing more may be read here
            throw new CloseConnectionException("the answer to a watched request is sent");
        }
    }

    @Override
    public void close() {
        deadlines.close();
    }

    /** The request body: all of it must have arrived by the body deadline. */
    private final class BodyStream extends FilterInputStream {
        private final long deadline;

        BodyStream(InputStream in, long deadline) {
            super(in);
            this.deadline = deadline;
        }

        @Override
        public int read() throws IOException {
            try (Deadlines.Guard g = guard()) {
                return checked(g, super.read());
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try (Deadlines.Guard g = guard()) {
                return checked(g, super.read(b, off, len));
            }
        }

        private Deadlines.Guard guard() {
            return deadlines.start(deadline - System.nanoTime());
        }

        private int checked(Deadlines.Guard g, int n) throws IOException {
            if (g.expired()) {
                throw new IOException("the request body did not arrive within " + limits.bodyTimeout().toSeconds() + " s");
            }
            return n;
        }
    }

    /** The response: each write must be taken by the client within the write timeout. */
    private final class WriteLimit implements ClientConnection.WriteLimit {
        @Override
        public OutputStream apply(OutputStream out) {
            return new WriteStream(out);
        }

        @Override
        public void send(Runnable send) {
            try (Deadlines.Guard g = deadlines.start(limits.writeTimeout().toNanos())) {
                try {
                    send.run();
                } catch (RuntimeException e) {
                    throw g.expired() ? timedOut(e) : e;
                }
                if (g.expired()) {
                    throw timedOut(null);
                }
            }
        }

        private UncheckedIOException timedOut(Throwable cause) {
            return new UncheckedIOException(new IOException(
                    "the client read nothing for " + limits.writeTimeout().toSeconds() + " s", cause));
        }
    }

    /** A response's stream: each write must be taken by the client within the write timeout. */
    private final class WriteStream extends FilterOutputStream {
        WriteStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            try (Deadlines.Guard g = guard()) {
                out.write(b);
                check(g);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try (Deadlines.Guard g = guard()) {
                out.write(b, off, len);
                check(g);
            }
        }

        @Override
        public void flush() throws IOException {
            try (Deadlines.Guard g = guard()) {
                out.flush();
                check(g);
            }
        }

        @Override
        public void close() throws IOException {
            try (Deadlines.Guard g = guard()) {
                out.close();
                check(g);
            }
        }

        private Deadlines.Guard guard() {
            return deadlines.start(limits.writeTimeout().toNanos());
        }

        private void check(Deadlines.Guard g) throws IOException {
            if (g.expired()) {
                throw new IOException("the client read nothing for " + limits.writeTimeout().toSeconds() + " s");
            }
        }
    }
}
