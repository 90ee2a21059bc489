package dev.gatehouse.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.route.Router;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Streams on a kept-alive connection arrive without a fixed stall. With Nagle's algorithm on the
 * server socket, each small SSE chunk written while the previous one is unacknowledged waits for the
 * client's delayed ACK: about 40 ms per stream on Linux, though only on a reused connection (a new
 * connection acknowledges at once), which is how every HTTP client streams.
 *
 * <p>The stall is a floor under every stream, while load on a shared machine only slows some of them,
 * so the test bounds the fastest quarter of the streams rather than their median.
 */
class KeptAliveStreamTest {
    private static final int STREAMS = 20;
    /** A delayed ACK is at least 40 ms on Linux; a stream from a loopback upstream takes a few. */
    private static final long FAST_QUARTER_BOUND_MILLIS = 30;
    /** The words of a stream bigger than the gateway holds back for one write. */
    private static final List<String> BIG_WORDS = IntStream.range(0, 2000).mapToObj(i -> " w" + i).toList();
    private static final String BODY = "{\"model\":\"cloud\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";

    static HttpServer upstream;
    static ServerSocket trickling;
    static LocalModels models;
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] sse = sse();
        byte[] json = ("{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"Hello from the mock.\"},\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":5,\"total_tokens\":8}}").getBytes(StandardCharsets.UTF_8);
        upstream.createContext("/v1/chat/completions", ex -> {
            boolean stream = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).contains("\"stream\":true");
            byte[] answer = stream ? sse : json;
            ex.getResponseHeaders().add("Content-Type", stream ? "text/event-stream" : "application/json");
            ex.sendResponseHeaders(200, answer.length); // one write: the upstream side adds no stall of its own
            try (OutputStream out = ex.getResponseBody()) {
                out.write(answer);
            }
        });
        byte[] big = sse(BIG_WORDS);
        upstream.createContext("/big/v1/chat/completions", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.getResponseHeaders().add("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, big.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(big);
            }
        });
        upstream.start();
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  mock: {type: openai-compatible, base-url: http://127.0.0.1:%d/v1}
                  trickling: {type: openai-compatible, base-url: http://127.0.0.1:%d/v1}
                  big: {type: openai-compatible, base-url: http://127.0.0.1:%d/big/v1}
                models:
                  - name: cloud
                    targets: [{provider: mock, model: m}]
                  - name: trickled
                    targets: [{provider: trickling, model: m}]
                  - name: big
                    targets: [{provider: big, model: m}]
                """.formatted(upstream.getAddress().getPort(), trickling(), upstream.getAddress().getPort()), Map.of());
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        models = new LocalModels();
        server = GatewayServer.builder(models, registry).router(Router.of(config, models, registry)).start();
    }

    /**
     * A provider that sends each event on its own, a millisecond apart, as tokens come: a plain socket
     * with TCP_NODELAY, because the JDK's HttpServer leaves Nagle's algorithm on and would add the
     * stall on its own side. Returns its port.
     */
    private static int trickling() throws IOException {
        trickling = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!trickling.isClosed()) {
                try {
                    Socket s = trickling.accept();
                    s.setTcpNoDelay(true);
                    Thread.ofVirtual().start(() -> trickle(s));
                } catch (IOException e) {
                    return; // closed
                }
            }
        });
        return trickling.getLocalPort();
    }

    /** Answers each request on the connection with the stream, chunked, one event per chunk. */
    private static void trickle(Socket socket) {
        try (socket) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            while (true) {
                int length = 0;
                for (String h; !(h = line(in)).isEmpty(); ) {
                    if (h.toLowerCase().startsWith("content-length:")) {
                        length = Integer.parseInt(h.substring(15).trim());
                    }
                }
                in.readNBytes(length);
                out.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                for (String event : new String(sse(), StandardCharsets.UTF_8).split("(?<=\n\n)")) {
                    byte[] bytes = event.getBytes(StandardCharsets.UTF_8);
                    out.write((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(bytes);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    Thread.sleep(1);
                }
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
        } catch (IOException | InterruptedException e) {
            // the gateway closed the connection, or the test ended
        }
    }

    @AfterAll
    static void stop() throws IOException {
        if (trickling != null) {
            trickling.close();
        }
        if (server != null) {
            server.close();
        }
        if (upstream != null) {
            upstream.stop(0);
        }
    }

    /** A provider's stream: five words, the finish, the usage, [DONE]. */
    private static byte[] sse() {
        return sse(List.of("Hello", " from", " the", " mock", "."));
    }

    private static byte[] sse(List<String> words) {
        StringBuilder s = new StringBuilder();
        String head = "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",";
        for (String word : words) {
            s.append("data: ").append(head).append("\"choices\":[{\"index\":0,\"delta\":{\"content\":\"").append(word)
                    .append("\"},\"finish_reason\":null}]}\n\n");
        }
        s.append("data: ").append(head).append("\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
        s.append("data: ").append(head)
                .append("\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":5,\"total_tokens\":8}}\n\n");
        s.append("data: [DONE]\n\n");
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void sequentialStreamsOnOneConnectionHaveNoFixedStall() throws Exception {
        assertNoFixedStall(BODY, false);
    }

    /** Events that come one by one are flushed one by one, as HTTP chunks, and still without the stall. */
    @Test
    void streamsTrickledByTheProviderAreChunkedWithoutAFixedStall() throws Exception {
        assertNoFixedStall(BODY.replace("\"cloud\"", "\"trickled\""), true);
    }

    /**
     * A burst larger than the gateway holds back for one write (64 KB) goes out as it is encoded,
     * chunked, every event in order, and the connection stays usable.
     */
    @Test
    void aBurstLargerThanTheGatewayHoldsIsChunkedWithEveryEvent() throws Exception {
        String body = BODY.replace("\"cloud\"", "\"big\"");
        byte[] request = ("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: %d\r\n\r\n%s").formatted(body.length(), body).getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(60_000);
            for (int i = 0; i < 2; i++) {
                socket.getOutputStream().write(request);
                String answer = readStream(socket.getInputStream(), true);
                assertTrue(answer.length() > 128 << 10, "a burst over the hold limit: " + answer.length() + " bytes");
                int at = 0;
                for (String word : BIG_WORDS) {
                    at = answer.indexOf("\"content\":\"" + word + "\"", at);
                    assertTrue(at >= 0, "every word, in order: " + word);
                }
                assertTrue(answer.endsWith("data: [DONE]\n\n"), answer.substring(answer.length() - 200));
            }
        }
    }

    private static void assertNoFixedStall(String body, boolean chunked) throws Exception {
        byte[] request = ("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: %d\r\n\r\n%s").formatted(body.length(), body).getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(60_000); // guards against a hang only: a first request on a loaded machine may take seconds
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            for (int i = 0; i < 3; i++) { // warm-up: class loading and the JIT, not the stall
                out.write(request);
                readStream(in, chunked);
            }
            long[] millis = new long[STREAMS];
            for (int i = 0; i < STREAMS; i++) {
                long start = System.nanoTime();
                out.write(request);
                String answer = readStream(in, chunked);
                millis[i] = (System.nanoTime() - start) / 1_000_000;
                assertTrue(answer.contains("\" mock\"") && answer.endsWith("data: [DONE]\n\n"), answer);
            }
            long[] sorted = millis.clone();
            Arrays.sort(sorted);
            long firstQuartile = sorted[STREAMS / 4];
            assertTrue(firstQuartile < FAST_QUARTER_BOUND_MILLIS, "first quartile " + firstQuartile
                    + " ms per stream on one connection, each: " + Arrays.toString(millis));
        }
    }

    /** A provider's whole answer keeps the connection (only a local engine's answer is watched, which closes it). */
    @Test
    void wholeAnswersFromAProviderKeepTheConnection() throws Exception {
        String whole = BODY.replace("\"stream\":true", "\"stream\":false");
        byte[] request = ("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: %d\r\n\r\n%s").formatted(whole.length(), whole).getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(60_000);
            for (int i = 0; i < 3; i++) { // the same socket answers each in turn
                socket.getOutputStream().write(request);
                List<String> headers = new ArrayList<>();
                for (String line; !(line = line(socket.getInputStream())).isEmpty(); ) {
                    headers.add(line.toLowerCase());
                }
                assertEquals("http/1.1 200 ok", headers.getFirst(), headers.toString());
                assertTrue(headers.stream().noneMatch(h -> h.equals("connection: close")), headers.toString());
                int length = headers.stream().filter(h -> h.startsWith("content-length:"))
                        .mapToInt(h -> Integer.parseInt(h.substring(15).trim())).findFirst().orElseThrow();
                String body = new String(socket.getInputStream().readNBytes(length), StandardCharsets.UTF_8);
                assertTrue(body.contains("Hello from the mock."), body);
            }
        }
    }

    /**
     * One streamed response: checks the status, keep-alive and framing, returns the body once it is all
     * in. A stream that came from the provider in one burst is sent whole, with a Content-Length; one
     * the gateway flushed part by part is chunked.
     */
    private static String readStream(InputStream in, boolean chunked) throws IOException {
        List<String> headers = new ArrayList<>();
        for (String line; !(line = line(in)).isEmpty(); ) {
            headers.add(line.toLowerCase());
        }
        assertEquals("http/1.1 200 ok", headers.getFirst(), headers.toString());
        assertTrue(headers.stream().noneMatch(h -> h.equals("connection: close")), headers.toString());
        var length = headers.stream().filter(h -> h.startsWith("content-length:")).findFirst();
        assertEquals(!chunked, length.isPresent(), headers.toString());
        if (length.isPresent()) {
            return new String(in.readNBytes(Integer.parseInt(length.get().substring(15).trim())), StandardCharsets.UTF_8);
        }
        assertTrue(headers.contains("transfer-encoding: chunked"), headers.toString());
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int size; (size = Integer.parseInt(line(in).trim(), 16)) > 0; ) {
            body.write(in.readNBytes(size));
            line(in); // the CRLF after each chunk
        }
        line(in); // the empty trailer
        return body.toString(StandardCharsets.UTF_8);
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                throw new IOException("connection closed mid-response");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }
}
