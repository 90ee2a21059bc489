package dev.gatehouse.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.api.openai.TestServer;
import dev.gatehouse.serving.text.ChatMessage;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/** Health checks and Prometheus metrics of the running server. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayServerTest {
    private static final String CHAT = "{\"model\":\"" + TestServer.MODEL + "\",\"messages\":[{\"role\":\"user\","
            + "\"content\":\"t20 t21\"}],\"max_tokens\":4,\"temperature\":0}";

    @TempDir
    static Path dir;
    static TestServer server;
    private static boolean loaded;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.startLoading(dir); // serving, the model not loaded yet
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static synchronized void load() {
        if (!loaded) {
            server.load();
            loaded = true;
        }
    }

    @Test
    @Order(1)
    void readyOnlyOnceTheModelsAreLoaded() throws Exception {
        HttpResponse<String> health = server.get("/health");
        assertEquals(200, health.statusCode(), "alive from the start");
        assertEquals("{\"status\":\"ok\"}", health.body());
        HttpResponse<String> loading = server.get("/health/ready");
        assertEquals(503, loading.statusCode(), loading.body());
        assertTrue(loading.body().contains("loading"), loading.body());

        load();
        HttpResponse<String> ready = server.get("/health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        assertEquals("{\"status\":\"ready\"}", ready.body());
        assertEquals(200, server.get("/health").statusCode());
    }

    @Test
    @Order(2)
    void metricsAfterARequest() throws Exception {
        load();
        HttpResponse<String> chat = server.post("/v1/chat/completions", CHAT);
        assertEquals(200, chat.statusCode(), chat.body());
        assertEquals(400, server.post("/v1/chat/completions", "{\"model\":\"" + TestServer.MODEL + "\"}").statusCode());

        HttpResponse<String> metrics = server.get("/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
                metrics.headers().toString());
        String scrape = metrics.body();
        String model = "model=\"" + TestServer.MODEL + "\"";

        double ok = value(scrape, "gatehouse_http_requests_seconds_count", model, "route=\"/v1/chat/completions\"",
                "status=\"200\"");
        assertEquals(1, ok, "the chat request counted once by route, model and status");
        assertEquals(1, value(scrape, "gatehouse_http_requests_seconds_count", "model=\"none\"",
                "route=\"/v1/chat/completions\"", "status=\"400\""), "a request refused before its model was known");
        assertTrue(value(scrape, "gatehouse_http_requests_seconds_bucket", model, "status=\"200\"", "le=\"+Inf\"") >= 1,
                "a latency histogram");

        assertEquals(0, value(scrape, "gatehouse_engine_running", model));
        assertEquals(0, value(scrape, "gatehouse_engine_waiting", model));
        assertEquals(0, value(scrape, "gatehouse_engine_kv_used_bytes", model));
        assertTrue(value(scrape, "gatehouse_engine_kv_total_bytes", model) > 0);
        assertEquals(1, value(scrape, "gatehouse_engine_time_to_first_token_seconds_count", model));
        assertTrue(value(scrape, "gatehouse_engine_time_to_first_token_seconds_sum", model) > 0);
        assertTrue(value(scrape, "gatehouse_engine_time_to_first_token_seconds_bucket", model, "le=\"+Inf\"") >= 1);
        assertEquals(4, value(scrape, "gatehouse_engine_generated_tokens_total", model));
        // four tokens, three gaps between them
        assertEquals(3, value(scrape, "gatehouse_engine_inter_token_latency_seconds_count", model));
        assertTrue(value(scrape, "gatehouse_engine_inter_token_latency_seconds_sum", model) > 0);
        assertEquals(3, value(scrape, "gatehouse_engine_inter_token_latency_seconds_bucket", model, "le=\"+Inf\""));
        int promptTokens = server.chatPromptTokens(List.of(new ChatMessage("user", "t20 t21")));
        assertEquals(promptTokens, value(scrape, "gatehouse_engine_prompt_tokens_total", model));
        assertTrue(chat.body().contains("\"prompt_tokens\":" + promptTokens), chat.body());
        assertEquals(promptTokens, value(scrape, "gatehouse_engine_prefix_cache_query_tokens_total", model));
        assertEquals(0, value(scrape, "gatehouse_engine_prefix_cache_hit_tokens_total", model), "the first prompt found nothing cached");
        assertEquals(0, value(scrape, "gatehouse_engine_prefix_cache_hit_ratio", model));
        assertTrue(value(scrape, "gatehouse_engine_prefix_cache_blocks", model) >= 0);
        assertEquals(0, value(scrape, "gatehouse_engine_preemptions_total", model));
    }

    @Test
    @Order(3)
    void unknownModelNamesDoNotBecomeMetricLabels() throws Exception {
        load();
        String name = "made-up-model-" + System.nanoTime();
        HttpResponse<String> r = server.post("/v1/chat/completions", CHAT.replace(TestServer.MODEL, name));
        assertEquals(404, r.statusCode(), r.body());
        String scrape = server.get("/metrics").body();
        assertFalse(scrape.contains(name), "any client could otherwise add label values without bound");
        assertTrue(value(scrape, "gatehouse_http_requests_seconds_count", "route=\"/v1/chat/completions\"",
                "status=\"404\"") >= 1, "the 404 is still counted");
    }

    /** The sum of the samples of {@code name} whose labels include all of {@code labels}; fails if none. */
    private static double value(String scrape, String name, String... labels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$").matcher(scrape);
        double total = 0;
        boolean found = false;
        while (m.find()) {
            boolean all = true;
            for (String label : labels) {
                all &= m.group(1).contains(label);
            }
            if (all) {
                found = true;
                total += Double.parseDouble(m.group(2));
            }
        }
        assertTrue(found, "no sample " + name + " with " + String.join(",", labels));
        return total;
    }
}
