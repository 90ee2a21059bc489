package dev.gatehouse.gateway.api.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.CacheConfig;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.plugin.GatehousePlugin;
import dev.gatehouse.gateway.plugin.Plugins;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.gateway.usage.Pricing;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecorder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Messages API request to an Anthropic target goes as the client wrote it, with its
 * anthropic-version and anthropic-beta headers, and the answer (whole or streamed) comes back as
 * Anthropic sent it: cache_control, thinking and redacted_thinking blocks, citations, is_error and
 * fields Gatehouse does not know all survive, while usage is still counted from the answer. Other
 * targets refuse what only Anthropic serves; with a plugin at work the request is translated; the
 * cache replays Anthropic's own answer.
 */
class AnthropicPassThroughTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Everything the internal form cannot say, in one request. */
    static final String BODY = """
            {"model":"claude","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},
             "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
             "tools":[{"name":"get_weather","description":"The weather.","input_schema":{"type":"object",
               "properties":{"city":{"type":"string"}}},"cache_control":{"type":"ephemeral","ttl":"1h"}}],
             "messages":[
              {"role":"user","content":"Weather in Paris?"},
              {"role":"assistant","content":[{"type":"thinking","thinking":"I should call the tool.","signature":"sig-1"},
               {"type":"redacted_thinking","data":"EmwKAhgBEgy3"},
               {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"timed out","is_error":true},
               {"type":"text","text":"Say hello then.","cache_control":{"type":"ephemeral"}}]}],
             "metadata":{"user_id":"u-42"},"service_tier":"auto","a_field_from_next_year":{"x":[1,2]}}""";

    @TempDir
    static Path dir;
    static MockAnthropic anthropic;
    static MockOpenAi openai;
    static LocalModels models;
    static UsageLog usage;
    static GatewayServer server;
    static AnthropicClient client;
    static final HttpClient http = HttpClient.newHttpClient();

    /** A plugin that changes nothing: still, with it at work no target is sent the client's own body. */
    static final class Watcher implements GatehousePlugin {
        @Override
        public String name() {
            return "watcher";
        }
    }

    @BeforeAll
    static void start() throws Exception {
        anthropic = new MockAnthropic();
        openai = new MockOpenAi();
        models = new LocalModels();
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  claude: {type: anthropic, base-url: %s, api-key: %s, retries: 0}
                  oai: {type: openai, base-url: %s, api-key: sk-x, retries: 0}
                models:
                  - name: claude
                    targets: [{provider: claude, model: claude-sonnet-4-5}]
                  - name: claude-watched
                    targets: [{provider: claude, model: claude-sonnet-4-5}]
                  - name: gpt
                    targets: [{provider: oai, model: gpt-4o-mini}]
                  - name: claude-or-gpt
                    targets: [{provider: claude, model: claude-sonnet-4-5}, {provider: oai, model: gpt-4o-mini}]
                """.formatted(anthropic.baseUrl(), MockAnthropic.KEY, openai.baseUrl()), Map.of());
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        usage = UsageLog.open(dir.resolve("usage.db"));
        server = GatewayServer.builder(models, registry).router(Router.of(config, models, registry))
                .usage(new UsageRecorder(Pricing.free(), usage, Clock.systemUTC(), registry))
                .cache(new CacheConfig(true, Duration.ofMinutes(5), 16L << 20, false))
                .plugins(Plugins.of(List.of(new Plugins.Active(new Watcher(), List.of("claude-watched")))))
                .maxBodyBytes(1 << 20).grace(Duration.ofSeconds(5)).start();
        client = AnthropicOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port()).apiKey("client-key")
                .maxRetries(0).timeout(Duration.ofSeconds(60)).responseValidation(true).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
        models.close();
        usage.close();
        anthropic.close();
        openai.close();
    }

    private static HttpResponse<String> post(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/messages"))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json").header("x-api-key", "client-key")
                .header("anthropic-version", "2023-06-01")
                .header("anthropic-beta", "interleaved-thinking-2025-05-14,extended-cache-ttl-2025-04-11")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode withModel(String body, String model) throws Exception {
        return ((ObjectNode) JSON.readTree(body)).put("model", model);
    }

    private static UsageLog.Summary usageOf(String backend) throws Exception {
        usage.flush();
        return usage.summary(Instant.EPOCH, Instant.now().plusSeconds(60), UsageLog.GroupBy.BACKEND).stream()
                .filter(s -> backend.equals(s.group())).findFirst().orElseThrow();
    }

    @Test
    void aWholeMessageGoesAndComesBackFieldForField() throws Exception {
        long before = anthropic.received().size();
        HttpResponse<String> res = post(BODY);
        assertEquals(200, res.statusCode(), res.body());
        assertEquals(before + 1, anthropic.received().size());
        MockAnthropic.Received sent = anthropic.received().getLast();
        assertEquals(withModel(BODY, "claude-sonnet-4-5"), sent.body(), "every field as the client wrote it");
        assertEquals("2023-06-01", sent.header("anthropic-version"));
        assertEquals("interleaved-thinking-2025-05-14,extended-cache-ttl-2025-04-11", sent.header("anthropic-beta"));
        assertEquals(MockAnthropic.KEY, sent.header("x-api-key"), "Gatehouse's key, never the client's");

        JsonNode message = JSON.readTree(res.body());
        assertEquals("msg_01Think", message.path("id").asText(), "Anthropic's own message");
        JsonNode content = message.path("content");
        assertEquals("thinking", content.get(0).path("type").asText());
        assertEquals(MockAnthropic.THOUGHT, content.get(0).path("thinking").asText());
        assertEquals("EqQBCgIYAhIM1gbcDa9GJwZA2b3h", content.get(0).path("signature").asText());
        assertEquals("redacted_thinking", content.get(1).path("type").asText());
        assertEquals("char_location", content.get(2).path("citations").get(0).path("type").asText());
        assertEquals(100, message.path("usage").path("cache_creation_input_tokens").asInt());
    }

    @Test
    void aStreamComesBackEventForEventAndIsStillMetered() throws Exception {
        usage.flush(); // earlier tests' rows, which the writer may still be gathering
        UsageLog.Summary before = usage.summary(Instant.EPOCH, Instant.now().plusSeconds(60), UsageLog.GroupBy.BACKEND)
                .stream().filter(s -> "claude:claude-sonnet-4-5".equals(s.group())).findFirst().orElse(null);
        HttpResponse<String> res = post(BODY.replace("\"max_tokens\":2048", "\"max_tokens\":2048,\"stream\":true"));
        assertEquals(200, res.statusCode(), res.body());
        assertTrue(anthropic.received().getLast().body().path("stream").asBoolean());
        List<String> deltas = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String line : res.body().split("\n")) {
            if (line.startsWith("event: ")) {
                names.add(line.substring(7));
            } else if (line.startsWith("data: ")) {
                JsonNode data = JSON.readTree(line.substring(6));
                assertEquals(names.getLast(), data.path("type").asText(), "each event named by its type");
                if (data.has("delta") && data.path("delta").has("type")) {
                    deltas.add(data.path("delta").path("type").asText());
                }
            }
        }
        assertEquals(List.of("message_start", "content_block_start", "content_block_delta", "content_block_delta",
                "content_block_stop", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                "message_delta", "message_stop"), names, "Anthropic's events, one for one (no ping of Gatehouse's)");
        assertEquals(List.of("thinking_delta", "signature_delta", "citations_delta", "text_delta"), deltas);

        // usage is counted from the stream: prompt tokens include the cached ones
        UsageLog.Summary after = usageOf("claude:claude-sonnet-4-5");
        long requests = after.requests() - (before == null ? 0 : before.requests());
        assertEquals(1, requests);
        assertEquals(12 + MockAnthropic.CACHE_TOKENS, after.promptTokens() - (before == null ? 0 : before.promptTokens()));
        assertEquals(40, after.completionTokens() - (before == null ? 0 : before.completionTokens()));
    }

    @Test
    void anErrorRightAfterTheOpeningEventStillFallsBack() throws Exception {
        anthropic.failNext(MockAnthropic.Fault.OVERLOADED_BEFORE_TEXT); // message_start, then overloaded_error
        HttpResponse<String> res = post("{\"model\":\"claude-or-gpt\",\"max_tokens\":64,\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        assertEquals(200, res.statusCode(), res.body());
        assertTrue(res.headers().firstValue("x-gatehouse-fallbacks").orElse("").startsWith("claude:claude-sonnet-4-5"),
                res.headers().map().toString());
        StringBuilder text = new StringBuilder();
        for (String line : res.body().split("\n")) {
            if (line.startsWith("data: ")) {
                JsonNode data = JSON.readTree(line.substring(6));
                assertFalse(data.path("type").asText().equals("error"), res.body());
                text.append(data.path("delta").path("text").asText(""));
            }
        }
        assertEquals(MockOpenAi.REPLY, text.toString(), "the next target's answer, and nothing of the first's");
    }

    @Test
    void aCachedAnswerReplaysAnthropicsOwnMessageAndEvents() throws Exception {
        String greedy = BODY.replace("\"max_tokens\":2048", "\"max_tokens\":2048,\"temperature\":0");
        for (String body : List.of(greedy, greedy.replace("\"temperature\":0", "\"temperature\":0,\"stream\":true"))) {
            long before = anthropic.received().size();
            HttpResponse<String> first = post(body);
            HttpResponse<String> again = post(body);
            assertEquals(before + 1, anthropic.received().size(), "the second answer came from the cache");
            assertEquals("HIT", again.headers().firstValue("x-gatehouse-cache").orElse(""));
            assertEquals(first.body(), again.body(), "the provider's own answer, replayed as it was");
            assertTrue(again.body().contains("EqQBCgIYAhIM1gbcDa9GJwZA2b3h"), again.body()); // the thinking signature
        }
    }

    @Test
    void theOfficialSdkSeesThinkingBlocksWholeAndStreamed() {
        MessageCreateParams params = MessageCreateParams.builder().model("claude").maxTokens(2048).enabledThinking(1024)
                .addUserMessage("Hi").putAdditionalHeader("anthropic-beta", "interleaved-thinking-2025-05-14").build();
        Message whole = client.messages().create(params);
        MessageAccumulator acc = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params)) {
            stream.stream().forEach(acc::accumulate);
        }
        for (Message m : List.of(whole, acc.message())) {
            ContentBlock thinking = m.content().getFirst();
            assertEquals(MockAnthropic.THOUGHT, thinking.thinking().orElseThrow().thinking());
            assertEquals("EqQBCgIYAhIM1gbcDa9GJwZA2b3h", thinking.thinking().orElseThrow().signature());
            assertEquals(MockAnthropic.REPLY, m.content().getLast().text().orElseThrow().text());
            assertFalse(m.content().getLast().text().orElseThrow().citations().orElseThrow().isEmpty());
        }
        assertEquals("interleaved-thinking-2025-05-14", anthropic.received().getLast().header("anthropic-beta"));
    }

    @Test
    void whatOnlyAnthropicServesIsRefusedElsewhereNamingTheField() throws Exception {
        HttpResponse<String> gpt = post(BODY.replace("\"model\":\"claude\"", "\"model\":\"gpt\""));
        assertEquals(400, gpt.statusCode(), gpt.body());
        JsonNode error = JSON.readTree(gpt.body()).path("error");
        assertEquals("invalid_request_error", error.path("type").asText());
        assertTrue(error.path("message").asText().startsWith("'thinking' cannot be served by this model"), gpt.body());

        // thinking blocks of earlier turns are Claude's notes: another model gets the turn without them
        String history = BODY.replace("\"model\":\"claude\"", "\"model\":\"gpt\"")
                .replace("\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":1024},", "");
        HttpResponse<String> noThinking = post(history);
        assertEquals(200, noThinking.statusCode(), noThinking.body());
        JsonNode toGpt = openai.received().getLast().body();
        JsonNode assistant = toGpt.path("messages").get(2);
        assertEquals("assistant", assistant.path("role").asText(), toGpt.toString());
        assertEquals("toolu_1", assistant.path("tool_calls").get(0).path("id").asText());
        assertFalse(toGpt.toString().contains("I should call the tool."));

        HttpResponse<String> disabled = post("{\"model\":\"gpt\",\"max_tokens\":64,\"thinking\":{\"type\":\"disabled\"},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        assertEquals(200, disabled.statusCode(), "thinking switched off asks nothing of the model: " + disabled.body());

        // a document block, say, is Anthropic's alone
        HttpResponse<String> document = post("""
                {"model":"gpt","max_tokens":64,"messages":[{"role":"user","content":[{"type":"document","source":
                 {"type":"text","media_type":"text/plain","data":"Hello."},"citations":{"enabled":true}},
                 {"type":"text","text":"Quote it."}]}]}""");
        assertEquals(400, document.statusCode(), document.body());
        assertTrue(JSON.readTree(document.body()).path("error").path("message").asText()
                .startsWith("'messages[0].content[0].type' cannot be served"), document.body());
    }

    @Test
    void withAPluginAtWorkTheRequestIsTranslatedAndStillSaysWhichStopSequenceEndedIt() throws Exception {
        String body = """
                {"model":"claude-watched","max_tokens":64,"stop_sequences":["END"," from"],
                 "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
                 "messages":[{"role":"user","content":"Hi"}]}""";
        HttpResponse<String> whole = post(body);
        assertEquals(200, whole.statusCode(), whole.body());
        JsonNode sent = anthropic.received().getLast().body();
        assertEquals("Be brief.", sent.path("system").asText(), "Gatehouse's translation, not the client's blocks");
        JsonNode message = JSON.readTree(whole.body());
        assertTrue(message.path("id").asText().startsWith("msg_") && !message.path("id").asText().equals("msg_01Stop"));
        assertEquals("Hello", message.path("content").get(0).path("text").asText());
        assertEquals("stop_sequence", message.path("stop_reason").asText());
        assertEquals(" from", message.path("stop_sequence").asText());

        HttpResponse<String> streamed = post(body.replace("\"max_tokens\":64", "\"max_tokens\":64,\"stream\":true"));
        assertTrue(streamed.body().contains("\"delta\":{\"stop_reason\":\"stop_sequence\",\"stop_sequence\":\" from\"}"),
                streamed.body());

        HttpResponse<String> thinking = post(BODY.replace("\"model\":\"claude\"", "\"model\":\"claude-watched\""));
        assertEquals(400, thinking.statusCode(), "translated, thinking cannot be said: " + thinking.body());
        assertTrue(thinking.body().contains("'thinking' cannot be served for this model: a plugin"), thinking.body());
    }
}
