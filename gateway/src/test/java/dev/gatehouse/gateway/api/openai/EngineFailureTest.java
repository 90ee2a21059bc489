package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local engine whose forward pass fails at run time: the client gets OpenAI's plain 500, the log
 * gets the exception, and the server goes on serving. The fault: the model's weights are freed under
 * its running engine, so every step fails in DJL as a device fault (a driver error, memory gone)
 * would, with a message naming native internals.
 */
class EngineFailureTest {
    private static final String BROKEN = "broken-llama";
    private static final String GENERIC = "The server had an error while generating the response.";

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.startLoading(dir);
        TestModelFolder.llama().write(server.store().resolve(BROKEN));
        server.load();
        // the engine thread is idle (nothing submitted yet), so nothing reads the weights while they go
        server.models().get(BROKEN).orElseThrow().engine().model().lm().close();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String completion(String model, boolean stream) {
        return "{\"model\":\"" + model + "\",\"prompt\":\"t20 t21\",\"max_tokens\":4,\"temperature\":0,\"stream\":" + stream + "}";
    }

    @Test
    void aFailingEngineAnswersAPlain500AndLogsWhy() throws Exception {
        try (LogCapture logs = new LogCapture()) {
            for (boolean stream : List.of(false, true)) { // it fails before its first token: a 500 either way
                HttpResponse<String> r = server.post("/v1/completions", completion(BROKEN, stream));
                assertEquals(500, r.statusCode(), r.body());
                assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.body());
                JsonNode error = OpenAiJson.MAPPER.readTree(r.body()).path("error");
                assertEquals(GENERIC, error.path("message").asText(), r.body());
                assertEquals("server_error", error.path("type").asText());
                assertTrue(error.path("code").isNull() && error.path("param").isNull(), r.body());
                assertFalse(BadRequestCorpusTest.LEAK.matcher(r.body()).find(), "internals in the body: " + r.body());
                assertFalse(r.body().contains("engine") || r.body().contains("Native"), r.body());
            }
            List<String> logged = logs.containing("forward pass failed for " + BROKEN);
            assertFalse(logged.isEmpty(), "the server's log says what failed");
            assertTrue(logged.get(0).contains("Exception"), "with the exception itself: " + logged.get(0));
        }

        // the failed engine keeps answering (no hang), the healthy model serves, the server is ready
        assertEquals(500, server.post("/v1/completions", completion(BROKEN, false)).statusCode());
        HttpResponse<String> ok = server.post("/v1/completions", completion(TestServer.MODEL, false));
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals("length", OpenAiJson.MAPPER.readTree(ok.body()).at("/choices/0/finish_reason").asText());
        assertEquals(200, server.get("/health/ready").statusCode());
    }
}
