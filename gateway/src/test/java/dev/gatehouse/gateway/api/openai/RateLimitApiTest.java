package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.policy.InMemoryRateLimiter;
import dev.gatehouse.gateway.store.KeyStore;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-key rpm/tpm through HTTP, on a fake clock: 429 with Retry-After and OpenAI's x-ratelimit headers. */
class RateLimitApiTest {
    private static final String MASTER = "master-secret";
    private static final String CHAT = "{\"model\":\"" + TestServer.MODEL
            + "\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static final AtomicLong NOW = new AtomicLong();

    @TempDir
    static Path dir;
    static KeyStore keys;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        keys = KeyStore.open(dir.resolve("gatehouse.db"));
        server = TestServer.start(dir, new ApiAuth(MASTER, keys, new InMemoryRateLimiter(NOW::get)));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (keys != null) {
            keys.close();
        }
    }

    private static String create(String body) throws Exception {
        HttpResponse<String> r = server.send("POST", "/admin/keys", body, MASTER);
        assertEquals(201, r.statusCode(), r.body());
        return OpenAiJson.MAPPER.readTree(r.body()).path("key").asText();
    }

    private static String header(HttpResponse<String> r, String name) {
        return r.headers().firstValue(name).orElse(null);
    }

    @Test
    void requestsPerMinuteThen429ThenSuccessAfterTheWindow() throws Exception {
        String key = create("{\"name\":\"rpm2\",\"rpm\":2,\"tpm\":100000}");
        HttpResponse<String> first = server.send("POST", "/v1/chat/completions", CHAT, key);
        assertEquals(200, first.statusCode(), first.body());
        assertEquals("2", header(first, "x-ratelimit-limit-requests"));
        assertEquals("1", header(first, "x-ratelimit-remaining-requests"));
        assertEquals("60s", header(first, "x-ratelimit-reset-requests"));
        assertEquals("100000", header(first, "x-ratelimit-limit-tokens"));

        NOW.addAndGet(TimeUnit.SECONDS.toNanos(15));
        assertEquals(200, server.send("POST", "/v1/chat/completions", CHAT, key).statusCode());
        HttpResponse<String> refused = server.send("POST", "/v1/chat/completions", CHAT, key);
        assertEquals(429, refused.statusCode(), refused.body());
        assertEquals("45", header(refused, "retry-after")); // the first request leaves the window at 60s
        assertEquals("0", header(refused, "x-ratelimit-remaining-requests"));
        JsonNode error = OpenAiJson.MAPPER.readTree(refused.body()).path("error");
        assertEquals("requests", error.path("type").asText());
        assertEquals("rate_limit_exceeded", error.path("code").asText());

        HttpResponse<String> models = server.send("GET", "/v1/models", null, key); // listing costs nothing
        assertEquals(200, models.statusCode());
        assertEquals("0", header(models, "x-ratelimit-remaining-requests"));

        NOW.addAndGet(TimeUnit.SECONDS.toNanos(45));
        HttpResponse<String> again = server.send("POST", "/v1/chat/completions", CHAT, key);
        assertEquals(200, again.statusCode(), again.body());
        assertEquals("0", header(again, "x-ratelimit-remaining-requests")); // the one at 15s is still in
    }

    @Test
    void tokensPerMinuteAndUnlimitedCallers() throws Exception {
        // estimate: "user"+"hi" = 6 chars → 2, plus max_tokens 2 = 4; real usage is corrected after
        String key = create("{\"name\":\"tpm\",\"tpm\":4}");
        HttpResponse<String> first = server.send("POST", "/v1/chat/completions", CHAT, key);
        assertEquals(200, first.statusCode(), first.body());
        assertEquals(null, header(first, "x-ratelimit-limit-requests")); // no rpm on this key
        HttpResponse<String> refused = server.send("POST", "/v1/chat/completions", CHAT, key);
        assertEquals(429, refused.statusCode(), refused.body());
        assertEquals("tokens", OpenAiJson.MAPPER.readTree(refused.body()).path("error").path("type").asText());
        assertEquals("0", header(refused, "x-ratelimit-remaining-tokens"));

        String open = create("{\"name\":\"open\"}");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = server.send("POST", "/v1/chat/completions", CHAT, open);
            assertEquals(200, r.statusCode(), r.body());
            assertFalse(r.headers().firstValue("x-ratelimit-limit-requests").isPresent());
            assertEquals(200, server.send("POST", "/v1/chat/completions", CHAT, MASTER).statusCode());
        }
    }
}
