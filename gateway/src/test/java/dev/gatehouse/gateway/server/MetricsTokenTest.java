package dev.gatehouse.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.api.openai.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code metrics.token}: a scrape without the token gets a 401 and no metrics. */
class MetricsTokenTest {
    private static final String TOKEN = "metrics-token-0123456789";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir, (s, registry) -> s.metricsToken(TOKEN));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static HttpResponse<String> scrape(String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + "/metrics")).GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void withoutTheRightTokenThereAreNoMetrics() throws Exception {
        for (String wrong : new String[]{null, "Bearer nope", "Bearer " + TOKEN + "x", TOKEN, "Basic " + TOKEN}) {
            HttpResponse<String> r = scrape(wrong);
            assertEquals(401, r.statusCode(), String.valueOf(wrong));
            assertTrue(r.body().contains("\"error\"") && r.body().contains("metrics.token"), r.body());
            assertFalse(r.body().contains("gatehouse_"), r.body());
            assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElse(""));
        }
    }

    @Test
    void theTokenOpensThem() throws Exception {
        HttpResponse<String> r = scrape("Bearer " + TOKEN);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("gatehouse_engine_kv_free_slots"), r.body());
        assertEquals(200, HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode(), "health stays open");
    }
}
