package dev.gatehouse.gateway.route;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A TCP relay on a free loopback port in front of a mock provider, which breaks the next response
 * the way networks break one: a reset (RST, not a clean end of the body) before its first byte or
 * just after a given word; silence (the request is taken and nothing comes back); or a stall (the
 * response stops, the connection stays open) before or after a given word. The mock servers cannot
 * do this themselves: they never hold the socket. Otherwise bytes pass as they are, so keep-alive
 * connections go on working between faults.
 */
final class FlakyProxy implements AutoCloseable {
    private enum Break { RESET_BEFORE_RESPONSE, RESET_AFTER_WORD, SILENCE, STALL_BEFORE_WORD, STALL_AFTER_WORD }

    private record Armed(Break kind, String word) {}

    /** How long the gateway gets to read the word before the reset comes. */
    private static final long READ_GRACE_MILLIS = 300;

    private final ServerSocket listener;
    private final int upstreamPort;
    private final AtomicReference<Armed> next = new AtomicReference<>();

    /** {@code upstream}: the mock's base URL; only its port is used. */
    FlakyProxy(String upstream) throws IOException {
        this.upstreamPort = URI.create(upstream).getPort();
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("flaky-proxy-accept").start(this::acceptLoop);
    }

    /** {@code http://127.0.0.1:PORT}: the mock's base URL with the proxy's port. */
    String root() {
        return "http://127.0.0.1:" + listener.getLocalPort();
    }

    /** The next response is reset as soon as the provider starts it: the gateway gets no byte of it. */
    void resetBeforeResponse() {
        next.set(new Armed(Break.RESET_BEFORE_RESPONSE, null));
    }

    /** The next response is relayed up to the end of the line holding {@code word}, then reset. */
    void resetAfter(String word) {
        next.set(new Armed(Break.RESET_AFTER_WORD, word));
    }

    /** The next response is swallowed: the connection stays open and quiet until the gateway gives up. */
    void silence() {
        next.set(new Armed(Break.SILENCE, null));
    }

    /** The next response is relayed up to the line holding {@code word}, then nothing more comes. */
    void stallBefore(String word) {
        next.set(new Armed(Break.STALL_BEFORE_WORD, word));
    }

    /** The next response is relayed up to the end of the line holding {@code word}, then nothing more comes. */
    void stallAfter(String word) {
        next.set(new Armed(Break.STALL_AFTER_WORD, word));
    }

    void clear() {
        next.set(null);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
                Thread.ofVirtual().start(() -> relayRequests(client, upstream));
                Thread.ofVirtual().start(() -> relayResponses(upstream, client));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private static void relayRequests(Socket client, Socket upstream) {
        try (client; upstream) {
            client.getInputStream().transferTo(upstream.getOutputStream());
        } catch (IOException ignored) {
            // either side went away: so does the other
        }
    }

    private void relayResponses(Socket upstream, Socket client) {
        Armed broken = null; // this connection's fault, taken by the first response bytes after arming
        byte[] buffer = new byte[16384];
        try (upstream; client) {
            InputStream in = upstream.getInputStream();
            OutputStream out = client.getOutputStream();
            for (int n; (n = in.read(buffer)) > 0; ) {
                if (broken == null) {
                    broken = next.getAndSet(null);
                }
                Break kind = broken == null ? null : broken.kind();
                if (kind == Break.RESET_BEFORE_RESPONSE) {
                    reset(client);
                    return;
                }
                if (kind == Break.SILENCE) {
                    continue;
                }
                int cut = switch (kind) {
                    case RESET_AFTER_WORD, STALL_AFTER_WORD -> endOfLineWith(buffer, n, broken.word());
                    case STALL_BEFORE_WORD -> startOfLineWith(buffer, n, broken.word());
                    case null, default -> -1;
                };
                out.write(buffer, 0, cut < 0 ? n : cut);
                out.flush();
                if (cut >= 0 && kind == Break.RESET_AFTER_WORD) {
                    Thread.sleep(READ_GRACE_MILLIS);
                    reset(client);
                    return;
                }
                if (cut >= 0) { // a stall: the rest of this connection's bytes go nowhere
                    broken = new Armed(Break.SILENCE, null);
                }
            }
        } catch (IOException ignored) {
            // either side went away: so does the other
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Bytes up to and including the newline after {@code word}; -1 when the word is not in them. */
    private static int endOfLineWith(byte[] buffer, int length, String word) {
        String text = new String(buffer, 0, length, StandardCharsets.ISO_8859_1);
        int at = text.indexOf(word);
        if (at < 0) {
            return -1;
        }
        int newline = text.indexOf('\n', at);
        return newline < 0 ? length : newline + 1;
    }

    /** Bytes before the line holding {@code word}; -1 when the word is not in them. */
    private static int startOfLineWith(byte[] buffer, int length, String word) {
        String text = new String(buffer, 0, length, StandardCharsets.ISO_8859_1);
        int at = text.indexOf(word);
        return at < 0 ? -1 : text.lastIndexOf('\n', at) + 1;
    }

    /** Closes with SO_LINGER 0: the kernel sends RST instead of FIN, as a crashed peer or middlebox would. */
    private static void reset(Socket socket) throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
