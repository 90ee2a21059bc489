package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.Pricing;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecorder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Usage log, cost, budgets and concurrency limits through HTTP, on the tiny local model priced at $1 a token. */
class UsageApiTest {
    private static final String MASTER = "master-secret";
    private static final String CHAT = "{\"model\":\"" + TestServer.MODEL
            + "\",\"max_tokens\":2,\"user\":\"alice\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    /** A dollar per token makes every cost a whole number of dollars: budgets compare exactly. */
    private static final Pricing DOLLAR_A_TOKEN = new Pricing(Map.of(),
            Map.of(TestServer.MODEL, new ProviderConfig.Prices(1e6, 1e6)));
    /**
     * A dollar per completion token, prompts free: a request with max_tokens 2 holds exactly $2 of a
     * budget while it runs (what a prompt may cost is bounded only loosely, see CostCeiling).
     */
    static final Pricing DOLLAR_A_COMPLETION_TOKEN = new Pricing(Map.of(),
            Map.of(TestServer.MODEL, new ProviderConfig.Prices(0.0, 1e6)));

    @TempDir
    Path dir;

    private TestServer start(KeyStore keys) throws Exception {
        return start(keys, DOLLAR_A_TOKEN);
    }

    private TestServer start(KeyStore keys, Pricing pricing) throws Exception {
        return TestServer.start(dir, (server, registry) -> server.auth(new ApiAuth(MASTER, keys))
                .usage(new UsageRecorder(pricing, UsageLog.open(dir.resolve("gatehouse.db")), Clock.systemUTC(), registry)));
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return OpenAiJson.MAPPER.readTree(r.body());
    }

    private static String create(TestServer server, String body) throws Exception {
        HttpResponse<String> r = server.send("POST", "/admin/keys", body, MASTER);
        assertEquals(201, r.statusCode(), r.body());
        return json(r).path("key").asText();
    }

    @Test
    void budgetRefusesAtExactlyItsLimitAndStillAfterARestart() throws Exception {
        String greedy = CHAT.replace("\"max_tokens\":2", "\"max_tokens\":2,\"temperature\":0"); // the same answer every time
        try (KeyStore keys = KeyStore.open(dir.resolve("gatehouse.db"))) {
            TestServer server = start(keys, DOLLAR_A_COMPLETION_TOKEN);
            HttpResponse<String> probe = server.send("POST", "/v1/chat/completions", greedy, MASTER);
            assertEquals(200, probe.statusCode(), probe.body());
            long cost = json(probe).path("usage").path("completion_tokens").asLong(); // dollars
            assertEquals((double) cost, Double.parseDouble(probe.headers().firstValue("x-gatehouse-cost-usd").orElseThrow()));
            // the second request is admitted only if the most it can cost ($2) fits beside the first's cost
            String key = create(server, "{\"name\":\"two-requests\",\"max-budget-usd\":" + (cost + 2)
                    + ",\"budget-period\":\"30d\"}");
            assertEquals(200, server.send("POST", "/v1/chat/completions", greedy, key).statusCode());
            assertEquals(200, server.send("POST", "/v1/chat/completions", greedy, key).statusCode());
            HttpResponse<String> refused = server.send("POST", "/v1/chat/completions", greedy, key);
            assertEquals(429, refused.statusCode(), refused.body());
            JsonNode error = json(refused).path("error");
            assertEquals("insufficient_quota", error.path("type").asText());
            assertEquals("insufficient_quota", error.path("code").asText());
            long retryAfter = Long.parseLong(refused.headers().firstValue("retry-after").orElseThrow());
            assertTrue(retryAfter > 29 * 86400 && retryAfter <= 30 * 86400, "resets when the 30 days are over: " + retryAfter);

            JsonNode listed = json(server.send("GET", "/admin/keys", null, MASTER)).path("data").get(0);
            assertEquals(2.0 * cost, listed.path("spend-usd").asDouble());
            server.close();

            TestServer restarted = start(keys, DOLLAR_A_COMPLETION_TOKEN); // spend is read back from the usage log
            try {
                assertEquals(429, restarted.send("POST", "/v1/chat/completions", greedy, key).statusCode());
                assertEquals(200, restarted.send("POST", "/v1/chat/completions", greedy, MASTER).statusCode());
            } finally {
                restarted.close();
            }
        }
    }

