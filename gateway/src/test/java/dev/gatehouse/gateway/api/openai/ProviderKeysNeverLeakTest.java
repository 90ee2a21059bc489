package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.gemini.MockGemini;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.server.GatewayServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Provider keys, from a file and from the environment, go to the providers and nowhere else: not
 * into a log line (Gatehouse's loggers at ALL), a response body or header, /v1/models or /metrics —
 * also when a provider fails, refuses the key with a 401 that quotes it, or cuts a stream.
 */
class ProviderKeysNeverLeakTest {
    static final List<String> KEYS = List.of(MockOpenAi.KEY, MockGemini.KEY, MockAnthropic.KEY);
    /** What would still give a key away if only part of it were printed. */
    static final List<String> FRAGMENTS = List.of("MOCK-abcdefghijklmnop", "0123456789");

    @TempDir
    Path dir;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    GatewayServer server;

    @Test
    void keysStayWithTheProviders() throws Exception {
        Path openAiKeyFile = dir.resolve("openai-key");
        Files.writeString(openAiKeyFile, MockOpenAi.KEY + "\n");
        List<String> leaks = new ArrayList<>();
        try (MockOpenAi openai = new MockOpenAi(); MockGemini gemini = new MockGemini(); MockAnthropic anthropic = new MockAnthropic();
             LocalModels models = new LocalModels()) {
            GatehouseConfig config = GatehouseConfig.parse("""
                    providers:
                      openai: {type: openai, base-url: %s, api-key-file: %s, timeout-ms: 2000, retries: 0}
                      gemini: {type: gemini, base-url: %s, api-key: ${GEMINI_API_KEY}, retries: 0}
                      claude: {type: anthropic, base-url: %s, api-key: ${ANTHROPIC_API_KEY}, retries: 0}
                    models:
                      - name: cloud
                        targets: [{provider: openai, model: gpt-4o-mini}, {provider: gemini, model: gemini-2.0-flash}]
                      - name: haiku
                        targets: [{provider: claude, model: claude-3-5-haiku-latest}, {provider: openai, model: gpt-4o-mini}]
                    """.formatted(openai.baseUrl(), openAiKeyFile, gemini.baseUrl(), anthropic.baseUrl()),
                    Map.of("GEMINI_API_KEY", MockGemini.KEY, "ANTHROPIC_API_KEY", MockAnthropic.KEY));
            PrometheusMeterRegistry registry = GatewayServer.newRegistry();
            server = GatewayServer.builder(models, registry).router(Router.of(config, models, registry))
                    .maxBodyBytes(1 << 20).grace(Duration.ofSeconds(5)).start();
            try (LogCapture logs = new LogCapture()) {
                List<HttpResponse<String>> responses = new ArrayList<>();
                responses.add(expect(200, chat("cloud", false)));
                responses.add(expect(200, chat("cloud", true)));
                responses.add(expect(200, chat("haiku", false)));

                openai.failNext(MockOpenAi.Fault.SERVER_ERROR);
                responses.add(expect(200, chat("cloud", false))); // gemini answers
                openai.failNext(MockOpenAi.Fault.BAD_KEY); // OpenAI's 401 quotes the key it was given
                responses.add(expect(200, chat("cloud", false)));
                openai.failNext(MockOpenAi.Fault.BAD_KEY);
                responses.add(expect(502, chat("openai/gpt-4o-mini", false)));
                openai.failNext(MockOpenAi.Fault.BAD_KEY);
                responses.add(expect(502, chat("openai/gpt-4o-mini", true)));
                gemini.failNext(MockGemini.Fault.BAD_KEY);
                responses.add(expect(502, chat("gemini/gemini-2.0-flash", false)));
                openai.failNext(MockOpenAi.Fault.STREAM_CUT);
                responses.add(expect(200, chat("openai/gpt-4o-mini", true))); // ends with an error event
                anthropic.failNext(MockAnthropic.Fault.OVERLOADED_IN_STREAM);
                responses.add(expect(200, chat("claude/claude-3-5-haiku-latest", true)));
                openai.failNext(MockOpenAi.Fault.SERVER_ERROR);
                gemini.failNext(MockGemini.Fault.OVERLOADED);
                responses.add(expect(503, chat("cloud", false)));
                responses.add(expect(200, get("/v1/models")));
                responses.add(expect(200, get("/metrics")));

                for (String secret : concat(KEYS, FRAGMENTS)) {
                    for (HttpResponse<String> r : responses) {
                        if (r.body().contains(secret) || r.headers().map().toString().contains(secret)) {
                            leaks.add(r.uri() + " answered with " + secret + ": " + r.body());
                        }
                    }
                    logs.containing(secret).forEach(line -> leaks.add("log: " + line));
                }
            } finally {
                server.close();
            }
            assertEquals("Bearer " + MockOpenAi.KEY, openai.received().getLast().header("Authorization"),
                    "the key from the file, trimmed, went where it belongs");
        }
        assertEquals(List.of(), leaks);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static HttpResponse<String> expect(int status, HttpResponse<String> response) {
        assertEquals(status, response.statusCode(), response.uri() + ": " + response.body());
        return response;
    }

    private HttpResponse<String> chat(String model, boolean stream) throws Exception {
        String json = "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"max_tokens\":5,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
