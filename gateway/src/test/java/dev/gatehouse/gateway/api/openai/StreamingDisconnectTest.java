package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.serving.engine.Capacity;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
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
 * A client that goes away mid-generation must not keep the engine busy: its sequence is cancelled,
 * its KV slot freed within a few engine steps, and the server goes on answering others.
 */
class StreamingDisconnectTest {
    /** Nearly the whole context: seconds of generation for the tiny model, far longer than the checks below wait. */
    private static final int LONG = 1000;
    /**
     * Decode steps the engine may still run after the client has closed its socket: the gateway
     * notices at its next write or the one after (the first may still go into the socket buffer),
     * cancels, and the engine drops the sequence at the start of its next step. The rest is slack
     * for a gateway thread that the busy test machine runs late; a sequence left running would take
     * hundreds more.
     */
    private static final int STEPS_AFTER_CLOSE = 32;

    @TempDir
    static Path dir;
    static TestServer server;
    /** A user message the model answers greedily to LONG tokens: a cancelled request cannot pass by ending early on eos. */
    static String longContent;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir);
        longContent = server.longChatContent(LONG);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void idleBetweenTests() throws Exception {
        server.awaitIdle(Duration.ofSeconds(30)); // a failed test must not leave work running for the next
    }

    private static String chatBody(boolean stream, int maxTokens) {
        return chatBody(stream, maxTokens, 1);
    }

    private static String chatBody(boolean stream, int maxTokens, int n) {
        return "{\"model\":\"" + TestServer.MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + longContent
                + "\"}],\"max_tokens\":" + maxTokens + ",\"temperature\":0,\"stream\":" + stream + ",\"n\":" + n + "}";
    }

    /** Decode steps the engine has run so far (each decodes one token for every running sequence). */
    private static long engineSteps() {
        return server.registry().find("gatehouse.engine.batch.size").tag("model", TestServer.MODEL).summary().count();
    }

    private static Socket send(String path, String body) throws IOException {
        Socket socket = new Socket("127.0.0.1", server.port());
        socket.setSoTimeout(30_000);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
        return socket;
    }

    /** Reads the response until {@code events} SSE data lines have arrived; returns what was read. */
    private static String readEvents(InputStream in, int events) throws IOException {
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        byte[] buffer = new byte[512];
        while (count(seen.toString(StandardCharsets.UTF_8), "data: ") < events) {
            int n = in.read(buffer);
            if (n < 0) {
                throw new AssertionError("the stream ended early: " + seen);
            }
            seen.write(buffer, 0, n);
        }
        return seen.toString(StandardCharsets.UTF_8);
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    /** The running total of one Prometheus counter or gauge line (0 when absent). */
    private static double metric(String name, String labels) throws Exception {
        String scrape = server.get("/metrics").body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$").matcher(scrape);
        double total = 0;
        while (m.find()) {
            if (m.group(1).contains(labels)) {
                total += Double.parseDouble(m.group(2));
            }
        }
        return total;
    }

    /** Waits until {@code n} sequences run. */
    private static void awaitRunning(int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (server.engine().capacity().running() != n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the request never started: " + server.engine().capacity());
            }
            Thread.sleep(5);
        }
    }

    private static void assertServerStillAnswers() throws Exception {
        HttpResponse<String> r = server.post("/v1/chat/completions", chatBody(false, 3));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"finish_reason\":\"length\""), r.body());
    }

    @Test
    void closingAStreamCancelsTheGeneration() throws Exception {
        closeStreamEarly(1);
    }

    @Test
    void closingAStreamOfTwoChoicesCancelsBoth() throws Exception {
        closeStreamEarly(2);
    }

    private void closeStreamEarly(int n) throws Exception {
        double generatedBefore = metric("gatehouse_engine_generated_tokens_total", "tiny-llama");
        double goneBefore = metric("gatehouse_http_requests_seconds_count", "status=\"499\"");
        double chargedBefore = metric("gatehouse_usage_tokens_total", "type=\"completion\"");
        long stepsAtClose;
        try (Socket socket = send("/v1/chat/completions", chatBody(true, LONG, n))) {
            String head = readEvents(socket.getInputStream(), 3);
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertTrue(head.contains("text/event-stream"), head);
            awaitRunning(n); // generating while the client reads
            stepsAtClose = engineSteps();
        } // the client goes away after a couple of chunks

        // the wall clock only guards against a hang; what is asserted is how many engine steps it took
        Capacity idle = server.awaitIdle(Duration.ofSeconds(30));
        long stepsAfterClose = engineSteps() - stepsAtClose; // exact: nothing else runs, and the engine now idles
        assertEquals(0, idle.running());
        assertEquals(idle.totalSlots(), idle.freeSlots(), "the cancelled sequences' slots are free again");
        assertEquals(0, idle.kvBytesUsed());
        assertTrue(stepsAfterClose <= STEPS_AFTER_CLOSE, "slot free " + stepsAfterClose + " engine steps after the client left");
        double generated = metric("gatehouse_engine_generated_tokens_total", "tiny-llama") - generatedBefore;
        assertTrue(generated < n * LONG / 2.0, "cancelled, not run to the end: " + generated + " tokens generated");
        System.out.println("disconnect with n=" + n + ": slot free " + stepsAfterClose + " steps after the close");
        // the handler records the request once it has noticed; give it the moment that takes
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (metric("gatehouse_http_requests_seconds_count", "status=\"499\"") == goneBefore
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(goneBefore + 1, metric("gatehouse_http_requests_seconds_count", "status=\"499\""),
                "counted as client closed request");
        assertTrue(metric("gatehouse_usage_tokens_total", "type=\"completion\"") > chargedBefore,
                "what was generated before the client left is still accounted (and paid) for");

        assertServerStillAnswers();
    }

    /**
     * A whole (non-streaming) answer has nothing to write until the end, so the server watches the
     * connection for its close while it generates (see ClientConnection).
     */
    @Test
    void closingANonStreamingRequestCancelsTheGeneration() throws Exception {
        double generatedBefore = metric("gatehouse_engine_generated_tokens_total", "tiny-llama");
        double goneBefore = metric("gatehouse_http_requests_seconds_count", "status=\"499\"");
        try (Socket socket = send("/v1/chat/completions", chatBody(false, LONG))) {
            awaitRunning(1);
            Thread.sleep(100);
        } // the client gives up before the answer is ready

        Capacity idle = server.awaitIdle(Duration.ofSeconds(3));
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (metric("gatehouse_http_requests_seconds_count", "status=\"499\"") == goneBefore && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(goneBefore + 1, metric("gatehouse_http_requests_seconds_count", "status=\"499\""),
                "counted as client closed request");
        assertEquals(0, idle.kvBytesUsed());
        double generated = metric("gatehouse_engine_generated_tokens_total", "tiny-llama") - generatedBefore;
        assertTrue(generated < LONG / 2.0, "cancelled, not run to the end: " + generated + " tokens generated");

        assertServerStillAnswers();
    }
}
