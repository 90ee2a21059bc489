package dev.gatehouse.gateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.api.openai.TestServer;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalStore;
import dev.gatehouse.gateway.hub.FakeHub;
import dev.gatehouse.gateway.hub.HubClient;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.testing.BertTestFolder;
import dev.gatehouse.serving.testing.TestModelFolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The model store managed while the server runs: pull from a fake Hub, load, serve, unload, delete. */
class ModelsAdminApiTest {
    private static final String MASTER = "master-secret";
    private static final String REPO = "test-org/tiny-pulled";
    private static final String PULLED = "test-org--tiny-pulled";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static FakeHub hub;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        Path source = TestModelFolder.llama().seed(7).write(Files.createDirectories(dir.resolve("hub/tiny-pulled")));
        hub = new FakeHub().add(REPO, source, "0123456789abcdef0123456789abcdef01234567", null);
        server = TestServer.start(dir, (s, registry) -> s.auth(new ApiAuth(MASTER, null))
                .store(LocalStore.of(dir.resolve("model-store"), DeviceChoice.CPU, EngineConfig.defaults()),
                        new HubClient(hub.url(), null)));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (hub != null) {
            hub.close();
        }
    }

    private static HttpResponse<String> admin(String method, String path, String body) throws Exception {
        return server.send(method, path, body, MASTER);
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    private static void assertError(int status, String code, HttpResponse<String> r) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(code, json(r).path("error").path("code").asText(), r.body());
    }

    private static HttpResponse<String> chat(String model) throws Exception {
        return server.send("POST", "/v1/chat/completions", "{\"model\":\"" + model
                + "\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", MASTER);
    }

    private static List<String> v1Models() throws Exception {
        List<String> ids = new ArrayList<>();
        json(server.send("GET", "/v1/models", null, MASTER)).path("data").forEach(m -> ids.add(m.path("id").asText()));
        return ids;
    }

    /** The entry of {@code name} in GET /admin/models, or null. */
    private static JsonNode listed(String name) throws Exception {
        HttpResponse<String> r = admin("GET", "/admin/models", null);
        assertEquals(200, r.statusCode(), r.body());
        for (JsonNode m : json(r).path("data")) {
            if (m.path("name").asText().equals(name)) {
                return m;
            }
        }
        return null;
    }

    private static JsonNode awaitPull(String id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            HttpResponse<String> r = admin("GET", "/admin/models/pulls/" + id, null);
            assertEquals(200, r.statusCode(), r.body());
            JsonNode p = json(r);
            String state = p.path("state").asText();
            if (state.equals("done") || state.equals("failed")) {
                return p;
            }
            assertTrue(System.nanoTime() < deadline, "pull still " + state + ": " + p);
            Thread.sleep(50);
        }
    }

    @Test
    void pullWhileServingThenLoadServeUnloadDelete() throws Exception {
        HttpResponse<String> started = admin("POST", "/admin/models/pull", "{\"repo\":\"" + REPO + "\"}");
        assertEquals(202, started.statusCode(), started.body());
        String id = json(started).path("id").asText();
        assertEquals("/admin/models/pulls/" + id, started.headers().firstValue("Location").orElseThrow());

        JsonNode pull = awaitPull(id);
        assertEquals("done", pull.path("state").asText(), pull.toString());
        assertEquals(PULLED, pull.path("name").asText());
        assertTrue(pull.path("bytes-total").asLong() > 0);
        assertEquals(pull.path("bytes-total").asLong(), pull.path("bytes-done").asLong());
        assertEquals(pull.path("files-total").asInt(), pull.path("files-done").asInt());
        assertTrue(Files.isRegularFile(server.store().resolve(PULLED).resolve("config.json")));

        JsonNode stored = listed(PULLED);
        assertNotNull(stored);
        assertEquals("not-loaded", stored.path("state").asText());
        assertEquals("LlamaForCausalLM", stored.path("architecture").asText());
        assertTrue(stored.path("compute-dtype").isNull(), "not loaded: no compute type yet");
        assertTrue(stored.path("servable").asBoolean());
        assertEquals(REPO, stored.path("repo").asText());
        assertTrue(stored.path("size-bytes").asLong() > 0);
        assertError(404, "model_not_found", chat(PULLED)); // pulled is not served until loaded

        HttpResponse<String> loaded = admin("POST", "/admin/models/" + PULLED + "/load", null);
        assertEquals(200, loaded.statusCode(), loaded.body());
        assertEquals("loaded", json(loaded).path("state").asText());
        JsonNode listedLoaded = listed(PULLED);
        assertEquals("loaded", listedLoaded.path("state").asText());
        assertEquals("cpu", listedLoaded.path("device").asText());
        assertEquals("float32", listedLoaded.path("compute-dtype").asText());
        assertEquals("cpu", listedLoaded.path("compute-dtype-why").asText());
        assertError(409, "model_already_loaded", admin("POST", "/admin/models/" + PULLED + "/load", null));
        assertTrue(v1Models().contains(PULLED));
        HttpResponse<String> answer = chat(PULLED);
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals(PULLED, json(answer).path("model").asText());

        // a generation running while the model is unloaded finishes; new requests are refused
        CompletableFuture<HttpResponse<String>> running = CompletableFuture.supplyAsync(() -> {
            try {
                return server.send("POST", "/v1/chat/completions", "{\"model\":\"" + PULLED
                        + "\",\"max_tokens\":200,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", MASTER);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Engine engine = server.models().get(PULLED).orElseThrow().engine();
        while (!running.isDone() && engine.capacity().running() == 0) { // unload mid-generation when the timing allows
            Thread.sleep(2);
        }
        HttpResponse<String> unloaded = admin("POST", "/admin/models/" + PULLED + "/unload", null);
        assertEquals(200, unloaded.statusCode(), unloaded.body());
        assertEquals("not-loaded", json(unloaded).path("state").asText());
        assertEquals(200, running.get().statusCode(), running.get().body());
        assertError(404, "model_not_found", chat(PULLED));
        assertFalse(v1Models().contains(PULLED));
        assertEquals("not-loaded", listed(PULLED).path("state").asText());
        assertError(409, "model_not_loaded", admin("POST", "/admin/models/" + PULLED + "/unload", null));
        assertFalse(server.registry().scrape().lines().anyMatch(l -> l.startsWith("gatehouse_engine")
                && l.contains("model=\"" + PULLED + "\"")), "the engine's meters are gone");

        HttpResponse<String> deleted = admin("DELETE", "/admin/models/" + PULLED, null);
        assertEquals(200, deleted.statusCode(), deleted.body());
        assertTrue(json(deleted).path("deleted").asBoolean());
        assertFalse(Files.exists(server.store().resolve(PULLED)));
        assertEquals(null, listed(PULLED));
        assertError(404, "model_not_found", admin("DELETE", "/admin/models/" + PULLED, null));
    }

    @Test
    void deleteUnloadsALoadedModelFirst() throws Exception {
        new BertTestFolder().write(Files.createDirectories(server.store().resolve("mini-bert")));
        assertEquals(200, admin("POST", "/admin/models/mini-bert/load", null).statusCode());
        HttpResponse<String> embedded = server.send("POST", "/v1/embeddings",
                "{\"model\":\"mini-bert\",\"input\":\"hello\"}", MASTER);
        assertEquals(200, embedded.statusCode(), embedded.body());

        assertEquals(200, admin("DELETE", "/admin/models/mini-bert", null).statusCode());
        assertError(404, "model_not_found", server.send("POST", "/v1/embeddings",
                "{\"model\":\"mini-bert\",\"input\":\"hello\"}", MASTER));
        assertFalse(v1Models().contains("mini-bert"));
        assertFalse(Files.exists(server.store().resolve("mini-bert")));
    }

    @Test
    void adminNeedsTheMasterKey() throws Exception {
        for (String key : new String[] {null, "wrong"}) {
            assertError(401, "invalid_api_key", server.send("GET", "/admin/models", null, key));
            assertError(401, "invalid_api_key", server.send("POST", "/admin/models/pull", "{\"repo\":\"" + REPO + "\"}", key));
            assertError(401, "invalid_api_key", server.send("GET", "/admin/models/pulls/x", null, key));
            assertError(401, "invalid_api_key", server.send("POST", "/admin/models/" + TestServer.MODEL + "/unload", null, key));
            assertError(401, "invalid_api_key", server.send("DELETE", "/admin/models/" + TestServer.MODEL, null, key));
        }
        assertEquals("loaded", listed(TestServer.MODEL).path("state").asText(), "nothing was unloaded");
        assertTrue(Files.isDirectory(server.modelFolder()), "nothing was deleted");
    }

    @Test
    void unknownNamesAre404() throws Exception {
        assertError(404, "model_not_found", admin("POST", "/admin/models/no-such-model/load", null));
        assertError(404, "model_not_found", admin("POST", "/admin/models/no-such-model/unload", null));
        assertError(404, "model_not_found", admin("DELETE", "/admin/models/no-such-model", null));
        assertError(404, "model_not_found", admin("POST", "/admin/models/..hidden/load", null));
        assertError(404, "pull_not_found", admin("GET", "/admin/models/pulls/pull-nope", null));
    }

    @Test
    void malformedPullBodiesAre400() throws Exception {
        String[][] cases = {
                {"not json", null},
                {"[\"org/name\"]", null},
                {"{}", "repo"},
                {"{\"repo\":\"no-slash\"}", "repo"},
                {"{\"repo\":\"a/b/c\"}", "repo"},
                {"{\"repo\":\"org/name\",\"revison\":\"main\"}", "revison"},
                {"{\"repo\":\"org/name\",\"include\":\"*.bin\"}", "include"},
                {"{\"repo\":\"org/name\",\"exclude\":[1]}", "exclude"},
                {"{\"repo\":\"org/name\",\"name\":\"../escape\"}", "name"},
                {"{\"repo\":\"org/name\",\"revision\":\"\"}", "revision"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = admin("POST", "/admin/models/pull", c[0]);
            assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
            JsonNode error = json(r).path("error");
            assertEquals("invalid_request_error", error.path("type").asText());
            assertEquals(c[1] == null ? "null" : c[1], error.path("param").isNull() ? "null" : error.path("param").asText(), c[0]);
        }
    }

    @Test
    void aFailedPullSaysWhy() throws Exception {
        HttpResponse<String> started = admin("POST", "/admin/models/pull", "{\"repo\":\"test-org/missing\"}");
        assertEquals(202, started.statusCode(), started.body());
        JsonNode pull = awaitPull(json(started).path("id").asText());
        assertEquals("failed", pull.path("state").asText());
        assertTrue(pull.path("error").asText().contains("test-org/missing"), pull.toString());
        assertFalse(Files.exists(server.store().resolve("test-org--missing")));
    }

    @Test
    void anUnservableFolderIs400WithTheReason() throws Exception {
        Path t5 = TestModelFolder.gpt2().write(Files.createDirectories(server.store().resolve("t5-like")));
        Files.writeString(t5.resolve("config.json"), Files.readString(t5.resolve("config.json"))
                .replace("GPT2LMHeadModel", "T5ForConditionalGeneration"));
        HttpResponse<String> r = admin("POST", "/admin/models/t5-like/load", null);
        assertError(400, "model_not_servable", r);
        assertTrue(json(r).path("error").path("message").asText().contains("T5ForConditionalGeneration"), r.body());
        JsonNode stored = listed("t5-like");
        assertFalse(stored.path("servable").asBoolean());
        assertEquals("not-loaded", stored.path("state").asText());
    }
}
