package dev.gatehouse.gateway.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.api.openai.TestServer;
import dev.gatehouse.gateway.config.ServerLimits;
import dev.gatehouse.serving.engine.Capacity;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slow and stuck clients over real sockets: one that stops reading its stream or its whole answer is
 * disconnected after the write timeout and its sequences' KV slots are freed; one that trickles its
 * headers or its body is disconnected at the header or body timeout; meanwhile the server serves
 * everyone else.
 */
class ClientDeadlinesTest {
    private static final Duration WRITE = Duration.ofSeconds(1);
    private static final Duration HEADER = Duration.ofSeconds(1);
    private static final Duration BODY = Duration.ofSeconds(1);
    private static final Duration IDLE = Duration.ofSeconds(2);
    /** Slack for a loaded test machine; a connection nobody disconnects stays open far longer than this. */
    private static final Duration SLACK = Duration.ofSeconds(4);
    private static final int LONG = 1000;
    private static final int MAX_REQUESTS = 2;

    @TempDir
    static Path dir;
    static TestServer server;
    static String longContent;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir, (builder, registry) -> builder.limits(new ServerLimits(IDLE, HEADER, BODY, WRITE, 64, MAX_REQUESTS, 20)));
        longContent = server.longChatContent(LONG);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void idle() throws Exception {
        server.awaitIdle(Duration.ofSeconds(30));
    }

    private static String chat(boolean stream, int n) {
        return "{\"model\":\"" + TestServer.MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + longContent
                + "\"}],\"max_tokens\":" + LONG + ",\"temperature\":0,\"stream\":" + stream + ",\"n\":" + n + "}";
    }

    /** A client whose receive window is as small as the OS allows, so the server's writes block soon. */
    private static Socket stuckClient() throws IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(1024);
        socket.connect(new InetSocketAddress("127.0.0.1", server.port()));
        return socket;
    }

    private static void post(Socket socket, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
    }

    private static void awaitRunning(int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (server.engine().capacity().running() != n) {
            assertTrue(System.nanoTime() < deadline, "never started: " + server.engine().capacity());
            Thread.sleep(5);
        }
    }

    /**
     * On a new connection: a pooled one may have idled past this server's 2 s idle timeout, and a
     * client that sends on it just as the server closes it sees the connection end (the race every
     * keep-alive timeout has; clients keep connections for less than the server does to avoid it).
     */
    private static void assertServesOthers() throws Exception {
        HttpClient fresh = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> r = fresh.send(HttpRequest.newBuilder(URI.create(server.v1() + "/chat/completions"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + TestServer.MODEL
                        + "\",\"messages\":[{\"role\":\"user\",\"content\":\"t5\"}],\"max_tokens\":2}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
    }

    /**
     * Seconds until the server closes {@code socket}, reading (and dropping) whatever arrives; each
     * {@code tick}, {@code onTick} may send more. Fails if still open after {@code limit}.
     */
    private static double secondsUntilClosed(Socket socket, Duration limit, Runnable onTick) throws IOException {
        long t0 = System.nanoTime();
        socket.setSoTimeout(50);
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[8192];
        while (System.nanoTime() - t0 < limit.toNanos()) {
            try {
                if (in.read(buffer) < 0) {
                    return (System.nanoTime() - t0) / 1e9;
                }
            } catch (SocketTimeoutException e) {
                onTick.run();
            } catch (IOException e) { // reset: closed too
                return (System.nanoTime() - t0) / 1e9;
            }
        }
        throw new AssertionError("the server kept the connection open for " + limit);
    }

    /** Logprobs with 20 alternatives make every token about a kilobyte: more than the socket buffers hold. */
    private static String bulky(String body) {
        return body.replace("\"temperature\":0", "\"temperature\":0,\"logprobs\":true,\"top_logprobs\":20");
    }

    private static double generated() {
        return server.registry().find("gatehouse.engine.generated.tokens").tag("model", TestServer.MODEL).counter().count();
    }

    @Test
    void aStreamNobodyReadsIsCutAtTheWriteTimeoutAndItsSlotsFreed() throws Exception {
        int slots = server.engine().capacity().totalSlots();
        double before = generated();
        try (Socket socket = stuckClient()) {
            post(socket, bulky(chat(true, slots))); // every slot of the model, and then never a byte read
            awaitRunning(slots);
            long t0 = System.nanoTime();
            // the socket buffers fill, the engine pauses the sequences, the write waits; then the timeout
            Capacity idle = server.awaitIdle(WRITE.plus(SLACK).plusSeconds(5));
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals(idle.totalSlots(), idle.freeSlots(), "every slot free again");
            assertEquals(0, idle.kvBytesUsed());
            double tokens = generated() - before;
            assertTrue(tokens < slots * LONG / 2.0, "cancelled, not run to the end: " + tokens + " tokens");
            System.out.printf("stuck stream of n=%d: all slots free %.1f s after it started, %.0f tokens%n", slots, seconds, tokens);
            assertEquals(-1, readToEnd(socket), "the server closed the connection");
        }
        assertServesOthers();
    }

    @Test
    void aWholeAnswerNobodyReadsIsCutAtTheWriteTimeout() throws Exception {
        int slots = server.engine().capacity().totalSlots();
        try (Socket socket = stuckClient()) {
            // ~2 MB in all: more than the socket buffers of a client that reads nothing hold
            post(socket, bulky(chat(false, slots)).replace("\"max_tokens\":" + LONG, "\"max_tokens\":200"));
            awaitRunning(slots);
            server.awaitIdle(Duration.ofSeconds(60)); // generated: the answer is being written, in one write
            Thread.sleep(WRITE.plus(SLACK).toMillis());
            socket.setSoTimeout(5000);
            byte[] got;
            try {
                got = socket.getInputStream().readAllBytes();
            } catch (IOException e) { // reset: the server closed the connection on unread bytes, which is the cut
                got = null;
            }
            if (got != null) {
                String text = new String(got, StandardCharsets.ISO_8859_1);
                int headersEnd = text.indexOf("\r\n\r\n");
                assertTrue(headersEnd > 0, "headers arrived: " + text.substring(0, Math.min(200, text.length())));
                Matcher length = Pattern.compile("(?i)content-length: *(\\d+)").matcher(text);
                assertTrue(length.find() && length.start() < headersEnd, "a whole answer has a Content-Length");
                long body = got.length - headersEnd - 4;
                assertTrue(body < Long.parseLong(length.group(1)),
                        "cut at the write timeout, not sent whole: " + body + " of " + length.group(1) + " bytes");
                System.out.printf("stuck whole answer: %d of %s bytes arrived before the cut%n", body, length.group(1));
            }
        }
        assertServesOthers();
    }

    /** Reads until the connection ends: its total, or -1 when it ended (EOF or reset) within 5 s of silence. */
    private static long readToEnd(Socket socket) throws IOException {
        socket.setSoTimeout(5000);
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[1 << 16];
        long read = 0;
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                read += n;
            }
        } catch (SocketTimeoutException e) {
            return read; // still open
        } catch (IOException e) {
            // reset: ended
        }
        System.out.println("read " + read + " bytes before the connection ended");
        return -1;
    }

    @Test
    void headersTrickledAByteAtATimeAreCutAtTheHeaderTimeout() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write("GET /health HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            double seconds = secondsUntilClosed(socket, HEADER.plus(SLACK), () -> {
                try {
                    out.write('x'); // one header byte every 50 ms, never a line end
                    out.flush();
                } catch (IOException e) {
                    // closed: the next read says so
                }
            });
            assertTrue(seconds >= HEADER.toMillis() / 1000.0 - 0.2, "not before the header timeout: " + seconds);
            System.out.printf("trickled headers: closed after %.1f s%n", seconds);
        }
        assertServesOthers();
    }

    @Test
    void aBodyThatStopsArrivingIsCutAtTheBodyTimeout() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000\r\n\r\n{\"model\":").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            double seconds = secondsUntilClosed(socket, BODY.plus(SLACK), () -> {});
            System.out.printf("stalled body: closed after %.1f s%n", seconds);
        }
        assertServesOthers();
    }

    @Test
    void aRequestLineTrickledAByteAtATimeIsCutAtTheIdleTimeout() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            double seconds = secondsUntilClosed(socket, IDLE.plus(SLACK), () -> {
                try {
                    out.write('/'); // "////...": a request line that never ends
                    out.flush();
                } catch (IOException e) {
                    // closed
                }
            });
            System.out.printf("trickled request line: closed after %.1f s%n", seconds);
        }
        assertServesOthers();
    }

    @Test
    void requestsPastMaxRequestsGet503InOpenAisShape() throws Exception {
        Socket[] stalled = new Socket[MAX_REQUESTS];
        try {
            for (int i = 0; i < MAX_REQUESTS; i++) { // each holds a request open until the body timeout
                stalled[i] = new Socket("127.0.0.1", server.port());
                stalled[i].getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{").getBytes(StandardCharsets.US_ASCII));
            }
            Thread.sleep(100);
            HttpResponse<String> refused = server.get("/v1/models");
            assertEquals(503, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains("\"type\":\"server_error\"") && refused.body().contains("\"code\":\"server_overloaded\""),
                    refused.body());
            assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
        } finally {
            for (Socket s : stalled) {
                if (s != null) {
                    s.close();
                }
            }
        }
        long deadline = System.nanoTime() + BODY.plus(SLACK).toNanos();
        while (server.get("/v1/models").statusCode() != 200) { // the stalled ones are let go
            assertTrue(System.nanoTime() < deadline, "still refusing");
            Thread.sleep(50);
        }
    }
}
