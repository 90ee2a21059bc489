package dev.gatehouse.gateway.backend.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.api.openai.TestServer;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.tools.ToolSettings;
import dev.gatehouse.gateway.hub.HubClient;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.MemoryBudget;
import dev.gatehouse.serving.testing.SparseCheckpoint;
import dev.gatehouse.serving.testing.TensorDtype;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A 7B-shaped BF16 checkpoint (13.5 GB of weights, 15.5 GB to serve) under a 12 GiB memory limit: refused before
 * any weight is read, shown as failed with the reason, and the server keeps serving its other model.
 */
class ModelMemoryCheckTest {
    private static final String MASTER = "master-secret";
    private static final String BIG = "llama-2-7b";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static TestServer server;
    static LocalStore limited;

    @BeforeAll
    static void start() throws Exception {
        Path store = dir.resolve("model-store");
        limited = new LocalStore(store, DeviceChoice.CPU, name -> EngineConfig.defaults(),
                name -> new LocalStore.Placement(DeviceChoice.CPU, DtypeChoice.AUTO, WeightsDtype.AUTO), name -> ToolSettings.DEFAULTS,
                new MemoryBudget(12L << 30));
        server = TestServer.start(dir, (s, registry) -> s.auth(new ApiAuth(MASTER, null))
                .store(limited, HubClient.fromEnvironment(null)));
        SparseCheckpoint.llama2_7b(store.resolve(BIG), TensorDtype.BF16);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static JsonNode adminEntry(String name) throws Exception {
        HttpResponse<String> r = server.send("GET", "/admin/models", null, MASTER);
        assertEquals(200, r.statusCode(), r.body());
        for (JsonNode m : JSON.readTree(r.body()).path("data")) {
            if (m.path("name").asText().equals(name)) {
                return m;
            }
        }
        throw new AssertionError(name + " not in " + r.body());
    }

    private static void assertTinyStillAnswers() throws Exception {
        HttpResponse<String> chat = server.send("POST", "/v1/chat/completions", "{\"model\":\"" + TestServer.MODEL
                + "\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", MASTER);
        assertEquals(200, chat.statusCode(), chat.body());
    }

    @Test
    void startupSkipsTheModelThatCannotFitAndServesTheRest() throws Exception {
        server.models().loadAll(limited, server.registry()); // what serve does at startup with the folder in the store
        assertFalse(server.models().names().contains(BIG));
        String reason = server.models().failure(BIG).orElseThrow();
        assertTrue(reason.startsWith("not loading llama-2-7b: it needs about 15.5 GB"), reason);
        assertTrue(reason.contains("(weights 13.5 GB as BF16, KV cache") && reason.contains("smaller kv-cache-mb"), reason);

        JsonNode entry = adminEntry(BIG);
        assertEquals("failed", entry.path("state").asText(), entry.toString());
        assertEquals(reason, entry.path("error").asText());
        assertTinyStillAnswers();
    }

    @Test
    void adminLoadIsRefusedWithTheReasonAndTheServerServesOn() throws Exception {
        HttpResponse<String> r = server.send("POST", "/admin/models/" + BIG + "/load", null, MASTER);
        assertEquals(500, r.statusCode(), r.body());
        String message = JSON.readTree(r.body()).path("error").path("message").asText();
        assertTrue(message.contains("not loading llama-2-7b: it needs about"), message);
        // 12 GiB less the tiny model's estimate, or less when the shared machine has less available right now
        assertTrue(message.matches("(?s).* but only \\d+\\.\\d GB is free .*"), message);
        assertTinyStillAnswers();
    }
}
