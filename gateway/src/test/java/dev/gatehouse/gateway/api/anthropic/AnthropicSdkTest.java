package dev.gatehouse.gateway.api.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.errors.BadRequestException;
import com.anthropic.errors.NotFoundException;
import com.anthropic.errors.PermissionDeniedException;
import com.anthropic.errors.RateLimitException;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.ContentBlockParam;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.Tool;
import com.anthropic.models.messages.ToolChoice;
import com.anthropic.models.messages.ToolChoiceAny;
import com.anthropic.models.messages.ToolResultBlockParam;
import com.anthropic.models.messages.ToolUseBlock;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.gemini.MockGemini;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.testing.TestModelFolder;
import dev.gatehouse.serving.text.ChatMessage;
import dev.gatehouse.serving.text.ChatTemplate;
import dev.gatehouse.serving.text.Tokenizer;
import dev.gatehouse.serving.text.TokenizerConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official Anthropic Java SDK against Gatehouse's /v1/messages, served by a local random-weight
 * model and routed to the mock OpenAI, Anthropic and Gemini providers: whole and streamed messages, a
 * tool-use round trip, count_tokens, stop sequences, and each error type in Anthropic's shape with its
 * HTTP status. (What an Anthropic target gets and sends unchanged: AnthropicPassThroughTest.)
 */