    @Test
    void adminUsageSummarisesByKeyModelAndBackend() throws Exception {
        try (KeyStore keys = KeyStore.open(dir.resolve("gatehouse.db")); TestServer server = start(keys)) {
            String key = create(server, "{\"name\":\"team-a\"}");
            for (int i = 0; i < 3; i++) {
                assertEquals(200, server.send("POST", "/v1/chat/completions", CHAT, key).statusCode());
            }
            assertEquals(404, server.send("POST", "/v1/chat/completions", CHAT.replace(TestServer.MODEL, "nope"), key)
                    .statusCode());

            HttpResponse<String> r = server.send("GET", "/admin/usage?group-by=key", null, MASTER);
            assertEquals(200, r.statusCode(), r.body());
            JsonNode row = json(r).path("data").get(0);
            assertEquals("team-a", row.path("name").asText());
            assertEquals(4, row.path("requests").asLong());
            assertEquals(1, row.path("errors").asLong());
            long tokens = row.path("prompt-tokens").asLong() + row.path("completion-tokens").asLong();
            assertEquals(tokens, row.path("cost-usd").asDouble(), 1e-9); // $1 a token

            JsonNode backends = json(server.send("GET", "/admin/usage?group-by=backend", null, MASTER)).path("data");
            assertEquals("local:" + TestServer.MODEL, backends.get(0).path("backend").asText());
            assertEquals(3, backends.get(0).path("requests").asLong());

            HttpResponse<String> none = server.send("GET", "/admin/usage?from=2000-01-01&to=2000-01-02", null, MASTER);
            assertEquals(0, json(none).path("data").size());
            HttpResponse<String> bad = server.send("GET", "/admin/usage?group-by=colour", null, MASTER);
            assertEquals(400, bad.statusCode());
            assertTrue(json(bad).path("error").path("message").asText().contains("key, user, model, backend or rule"));
            assertEquals(401, server.send("GET", "/admin/usage", null, key).statusCode());

            String metrics = server.get("/metrics").body();
            assertTrue(metrics.contains("gatehouse_spend_usd_total{key=\""), metrics);
            assertTrue(metrics.contains("gatehouse_usage_tokens_total{key=\""), metrics);
        }
    }

    @Test
    void everyOneOfAThousandConcurrentRequestsIsLoggedByAGracefulShutdown() throws Exception {
        int requests = 1000;
        try (KeyStore keys = KeyStore.open(dir.resolve("gatehouse.db"))) {
            TestServer server = start(keys);
            String key = create(server, "{\"name\":\"load\"}");
            String oneToken = CHAT.replace("\"max_tokens\":2", "\"max_tokens\":1");
            // a generous timeout: a thousand connections at once queue up on a small CI machine
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpRequest request = HttpRequest.newBuilder(URI.create(server.v1() + "/chat/completions"))
                    .timeout(Duration.ofMinutes(3)).header("Authorization", "Bearer " + key)
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(oneToken)).build();
            List<Future<Integer>> statuses = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < requests; i++) {
                    statuses.add(pool.submit(() -> http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode()));
                }
            }
            int ok = 0;
            for (Future<Integer> s : statuses) {
                ok += s.get() == 200 ? 1 : 0; // the rest are 503s from a full queue: logged all the same
            }
            server.close();
            try (UsageLog log = UsageLog.open(dir.resolve("gatehouse.db"))) {
                List<UsageLog.Summary> rows = log.summary(Instant.EPOCH, Instant.now(), UsageLog.GroupBy.KEY);
                assertEquals(1, rows.size());
                assertEquals(requests, rows.getFirst().requests());
                assertEquals(requests - ok, rows.getFirst().errors());
            }
        }
    }

    @Test
    void concurrentRequestsAboveTheKeysLimitAreRefused() throws Exception {
        try (KeyStore keys = KeyStore.open(dir.resolve("gatehouse.db")); TestServer server = start(keys)) {
            String key = create(server, "{\"name\":\"one-at-a-time\",\"max-concurrent\":1}");
            String longer = CHAT.replace("\"max_tokens\":2", "\"max_tokens\":64");
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 16; i++) { // sixteen requests of 64 tokens at once cannot all miss each other
                    answers.add(pool.submit(() -> server.send("POST", "/v1/chat/completions", longer, key)));
                }
            }
            int refused = 0;
            for (Future<HttpResponse<String>> a : answers) {
                HttpResponse<String> r = a.get();
                if (r.statusCode() == 429) {
                    refused++;
                    assertTrue(json(r).path("error").path("message").asText().contains("concurrent"), r.body());
                } else {
                    assertEquals(200, r.statusCode(), r.body());
                }
            }
            assertTrue(refused > 0 && refused < 16, refused + " of 16 refused");
            assertEquals(200, server.send("POST", "/v1/chat/completions", CHAT, key).statusCode()); // every slot freed
            assertTrue(server.get("/metrics").body().contains("gatehouse_policy_rejections_total{key=\""));
        }
    }
}
