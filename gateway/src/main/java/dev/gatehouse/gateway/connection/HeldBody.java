package dev.gatehouse.gateway.connection;

import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * The body of a streamed answer, held in memory until its first flush. One closed before any flush (a
 * provider's burst, a cached answer: every event was here at once) goes out whole, headers and body
 * in one write with a Content-Length ({@link ClientConnection#sendLimited}). At the first flush, or
 * once {@value #HOLD_LIMIT} bytes are held, the response's own stream takes over, chunked, each write
 * under the client's write timeout ({@link ClientConnection#limitWrites}). The wire is what Helidon's
 * buffered stream sends for the same calls; for a burst this skips that stream's buffer and chunk
 * buffers (about 4 kB of garbage a stream: docs/benchmarks.md, "Seventh pass: JIT churn and allocations").
 */
public final class HeldBody extends OutputStream {
    static final int HOLD_LIMIT = 64 << 10;

    private final ServerRequest req;
    private final ServerResponse res;
    private Held held = new Held();
    private OutputStream out; // the response's stream, once it has taken over

    public HeldBody(ServerRequest req, ServerResponse res) {
        this.req = req;
        this.res = res;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (out == null && held.size() + len > HOLD_LIMIT) {
            takeOver();
        }
        if (out == null) {
            held.write(b, off, len);
        } else {
            out.write(b, off, len);
        }
    }

    @Override
    public void flush() throws IOException {
        if (out == null) {
            takeOver();
        }
        out.flush();
    }

    @Override
    public void close() throws IOException {
        if (out != null) {
            out.close();
            return;
        }
        Held body = held;
        held = null;
        try {
            ClientConnection.sendLimited(req, res, body.bytes(), body.size());
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** The bytes held, handed to the response as they are rather than copied out. */
    private static final class Held extends ByteArrayOutputStream {
        Held() {
            super(4096);
        }

        byte[] bytes() {
            return buf;
        }
    }

    private void takeOver() throws IOException {
        ClientConnection.limitWrites(req, res);
        out = res.outputStream();
        held.writeTo(out);
        held = null;
    }
}
