package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.config.CacheConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The response cache through HTTP: what a client sees on a hit, a miss and a bypass, as JSON and as a stream. */
class CacheApiTest {
    private static final String CHAT = "/v1/chat/completions";
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir, (s, registry) -> s.cache(new CacheConfig(true, Duration.ofMinutes(5), 1L << 20, false)));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** A chat body; {@code extra} is more JSON fields, e.g. {@code "temperature":0}. */
    private static String chat(String content, String extra) {
        return "{\"model\":\"" + TestServer.MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content
                + "\"}],\"max_tokens\":5," + extra + "}";
    }

    private static HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r;
    }

    private static String cache(HttpResponse<String> r) {
        return r.headers().firstValue("x-gatehouse-cache").orElse("(none)");
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return OpenAiJson.MAPPER.readTree(r.body());
    }

    private static String content(HttpResponse<String> r) throws Exception {
        return json(r).path("choices").get(0).path("message").path("content").asText();
    }

    /** A counter of the Prometheus scrape, e.g. {@code gatehouse_engine_prompt_tokens_total{model="tiny-llama"}}. */
    private static double metric(String nameAndLabels) throws Exception {
        String scrape = server.get("/metrics").body();
        Matcher m = Pattern.compile("^" + Pattern.quote(nameAndLabels) + " (\\S+)$", Pattern.MULTILINE).matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private static double promptTokensComputed() throws Exception {
        return metric("gatehouse_engine_prompt_tokens_total{model=\"" + TestServer.MODEL + "\"}");
    }

    /** The data payloads of an SSE body, checking its framing. */
    private static List<String> events(String body) {
        List<String> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            assertTrue(block.startsWith("data: "), "an SSE data line: " + block);
            out.add(block.substring("data: ".length()));
        }
        return out;
    }

    @Test
    void aSecondIdenticalGreedyRequestIsAHitWithTheSameAnswerAndNoGeneration() throws Exception {
        String body = chat("t1 t2 t3", "\"temperature\":0");
        HttpResponse<String> first = post(CHAT, body);
        assertEquals("MISS", cache(first));
        assertEquals("local:" + TestServer.MODEL, first.headers().firstValue("x-gatehouse-backend").orElse(""));

        double computed = promptTokensComputed();
        HttpResponse<String> second = post(CHAT, body);
        assertEquals("HIT", cache(second));
        assertEquals("cache", second.headers().firstValue("x-gatehouse-backend").orElse(""));
        assertEquals(computed, promptTokensComputed(), "the engine did not run");
        assertEquals(content(first), content(second));
        assertEquals(json(first).path("usage"), json(second).path("usage"));
        assertEquals(json(first).path("choices").get(0).path("finish_reason"),
                json(second).path("choices").get(0).path("finish_reason"));
        assertNotEquals(json(first).path("id").asText(), json(second).path("id").asText(), "each response its own id");
        assertTrue(metric("gatehouse_cache_requests_total{result=\"hit\"}") >= 1);
    }

    @Test
    void aSampledRequestWithoutSeedIsNeverCachedButASeededOneIs() throws Exception {
        String sampled = chat("t4 t5", "\"temperature\":0.9");
        assertEquals("BYPASS", cache(post(CHAT, sampled)));
        assertEquals("BYPASS", cache(post(CHAT, sampled)));

        String seeded = chat("t4 t5", "\"temperature\":0.9,\"seed\":7");
        HttpResponse<String> first = post(CHAT, seeded);
        assertEquals("MISS", cache(first));
        HttpResponse<String> second = post(CHAT, seeded);
        assertEquals("HIT", cache(second));
        assertEquals(content(first), content(second));
        assertTrue(metric("gatehouse_cache_requests_total{result=\"bypass\"}") >= 2);
    }

    @Test
    void noCacheAsksForAFreshAnswerAndKeepsIt() throws Exception {
        String body = chat("t6 t7", "\"temperature\":0");
        double computed = promptTokensComputed();
        assertEquals("BYPASS", cache(post(CHAT, body, "Cache-Control", "no-cache")));
        assertTrue(promptTokensComputed() > computed, "generated afresh");
        assertEquals("HIT", cache(post(CHAT, body)), "the fresh answer was stored");
        assertEquals("BYPASS", cache(post(CHAT, body, "Cache-Control", "no-cache")));
    }

    @Test
    void noStoreNeitherReadsNorWrites() throws Exception {
        String body = chat("t8 t9", "\"temperature\":0");
        assertEquals("BYPASS", cache(post(CHAT, body, "Cache-Control", "no-store")));
        assertEquals("MISS", cache(post(CHAT, body)), "nothing was stored");
        assertEquals("BYPASS", cache(post(CHAT, body, "Cache-Control", "no-store")), "nor read");
    }

    @Test
    void aDifferentMaxTokensIsAMiss() throws Exception {
        String five = chat("t10 t11", "\"temperature\":0");
        assertEquals("MISS", cache(post(CHAT, five)));
        String three = five.replace("\"max_tokens\":5", "\"max_tokens\":3");
        assertEquals("MISS", cache(post(CHAT, three)));
        assertEquals("HIT", cache(post(CHAT, three)));
    }

    @Test
    void aStreamingRequestAfterAJsonOneReplaysAsAValidStream() throws Exception {
        HttpResponse<String> whole = post(CHAT, chat("t12 t13", "\"temperature\":0"));
        assertEquals("MISS", cache(whole));

        HttpResponse<String> streamed = post(CHAT, chat("t12 t13",
                "\"temperature\":0,\"stream\":true,\"stream_options\":{\"include_usage\":true}"));
        assertEquals("HIT", cache(streamed));
        assertTrue(streamed.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> events = events(streamed.body());
        assertEquals("[DONE]", events.getLast());
        StringBuilder text = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode chunk = OpenAiJson.MAPPER.readTree(e);
            assertEquals("chat.completion.chunk", chunk.path("object").asText());
            assertNotEquals(json(whole).path("id").asText(), chunk.path("id").asText());
            if (chunk.path("choices").isEmpty()) {
                usage = chunk.path("usage");
                continue;
            }
            JsonNode choice = chunk.path("choices").get(0);
            text.append(choice.path("delta").path("content").asText(""));
            if (!choice.path("finish_reason").isNull()) {
                finish = choice.path("finish_reason").asText();
            }
        }
        assertEquals(content(whole), text.toString());
        assertEquals(json(whole).path("choices").get(0).path("finish_reason").asText(), finish);
        assertEquals(json(whole).path("usage"), usage);
    }

    @Test
    void aStreamedAnswerFillsTheCacheForJsonAndLegacyCompletionsToo() throws Exception {
        HttpResponse<String> streamed = post(CHAT, chat("t14 t15", "\"temperature\":0,\"stream\":true"));
        assertEquals("MISS", cache(streamed));
        assertEquals("[DONE]", events(streamed.body()).getLast());
        assertEquals("HIT", cache(post(CHAT, chat("t14 t15", "\"temperature\":0"))));

        String legacy = "{\"model\":\"" + TestServer.MODEL + "\",\"prompt\":\"t16 t17\",\"max_tokens\":4,\"temperature\":0}";
        HttpResponse<String> first = post("/v1/completions", legacy);
        assertEquals("MISS", cache(first));
        HttpResponse<String> second = post("/v1/completions", legacy);
        assertEquals("HIT", cache(second));
        assertEquals(json(first).path("choices").get(0).path("text"), json(second).path("choices").get(0).path("text"));
        assertEquals("text_completion", json(second).path("object").asText());
    }

    @Test
    void anUnloadedOrReloadedModelsAnswersAreForgotten() throws Exception {
        String body = chat("forget me", "\"temperature\":0");
        post(CHAT, body);
        assertEquals("HIT", cache(post(CHAT, body)));
        server.models().unload(TestServer.MODEL, 5_000, server.registry());
        try {
            HttpResponse<String> gone = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + CHAT))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(404, gone.statusCode(), "an unloaded model is not answered from the cache: " + gone.body());
        } finally {
            server.load(); // other tests of this class share the server
        }
        assertEquals("MISS", cache(post(CHAT, body)), "the reloaded model answers afresh");
    }
}
