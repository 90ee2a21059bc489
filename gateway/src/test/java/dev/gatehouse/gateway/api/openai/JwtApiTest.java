package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.auth.JwtVerifier;
import dev.gatehouse.gateway.auth.TestJwks;
import dev.gatehouse.gateway.policy.InMemoryRateLimiter;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * JWT bearer tokens end to end: a test identity provider serves its JWK set on loopback, Gatehouse
 * (JWT auth only: no master key, no virtual keys) verifies the tokens it signs. Per-user limits: rpm 2.
 */
class JwtApiTest {
    private static final String CHAT = "{\"model\":\"" + TestServer.MODEL
            + "\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static final AtomicLong NOW = new AtomicLong();

    @TempDir
    static Path dir;
    static TestJwks idp;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        idp = TestJwks.start();
        JwtVerifier jwt = JwtVerifier.of(idp.config(2, null, List.of(TestServer.MODEL)));
        server = TestServer.start(dir, new ApiAuth(null, null, new InMemoryRateLimiter(NOW::get), jwt));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (idp != null) {
            idp.close();
        }
    }

    private static JsonNode error(HttpResponse<String> r) throws Exception {
        return OpenAiJson.MAPPER.readTree(r.body()).path("error");
    }

    /** A 401 in OpenAI's shape whose message names the failure and never echoes the token. */
    private static String refused(String token) throws Exception {
        HttpResponse<String> r = server.send("POST", "/v1/chat/completions", CHAT, token);
        assertEquals(401, r.statusCode(), r.body());
        JsonNode e = error(r);
        assertEquals("invalid_request_error", e.path("type").asText());
        assertEquals("invalid_api_key", e.path("code").asText());
        assertFalse(r.body().contains(token.substring(token.lastIndexOf('.') + 1)), r.body());
        return e.path("message").asText();
    }

    @Test
    void theOpenAiSdkWithAJwtAsItsApiKey() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.v1()).apiKey(idp.token("sdk-user"))
                .maxRetries(0).timeout(Duration.ofSeconds(60)).responseValidation(true).build();
        try {
            ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder()
                    .model(TestServer.MODEL).addUserMessage("hi").maxCompletionTokens(3).build());
            assertEquals(1, c.choices().size());

            String expired = idp.sign(TestJwks.claims("sdk-user")
                    .expirationTime(Date.from(Instant.now().minus(Duration.ofMinutes(10)))).build());
            OpenAIClient late = client.withOptions(o -> o.apiKey(expired));
            UnauthorizedException e = assertThrows(UnauthorizedException.class, () -> late.models().list());
            assertTrue(e.getMessage().contains("The JWT has expired."), e.getMessage());
        } finally {
            client.close();
        }
    }

    @Test
    void badTokensAre401WithAClearMessageAndNeverLogged() throws Exception {
        String forged = TestJwks.sign(TestJwks.newKey("k1"), TestJwks.claims("mallory").build());
        List<String> leaked;
        try (LogCapture logs = new LogCapture()) {
            checkBadTokens(forged);
            leaked = logs.containing(forged.substring(forged.lastIndexOf('.') + 1));
        }
        assertEquals(List.of(), leaked, "the token was logged");
    }

    private static void checkBadTokens(String forged) throws Exception {
        assertEquals("The JWT has expired.", refused(idp.sign(TestJwks.claims("mallory")
                .expirationTime(Date.from(Instant.now().minus(Duration.ofMinutes(10)))).build())));
        assertEquals("Invalid JWT: JWT aud claim rejected.",
                refused(idp.sign(TestJwks.claims("mallory").audience("another-api").build())));
        assertEquals("Invalid JWT: JWT iss claim value rejected.",
                refused(idp.sign(TestJwks.claims("mallory").issuer("https://evil.example").build())));
        assertEquals("Invalid JWT: Signed JWT rejected: Invalid signature.",
                refused(forged));
        assertEquals("Incorrect API key provided.", refused("gh-not-a-key"));

        HttpResponse<String> none = server.send("POST", "/v1/chat/completions", CHAT, null);
        assertEquals(401, none.statusCode(), "with JWT configured, /v1 needs a bearer token");
        assertEquals(401, server.send("GET", "/admin/keys", null, idp.token("alice")).statusCode(),
                "a JWT never opens the admin API");
    }

    @Test
    void requestsPerMinutePerUserHit429AtExactlyTheLimit() throws Exception {
        String alice = idp.token("rpm-alice");
        HttpResponse<String> first = server.send("POST", "/v1/chat/completions", CHAT, alice);
        assertEquals(200, first.statusCode(), first.body());
        assertEquals("2", first.headers().firstValue("x-ratelimit-limit-requests").orElse(null));
        assertEquals("1", first.headers().firstValue("x-ratelimit-remaining-requests").orElse(null));
        HttpResponse<String> second = server.send("POST", "/v1/chat/completions", CHAT, idp.token("rpm-alice"));
        assertEquals(200, second.statusCode(), "a fresh token for the same user shares the user's bucket");
        assertEquals("0", second.headers().firstValue("x-ratelimit-remaining-requests").orElse(null));

        HttpResponse<String> third = server.send("POST", "/v1/chat/completions", CHAT, alice);
        assertEquals(429, third.statusCode(), third.body());
        assertEquals("requests", error(third).path("type").asText());
        assertEquals("rate_limit_exceeded", error(third).path("code").asText());
        assertEquals("60", third.headers().firstValue("retry-after").orElse(null));

        assertEquals(200, server.send("POST", "/v1/chat/completions", CHAT, idp.token("rpm-bob")).statusCode(),
                "another user has a bucket of their own");
        NOW.addAndGet(TimeUnit.SECONDS.toNanos(60));
        assertEquals(200, server.send("POST", "/v1/chat/completions", CHAT, alice).statusCode());
    }

    @Test
    void theModelsAllowListAppliesToJwtUsers() throws Exception {
        String token = idp.token("models-user");
        HttpResponse<String> r = server.send("POST", "/v1/chat/completions",
                CHAT.replace(TestServer.MODEL, "gpt-4o"), token);
        assertEquals(403, r.statusCode(), r.body());
        assertEquals("model_not_allowed", error(r).path("code").asText());
        assertEquals("This user may not use the model 'gpt-4o'.", error(r).path("message").asText());
        HttpResponse<String> models = server.send("GET", "/v1/models", null, token);
        assertEquals(200, models.statusCode());
        assertTrue(models.body().contains(TestServer.MODEL));
        assertEquals("2", models.headers().firstValue("x-ratelimit-remaining-requests").orElse(null),
                "listing costs nothing");
    }
}
