package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local model whose chat template writes without end (a gigabyte from nested loops): the
 * request gets a 400 in OpenAI's error shape naming the model's template, and the server goes on
 * serving.
 */
class ChatTemplateLimitsApiTest {
    private static final String LOOPING = "looping-llama";

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.startLoading(dir);
        Path folder = server.store().resolve(LOOPING);
        TestModelFolder.llama().write(folder);
        Files.writeString(folder.resolve("chat_template.jinja"), "{% for m in messages %}{% for a in range(1000) %}"
                + "{% for b in range(1000) %}{% for c in range(1000) %}{{ m.content }}{% endfor %}{% endfor %}{% endfor %}{% endfor %}");
        server.load();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String chat(String model) {
        String content = "t20 {{ 7*7 }} ".repeat(100);
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}],\"max_tokens\":2}";
    }

    @Test
    void aTemplateThatWritesWithoutEndIsA400NamingIt() throws Exception {
        HttpResponse<String> r = server.post("/v1/chat/completions", chat(LOOPING));
        assertEquals(400, r.statusCode(), r.body());
        JsonNode error = OpenAiJson.MAPPER.readTree(r.body()).path("error");
        assertEquals("invalid_request_error", error.path("type").asText(), r.body());
        assertEquals("messages", error.path("param").asText(), r.body());
        assertTrue(error.path("message").asText().startsWith( // too long or too slow, whichever comes first
                "Rendering this conversation with the chat template of model '" + LOOPING + "' "), r.body());

        HttpResponse<String> ok = server.post("/v1/chat/completions", chat(TestServer.MODEL));
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals(200, server.get("/health/ready").statusCode());
    }
}
