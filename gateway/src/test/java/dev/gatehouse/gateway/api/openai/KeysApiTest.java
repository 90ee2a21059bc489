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
import dev.gatehouse.gateway.store.KeyStore;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Master key, virtual keys and /v1 auth end to end, including the official SDK and a restart. */
class KeysApiTest {
    private static final String MASTER = "master-secret";
    private static final String CHAT = "{\"model\":\"" + TestServer.MODEL
            + "\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    @TempDir
    static Path dir;
    static KeyStore keys;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        keys = KeyStore.open(dir.resolve("gatehouse.db"));
        server = TestServer.start(dir, new ApiAuth(MASTER, keys));
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

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return OpenAiJson.MAPPER.readTree(r.body());
    }

    private static String create(String body) throws Exception {
        HttpResponse<String> r = server.send("POST", "/admin/keys", body, MASTER);
        assertEquals(201, r.statusCode(), r.body());
        return json(r).path("key").asText();
    }

    private static void assertInvalidKey(HttpResponse<String> r) throws Exception {
        assertEquals(401, r.statusCode(), r.body());
        assertEquals("invalid_api_key", json(r).path("error").path("code").asText());
    }

    @Test
    void adminNeedsTheMasterKey() throws Exception {
        assertInvalidKey(server.send("GET", "/admin/keys", null, null));
        assertInvalidKey(server.send("GET", "/admin/keys", null, "wrong"));
        String key = create("{\"name\":\"not-admin\"}");
        assertInvalidKey(server.send("GET", "/admin/keys", null, key)); // a virtual key is no admin
        assertEquals(400, server.send("POST", "/admin/keys", "{\"name\":\"x\",\"bogus\":1}", MASTER).statusCode());
    }

    @Test
    void createListRevoke() throws Exception {
        HttpResponse<String> r = server.send("POST", "/admin/keys",
                "{\"name\":\"listed\",\"models\":[\"tiny-llama\"],\"rpm\":10,\"expires-at\":\"2099-01-01T00:00:00Z\"}", MASTER);
        assertEquals(201, r.statusCode(), r.body());
        String id = json(r).path("id").asText();
        String key = json(r).path("key").asText();
        HttpResponse<String> list = server.send("GET", "/admin/keys", null, MASTER);
        assertEquals(200, list.statusCode());
        assertTrue(list.body().contains(id));
        assertFalse(list.body().contains(key), "no secrets in the list");
        assertEquals(200, server.send("GET", "/v1/models", null, key).statusCode());
        assertEquals(200, server.send("DELETE", "/admin/keys/" + id, null, MASTER).statusCode());
        assertEquals(404, server.send("DELETE", "/admin/keys/" + id, null, MASTER).statusCode());
        assertInvalidKey(server.send("GET", "/v1/models", null, key));
    }

    @Test
    void v1NeedsAValidKey() throws Exception {
        assertInvalidKey(server.send("POST", "/v1/chat/completions", CHAT, null));
        assertInvalidKey(server.send("POST", "/v1/chat/completions", CHAT, "wrong"));
        assertInvalidKey(server.send("GET", "/v1/models", null, null));
        assertInvalidKey(server.send("GET", "/v1/models/" + TestServer.MODEL, null, "wrong"));
        String key = create("{\"name\":\"valid\"}");
        assertEquals(200, server.send("POST", "/v1/chat/completions", CHAT, key).statusCode());
        assertEquals(200, server.send("POST", "/v1/chat/completions", CHAT, MASTER).statusCode());
        // health and metrics stay open
        assertEquals(200, server.send("GET", "/health", null, null).statusCode());
        assertEquals(200, server.send("GET", "/health/ready", null, null).statusCode());
        assertEquals(200, server.send("GET", "/metrics", null, null).statusCode());
    }

    @Test
    void expiredKeyIs401() throws Exception {
        String key = create("{\"name\":\"old\",\"expires-at\":\"2000-01-01T00:00:00Z\"}");
        HttpResponse<String> r = server.send("POST", "/v1/chat/completions", CHAT, key);
        assertInvalidKey(r);
        assertTrue(json(r).path("error").path("message").asText().contains("expired"));
    }

    @Test
    void modelNotAllowedIs403() throws Exception {
        String key = create("{\"name\":\"other\",\"models\":[\"some-other-model\"]}");
        HttpResponse<String> r = server.send("POST", "/v1/chat/completions", CHAT, key);
        assertEquals(403, r.statusCode(), r.body());
        assertEquals("invalid_request_error", json(r).path("error").path("type").asText());
        assertEquals(403, server.send("GET", "/v1/models/" + TestServer.MODEL, null, key).statusCode());
        assertFalse(server.send("GET", "/v1/models", null, key).body().contains(TestServer.MODEL));
    }

    @Test
    void openAiSdkWithAVirtualKey() throws Exception {
        String key = create("{\"name\":\"sdk\",\"models\":[\"tiny-llama\"]}");
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.v1()).apiKey(key).maxRetries(0)
                .timeout(Duration.ofSeconds(60)).responseValidation(true).build();
        try {
            ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder()
                    .model(TestServer.MODEL).addUserMessage("hi").maxCompletionTokens(3).build());
            assertEquals(1, c.choices().size());
            OpenAIClient wrong = client.withOptions(o -> o.apiKey("gh-wrong"));
            assertThrows(UnauthorizedException.class, () -> wrong.models().list());
        } finally {
            client.close();
        }
    }

    @Test
    void keysNeverReachTheLogs() throws Exception {
        List<String> leaked = new ArrayList<>();
        try (LogCapture logs = new LogCapture()) {
            String key = create("{\"name\":\"secret-keeper\",\"rpm\":1}");
            assertEquals(200, server.send("POST", "/v1/chat/completions", "{\"model\":\"" + TestServer.MODEL
                    + "\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", key).statusCode());
            assertEquals(429, server.send("POST", "/v1/chat/completions", "{\"model\":\"" + TestServer.MODEL
                    + "\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", key).statusCode());
            assertInvalidKey(server.send("GET", "/v1/models", null, "gh-guessed-wrong"));
            assertEquals(401, server.send("GET", "/admin/keys", null, key).statusCode());
            leaked.addAll(logs.containing(key.substring(3)));
            leaked.addAll(logs.containing("guessed-wrong"));
            leaked.addAll(logs.containing(MASTER));
        }
        assertEquals(List.of(), leaked);
    }

    @Test
    void restartKeepsKeys() throws Exception {
        Path restartDir = dir.resolve("restart");
        Path db = restartDir.resolve("gatehouse.db");
        String key;
        try (KeyStore store = KeyStore.open(db); TestServer first = TestServer.start(restartDir, new ApiAuth(MASTER, store))) {
            HttpResponse<String> r = first.send("POST", "/admin/keys", "{\"name\":\"kept\"}", MASTER);
            key = json(r).path("key").asText();
        }
        try (KeyStore store = KeyStore.open(db); TestServer second = TestServer.start(restartDir, new ApiAuth(null, store))) {
            assertEquals(200, second.send("GET", "/v1/models", null, key).statusCode());
            assertInvalidKey(second.send("GET", "/v1/models", null, null)); // a stored key alone turns auth on
        }
    }
}
