package dev.gatehouse.gateway.cache;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.api.openai.TestServer;
import dev.gatehouse.gateway.config.SemanticCacheConfig;
import dev.gatehouse.serving.embed.AllMiniLmL6V2;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The semantic cache through the API, comparing messages with the real built-in all-MiniLM-L6-v2. */
class SemanticCacheApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir, (s, registry) -> s.semanticCache(new SemanticCacheConfig(List.of(TestServer.MODEL),
                AllMiniLmL6V2.NAME, 0.9, Duration.ofMinutes(5), 1000, false, false, false)));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static HttpResponse<String> ask(String question, boolean stream) throws Exception {
        return server.post("/v1/chat/completions", JSON.writeValueAsString(java.util.Map.of("model", TestServer.MODEL,
                "max_tokens", 8, "temperature", 0, "stream", stream, "messages", List.of(java.util.Map.of("role", "user", "content", question)))));
    }

    private static String content(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).path("choices").path(0).path("message").path("content").asText();
    }

    @Test
    void aRephrasedQuestionIsAnsweredFromTheCacheAndAnUnrelatedOneIsNot() throws Exception {
        HttpResponse<String> first = ask("What is the capital city of France?", false);
        HttpResponse<String> rephrased = ask("What's the capital of France?", false);
        HttpResponse<String> unrelated = ask("Give me a recipe for sourdough bread.", false);

        assertEquals(200, first.statusCode(), first.body());
        assertEquals("SEMANTIC-HIT", rephrased.headers().firstValue("x-gatehouse-cache").orElse(null), rephrased.body());
        double similarity = Double.parseDouble(rephrased.headers().firstValue("x-gatehouse-cache-similarity").orElseThrow());
        assertTrue(similarity >= 0.9 && similarity <= 1.0001, "similarity " + similarity);
        assertEquals(content(first), content(rephrased), "the first answer, replayed");
        assertEquals("cache", rephrased.headers().firstValue("x-gatehouse-backend").orElse(null));
        assertNotEquals("SEMANTIC-HIT", unrelated.headers().firstValue("x-gatehouse-cache").orElse(""));
        assertTrue(server.get("/metrics").body().contains("gatehouse_semantic_cache_lookups_total{result=\"hit\"}"));
    }

    @Test
    void aStreamedRequestIsServedFromAnAnswerStoredWhole() throws Exception {
        ask("How many legs does a spider have?", false);

        HttpResponse<String> streamed = ask("How many legs do spiders have?", true);

        assertEquals("SEMANTIC-HIT", streamed.headers().firstValue("x-gatehouse-cache").orElse(null));
        assertTrue(streamed.body().contains("data: [DONE]"), streamed.body());
    }
}