class AnthropicSdkTest {
    static final String MASTER = "sk-master-anthropic-test";
    static final String LOCAL = "tiny-llama";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static MockOpenAi openai;
    static MockAnthropic anthropic;
    static MockGemini gemini;
    static LocalModels models;
    static KeyStore keys;
    static GatewayServer server;
    static PrometheusMeterRegistry registry;
    static AnthropicClient client;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        openai = new MockOpenAi();
        anthropic = new MockAnthropic();
        gemini = new MockGemini();
        Path store = dir.resolve("model-store");
        TestModelFolder.llama().write(store.resolve(LOCAL));
        models = new LocalModels();
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  oai: {type: openai, base-url: %s, api-key: sk-x, retries: 0}
                  claude: {type: anthropic, base-url: %s, api-key: sk-ant-MOCK, retries: 0}
                  gem: {type: gemini, base-url: %s, api-key: k, retries: 0}
                models:
                  - name: gemini
                    targets: [{provider: gem, model: gemini-2.0-flash}]
                  - name: gpt
                    targets: [{provider: oai, model: gpt-4o-mini}]
                  - name: claude
                    targets: [{provider: claude, model: claude-sonnet-4-5}]
                """.formatted(openai.baseUrl(), anthropic.baseUrl(), gemini.baseUrl()), Map.of());
        keys = KeyStore.open(dir.resolve("gatehouse.db"));
        registry = GatewayServer.newRegistry();
        server = GatewayServer.builder(models, registry).router(Router.of(config, models, registry))
                .auth(new ApiAuth(MASTER, keys)).maxBodyBytes(1 << 20).grace(Duration.ofSeconds(5)).start();
        models.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults(), registry);
        client = sdk(MASTER);
    }

    static AnthropicClient sdk(String key) {
        return AnthropicOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port()).apiKey(key)
                .maxRetries(0).timeout(Duration.ofSeconds(60)).responseValidation(true).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
        models.close();
        keys.close();
        openai.close();
        anthropic.close();
        gemini.close();
    }

    private static MessageCreateParams.Builder ask(String model) {
        return MessageCreateParams.builder().model(model).maxTokens(8)
                .putAdditionalBodyProperty("temperature", JsonValue.from(0.0)).addUserMessage("Say hello.");
    }

    private static String text(Message m) {
        StringBuilder out = new StringBuilder();
        m.content().stream().flatMap(b -> b.text().stream()).forEach(t -> out.append(t.text()));
        return out.toString();
    }

    private static List<ToolUseBlock> toolUses(Message m) {
        return m.content().stream().flatMap(b -> b.toolUse().stream()).toList();
    }

    @Test
    void wholeMessagesFromEveryBackend() {
        Message gpt = client.messages().create(ask("gpt").system("Be brief.").build());
        assertEquals(MockOpenAi.REPLY, text(gpt));
        assertEquals(StopReason.END_TURN, gpt.stopReason().orElseThrow());
        assertTrue(gpt.id().startsWith("msg_"));
        assertEquals("gpt", gpt.model().asString());
        assertTrue(gpt.usage().inputTokens() > 0 && gpt.usage().outputTokens() > 0);
        JsonNode sent = openai.received().getLast().body();
        assertEquals("system", sent.path("messages").get(0).path("role").asText());
        assertEquals(8, sent.path("max_tokens").asInt(sent.path("max_completion_tokens").asInt()));

        assertEquals(MockAnthropic.REPLY, text(client.messages().create(ask("claude").build())));
        Message fromGemini = client.messages().create(ask("gemini").build());
        assertEquals("Hello from Gemini.", text(fromGemini));
        assertEquals(StopReason.END_TURN, fromGemini.stopReason().orElseThrow());
        client.messages().create(ask("gemini").system("Be brief.").build());
        assertEquals("Be brief.", gemini.received().getLast().body().path("systemInstruction").path("parts").get(0)
                .path("text").asText());

        Message local = client.messages().create(ask(LOCAL).build());
        assertEquals(StopReason.MAX_TOKENS, local.stopReason().orElseThrow(), "8 tokens of a random model run to the limit");
        assertEquals(8, local.usage().outputTokens());
        assertFalse(text(local).isEmpty());
        assertTrue(registry.scrape().contains("model=\"gpt\",route=\"/v1/messages\",status=\"200\""),
                "metered under the dialect's own route");
    }

    @Test
    void streamedMessagesAccumulateToTheWholeOne() {
        for (String model : List.of("gpt", "claude", "gemini", LOCAL)) {
            Message whole = client.messages().create(ask(model).build());
            MessageAccumulator acc = MessageAccumulator.create();
            try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(ask(model).build())) {
                stream.stream().forEach(acc::accumulate);
            }
            Message streamed = acc.message();
            assertEquals(text(whole), text(streamed), model);
            assertEquals(whole.stopReason(), streamed.stopReason(), model);
            assertEquals(whole.usage().outputTokens(), streamed.usage().outputTokens(), model);
        }
    }

    @Test
    void theStreamFollowsAnthropicsEventSequence() throws Exception {
        HttpResponse<String> res = post("/v1/messages", """
                {"model":"gpt","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"Hi"}]}""", "x-api-key", MASTER);
        assertEquals(200, res.statusCode());
        List<String> names = new ArrayList<>();
        for (String line : res.body().split("\n")) {
            if (line.startsWith("event: ")) {
                names.add(line.substring(7));
            }
        }
        assertEquals("message_start", names.getFirst());
        assertEquals(List.of("content_block_start", "ping", "content_block_delta"), names.subList(1, 4));
        assertEquals(List.of("content_block_stop", "message_delta", "message_stop"), names.subList(names.size() - 3, names.size()));
        assertTrue(res.body().contains("\"stop_reason\":\"end_turn\""));
    }

    private static Tool weatherTool() {
        return Tool.builder().name("get_weather").description("The current weather in a city.")
                .inputSchema(Tool.InputSchema.builder().properties(Tool.InputSchema.Properties.builder()
                        .putAdditionalProperty("city", JsonValue.from(Map.of("type", "string")))
                        .putAdditionalProperty("unit", JsonValue.from(Map.of("type", "string"))).build())
                        .required(List.of("city")).build()).build();
    }

    @Test
    void aToolUseRoundTripThroughOpenAiAndAnthropicTargets() {
        for (String model : List.of("gpt", "claude", "gemini")) {
            MessageCreateParams.Builder first = MessageCreateParams.builder().model(model).maxTokens(256)
                    .addUserMessage("Weather in Paris and Tokyo?").addTool(weatherTool())
                    .toolChoice(ToolChoice.ofAny(ToolChoiceAny.builder().build()));
            Message asked = client.messages().create(first.build());
            assertEquals(StopReason.TOOL_USE, asked.stopReason().orElseThrow(), model);
            List<ToolUseBlock> uses = toolUses(asked);
            List<List<String>> expected = switch (model) {
                case "gpt" -> MockOpenAi.CALLS;
                case "claude" -> MockAnthropic.CALLS;
                default -> MockGemini.CALLS.stream().map(c -> List.of("", c.get(0), c.get(1))).toList(); // Gemini gives no ids
            };
            assertEquals(expected.size(), uses.size(), model);
            for (int i = 0; i < uses.size(); i++) {
                if (!model.equals("gemini")) {
                    assertEquals(expected.get(i).get(0), uses.get(i).id());
                }
                assertEquals(expected.get(i).get(1), uses.get(i).name());
                assertEquals(JsonValue.from(parse(expected.get(i).get(2))), uses.get(i)._input());
            }
            if (model.equals("gpt")) {
                JsonNode sent = openai.received().getLast().body();
                assertEquals("required", sent.path("tool_choice").asText());
                assertEquals("get_weather", sent.path("tools").get(0).path("function").path("name").asText());
                assertEquals("object", sent.path("tools").get(0).path("function").path("parameters").path("type").asText());
            }

            // the streamed answer assembles to the same calls
            MessageAccumulator acc = MessageAccumulator.create();
            try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(first.build())) {
                stream.stream().forEach(acc::accumulate);
            }
            List<ToolUseBlock> streamed = toolUses(acc.message());
            if (!model.equals("gemini")) { // Gemini's ids are made up per answer
                assertEquals(uses.stream().map(ToolUseBlock::id).toList(), streamed.stream().map(ToolUseBlock::id).toList());
            }
            assertEquals(uses.stream().map(ToolUseBlock::_input).toList(), streamed.stream().map(ToolUseBlock::_input).toList());

            List<ContentBlockParam> results = uses.stream().map(u -> ContentBlockParam.ofToolResult(ToolResultBlockParam
                    .builder().toolUseId(u.id()).content(u._input().toString().contains("Paris") ? "sunny, 21°C" : "rainy, 14°C")
                    .build())).toList();
            Message answer = client.messages().create(first.addMessage(asked.toParam())
                    .addUserMessageOfContentBlockParams(results).build());
            assertEquals(MockOpenAi.TOOL_ANSWER, text(answer), model); // every mock answers the same
            assertEquals(StopReason.END_TURN, answer.stopReason().orElseThrow());
        }
        JsonNode toClaude = anthropic.received().getLast().body().path("messages");
        assertEquals("tool_use", toClaude.get(1).path("content").get(toClaude.get(1).path("content").size() - 1).path("type").asText());
        assertEquals("tool_result", toClaude.get(2).path("content").get(0).path("type").asText());
    }

    @Test
    void aLocalModelSaysWhichStopSequenceEndedItsAnswer() {
        String full = text(client.messages().create(ask(LOCAL).maxTokens(12).build())); // greedy: the same text again
        assertTrue(full.length() >= 4, full);
        String stop = full.substring(full.length() / 2, full.length() / 2 + 2);
        Message stopped = client.messages().create(ask(LOCAL).maxTokens(12).stopSequences(List.of("\u0000never", stop)).build());
        assertEquals(StopReason.STOP_SEQUENCE, stopped.stopReason().orElseThrow(), full + " / " + stop);
        assertEquals(stop, stopped.stopSequence().orElseThrow());
        assertEquals(full.substring(0, full.indexOf(stop)), text(stopped), "the text before it, without it");

        MessageAccumulator acc = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(ask(LOCAL).maxTokens(12)
                .stopSequences(List.of(stop)).build())) {
            stream.stream().forEach(acc::accumulate);
        }
        assertEquals(StopReason.STOP_SEQUENCE, acc.message().stopReason().orElseThrow());
        assertEquals(stop, acc.message().stopSequence().orElseThrow());
    }

    @Test
    void anAnthropicTargetSaysWhichStopSequenceEndedItsAnswer() {
        Message stopped = client.messages().create(ask("claude").stopSequences(List.of(" from")).build());
        assertEquals(StopReason.STOP_SEQUENCE, stopped.stopReason().orElseThrow());
        assertEquals(" from", stopped.stopSequence().orElseThrow());
        assertEquals("Hello", text(stopped));
    }

    private static Object parse(String json) {
        try {
            return JSON.readValue(json, Map.class);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void countTokensIsExactForLocalModelsAndAnEstimateForProviders() {
        long local = client.messages().countTokens(MessageCountTokensParams.builder().model(LOCAL).system("Be brief.")
                .addUserMessage("How many tokens is this?").build()).inputTokens();
        int expected;
        Path folder = dir.resolve("model-store").resolve(LOCAL);
        try (Tokenizer tokenizer = Tokenizer.load(folder)) {
            String rendered = ChatTemplate.of("test", TokenizerConfig.load(folder)).render(List.of(
                    new ChatMessage("system", "Be brief."), new ChatMessage("user", "How many tokens is this?")), true);
            expected = tokenizer.encode(rendered, false).length;
        }
        assertEquals(expected, local);

        long cloud = client.messages().countTokens(MessageCountTokensParams.builder().model("claude")
                .addUserMessage("How many tokens is this?").build()).inputTokens();
        assertEquals(("user".length() + "How many tokens is this?".length() + 3) / 4, cloud, "characters / 4");
        assertThrows(NotFoundException.class, () -> client.messages().countTokens(MessageCountTokensParams.builder()
                .model("no-such-model").addUserMessage("x").build()));
    }

    @Test
    void badInputIsA400NamingTheField() throws Exception {
        assertBad("{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}", "max_tokens");
        assertBad("""
                {"model":"gpt","max_tokens":5,"messages":[{"role":"user","content":[
                 {"type":"tool_result","tool_use_id":"toolu_x","content":"42"}]}]}""", "messages[0].content[0].tool_use_id");
        assertBad("""
                {"model":"gpt","max_tokens":5,"messages":[{"role":"user","content":[{"type":"video","url":"x"}]}]}""",
                "messages[0].content[0].type");
        assertBad("""
                {"model":"gpt","max_tokens":5,"tool_choice":{"type":"sometimes"},"messages":[{"role":"user","content":"Hi"}]}""",
                "tool_choice.type");
        assertBad("{\"model\":\"gpt\",\"max_tokens\":5,\"temperature\":1.5,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
                "temperature");
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.messages().create(MessageCreateParams
                .builder().model("gpt").maxTokens(5).addAssistantMessage("Hi").addUserMessageOfContentBlockParams(List.of(
                        ContentBlockParam.ofToolResult(ToolResultBlockParam.builder().toolUseId("toolu_x").content("42").build())))
                .build()));
        assertTrue(e.getMessage().contains("tool_use_id"), e.getMessage());
    }

    private static void assertBad(String body, String field) throws Exception {
        HttpResponse<String> res = post("/v1/messages", body, "x-api-key", MASTER);
        assertEquals(400, res.statusCode(), res.body());
        JsonNode error = JSON.readTree(res.body());
        assertEquals("error", error.path("type").asText());
        assertEquals("invalid_request_error", error.path("error").path("type").asText());
        assertTrue(error.path("error").path("message").asText().contains(field), res.body());
    }

    @Test
    void everyErrorTypeComesInAnthropicsShape() throws Exception {
        AnthropicClient stranger = sdk("sk-wrong");
        assertThrows(UnauthorizedException.class, () -> stranger.messages().create(ask("gpt").build()));
        stranger.close();
        assertErrorType(post("/v1/messages", "{}", "x-api-key", "sk-wrong"), 401, "authentication_error");

        String gptOnly = keys.create(new KeyStore.Spec("gpt-only", List.of("gpt"), 1, null, null, null, null, null)).key();
        AnthropicClient limited = sdk(gptOnly);
        assertThrows(PermissionDeniedException.class, () -> limited.messages().create(ask("claude").build()));
        assertErrorType(post("/v1/messages", "{\"model\":\"claude\"}", "x-api-key", gptOnly), 403, "permission_error");
        limited.messages().create(ask("gpt").build());
        assertThrows(RateLimitException.class, () -> limited.messages().create(ask("gpt").build()));
        assertErrorType(post("/v1/messages", "{\"model\":\"gpt\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Hi\"}]}", "x-api-key", gptOnly), 429, "rate_limit_error");
        limited.close();
        NotFoundException notFound = assertThrows(NotFoundException.class, () -> client.messages().create(ask("nope").build()));
        assertEquals(404, notFound.statusCode());
        assertErrorType(post("/v1/messages", "{\"model\":\"nope\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Hi\"}]}", "x-api-key", MASTER), 404, "not_found_error");

        anthropic.failNext(MockAnthropic.Fault.OVERLOADED);
        AnthropicServiceException overloaded = assertThrows(AnthropicServiceException.class,
                () -> client.messages().create(ask("claude").build()));
        assertEquals(503, overloaded.statusCode());
        assertTrue(overloaded.getMessage().contains("overloaded_error"), overloaded.getMessage());
        anthropic.failNext(MockAnthropic.Fault.OVERLOADED);
        assertErrorType(post("/v1/messages", HI.replace("gpt", "claude"), "x-api-key", MASTER), 503, "overloaded_error");
        anthropic.failNext(MockAnthropic.Fault.SERVER_ERROR);
        assertErrorType(post("/v1/messages", HI.replace("gpt", "claude"), "x-api-key", MASTER), 500, "api_error");
        anthropic.failNext(MockAnthropic.Fault.BAD_REQUEST);
        assertErrorType(post("/v1/messages", HI.replace("gpt", "claude"), "x-api-key", MASTER), 400, "invalid_request_error");
        assertErrorType(post("/v1/messages", "{\"model\":\"gpt\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"" + "x".repeat(2 << 20) + "\"}]}", "x-api-key", MASTER), 413, "request_too_large");

        // Bearer works as well as x-api-key
        assertEquals(200, post("/v1/messages", "{\"model\":\"gpt\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Hi\"}]}", "Authorization", "Bearer " + MASTER).statusCode());
    }

    @Test
    void anErrorAfterTheStreamStartedIsAnErrorEvent() throws Exception {
        anthropic.failNext(MockAnthropic.Fault.OVERLOADED_IN_STREAM);
        HttpResponse<String> res = post("/v1/messages", """
                {"model":"claude","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"Hi"}]}""", "x-api-key", MASTER);
        assertEquals(200, res.statusCode());
        assertTrue(res.body().startsWith("event: message_start"), res.body());
        assertTrue(res.body().contains("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"), res.body());
        assertFalse(res.body().contains("message_stop"), res.body());
    }

    private static final String HI = "{\"model\":\"gpt\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";

    private static void assertErrorType(HttpResponse<String> res, int status, String type) throws Exception {
        assertEquals(status, res.statusCode(), res.body());
        assertEquals(type, JSON.readTree(res.body()).path("error").path("type").asText(), res.body());
    }

    private static HttpResponse<String> post(String path, String body, String header, String value) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json").header(header, value)
                .header("anthropic-version", "2023-06-01").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
