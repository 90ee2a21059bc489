package dev.gatehouse.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.api.openai.TestServer;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.plugin.GatehousePlugin;
import dev.gatehouse.gateway.plugin.Plugins;
import io.micrometer.core.instrument.Timer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What SIGTERM does ({@link GatewayServer#close}): /health/ready answers 503 at once so load
 * balancers stop sending, new generations are refused with 503, and a generation already running is
 * answered to its end, [DONE] included, before close() returns (after which the process exits).
 */
class GracefulShutdownTest {
    private static final int TOKENS = 300;
    private static final Duration GRACE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    /**
     * Passes each event on 10 ms late, as a slow link would: the engine is done long before the
     * handler has sent the answer's tail, which waits in the gateway's queues meanwhile.
     */
    static final class SlowLink implements GatehousePlugin {
        public String name() {
            return "slow-link";
        }

        public ChatStream onResponse(ChatRequest request, ChatStream response) {
            if (!request.stream()) {
                return response;
            }
            return new ChatStream() {
                public ChatEvent next() throws InterruptedException {
                    Thread.sleep(10);
                    return response.next();
                }

                public void close() {
                    response.close();
                }
            };
        }
    }

    @Test
    void aStreamRunningWhenCloseBeginsIsAnsweredToTheEnd() throws Exception {
        TestServer server = TestServer.start(dir, (builder, registry) -> builder.grace(GRACE).plugins(Plugins.of(new SlowLink())));
        try {
            String content = server.longChatContent(TOKENS);
            HttpRequest chat = HttpRequest.newBuilder(URI.create(server.v1() + "/chat/completions"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + TestServer.MODEL + "\",\"messages\":[{\"role\":"
                            + "\"user\",\"content\":\"" + content + "\"}],\"max_tokens\":" + TOKENS + ",\"temperature\":0,"
                            + "\"stream\":true,\"stream_options\":{\"include_usage\":true}}")).build();
            double answeredBefore = answered(server);
            HttpResponse<Stream<String>> stream = HttpClient.newHttpClient()
                    .send(chat, HttpResponse.BodyHandlers.ofLines()); // the headers: generating now
            assertEquals(200, stream.statusCode());
            Iterator<String> lines = stream.body().iterator();

            // what a process would have sent when close() returns and the JVM exits: only answers complete by then
            double[] answeredAtClose = new double[1];
            Thread closer = Thread.ofPlatform().name("close").start(() -> {
                server.close();
                answeredAtClose[0] = answered(server);
            });
            awaitStatus(server, "/health/ready", 503);
            HttpResponse<String> refused = server.post("/v1/chat/completions", "{\"model\":\"" + TestServer.MODEL
                    + "\",\"messages\":[{\"role\":\"user\",\"content\":\"t5\"}],\"max_tokens\":2}");
            assertEquals(503, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains("server_shutting_down"), refused.body());

            StringBuilder events = new StringBuilder();
            lines.forEachRemaining(line -> events.append(line).append('\n'));
            String all = events.toString();
            assertTrue(all.endsWith("data: [DONE]\n\n"), "the stream ends properly: ..."
                    + all.substring(Math.max(0, all.length() - 300)));
            assertTrue(all.contains("\"finish_reason\":\"length\""), "every token was sent");
            assertTrue(all.contains("\"completion_tokens\":" + TOKENS), "usage of the whole answer");

            closer.join(GRACE);
            assertFalse(closer.isAlive(), "close() returns within the grace period");
            assertEquals(answeredBefore + 1, answeredAtClose[0], "close() returned only once the answer was sent in full");
        } finally {
            server.close(); // a second close does nothing
        }
    }

    /** Chat completions answered 200 so far; the handler records each once it has sent its end. */
    private static double answered(TestServer server) {
        Timer answered = server.registry().find("gatehouse.http.requests").tag("route", "/v1/chat/completions")
                .tag("status", "200").timer();
        return answered == null ? 0 : answered.count();
    }

    private static void awaitStatus(TestServer server, String path, int status) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        int last;
        while ((last = server.get(path).statusCode()) != status) {
            assertTrue(System.nanoTime() < deadline, path + " still answers " + last);
            Thread.sleep(5);
        }
    }
}
