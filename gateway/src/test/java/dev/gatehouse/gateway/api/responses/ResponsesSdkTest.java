package dev.gatehouse.gateway.api.responses;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.helpers.ResponseAccumulator;
import com.openai.models.responses.EasyInputMessage;
import com.openai.models.responses.FunctionTool;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseFormatTextJsonSchemaConfig;
import com.openai.models.responses.ResponseFunctionToolCall;
import com.openai.models.responses.ResponseInputItem;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import com.openai.models.responses.ResponseTextConfig;
import com.openai.models.responses.ToolChoiceOptions;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.gemini.MockGemini;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.usage.Pricing;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecorder;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.testing.TestModelFolder;
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
 * The official OpenAI Java SDK's Responses API against Gatehouse's stateless /v1/responses, served by
 * a local random-weight model and routed to the mock OpenAI, Anthropic and Gemini providers: text,
 * streamed text, a function call round trip, json_schema output, and bad input; and the request and
 * its stream passed to an OpenAI target with the Responses API unchanged, its usage still counted.
 */
class ResponsesSdkTest {
    static final String LOCAL = "tiny-llama";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static MockOpenAi openai;
    static MockAnthropic anthropic;
    static MockGemini gemini;
    static UsageLog usage;
    static LocalModels models;
    static GatewayServer server;
    static PrometheusMeterRegistry registry;
    static OpenAIClient client;

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
                  oai: {type: openai, base-url: %1$s, api-key: sk-x, retries: 0, responses-api: false}
                  oai-responses: {type: openai, base-url: %1$s, api-key: sk-x, retries: 0}
                  claude: {type: anthropic, base-url: %2$s, api-key: sk-ant-MOCK, retries: 0}
                  gem: {type: gemini, base-url: %3$s, api-key: k, retries: 0}
                models:
                  - name: gpt
                    targets: [{provider: oai, model: gpt-4o-mini}]
                  - name: gpt-direct
                    targets: [{provider: oai-responses, model: gpt-5-mini}]
                  - name: claude
                    targets: [{provider: claude, model: claude-sonnet-4-5}]
                  - name: gemini
                    targets: [{provider: gem, model: gemini-2.0-flash}]
                """.formatted(openai.baseUrl(), anthropic.baseUrl(), gemini.baseUrl()), Map.of());
        registry = GatewayServer.newRegistry();
        usage = UsageLog.open(dir.resolve("usage.db"));
        server = GatewayServer.builder(models, registry).router(Router.of(config, models, registry))
                .usage(new UsageRecorder(Pricing.free(), usage, Clock.systemUTC(), registry))
                .maxBodyBytes(1 << 20).grace(Duration.ofSeconds(5)).start();
        models.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults(), registry);
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("client-key")
                .maxRetries(0).timeout(Duration.ofSeconds(60)).responseValidation(true).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
        models.close();
        openai.close();
        anthropic.close();
        gemini.close();
        usage.close();
    }

    private static ResponseCreateParams.Builder ask(String model) {
        return ResponseCreateParams.builder().model(model).input("Say hello.").instructions("Be brief.")
                .maxOutputTokens(8).temperature(0.0);
    }

    private static String text(Response r) {
        StringBuilder out = new StringBuilder();
        r.output().forEach(item -> item.message().ifPresent(m -> m.content()
                .forEach(c -> c.outputText().ifPresent(t -> out.append(t.text())))));
        return out.toString();
    }

    private static Response streamed(ResponseCreateParams params) {
        ResponseAccumulator acc = ResponseAccumulator.create();
        try (StreamResponse<ResponseStreamEvent> stream = client.responses().createStreaming(params)) {
            stream.stream().forEach(acc::accumulate);
        }
        return acc.response();
    }

    @Test
    void textFromEveryBackendWholeAndStreamed() {
        Response gpt = client.responses().create(ask("gpt").build());
        assertEquals(MockOpenAi.REPLY, text(gpt));
        assertEquals(ResponseStatus.COMPLETED, gpt.status().orElseThrow());
        assertTrue(gpt.id().startsWith("resp_"));
        assertTrue(gpt.usage().orElseThrow().totalTokens() > 0);
        JsonNode sent = openai.received().getLast().body();
        assertEquals("system", sent.path("messages").get(0).path("role").asText());
        assertEquals("Be brief.", sent.path("messages").get(0).path("content").asText());

        assertEquals(MockAnthropic.REPLY, text(client.responses().create(ask("claude").build())));
        assertEquals("Hello from Gemini.", text(client.responses().create(ask("gemini").build())));

        Response local = client.responses().create(ask(LOCAL).build());
        assertEquals(ResponseStatus.INCOMPLETE, local.status().orElseThrow(), "8 tokens of a random model run to the limit");
        assertEquals(8, local.usage().orElseThrow().outputTokens());
        assertTrue(registry.scrape().contains("model=\"gpt\",route=\"/v1/responses\",status=\"200\""),
                "metered under the dialect's own route");

        for (String model : List.of("gpt", "claude", "gemini", "gpt-direct", LOCAL)) {
            Response whole = client.responses().create(ask(model).build());
            Response stream = streamed(ask(model).build());
            assertEquals(text(whole), text(stream), model);
            assertEquals(whole.status(), stream.status(), model);
        }
    }

    @Test
    void theStreamIsTheNamedEventsInSequence() throws Exception {
        HttpResponse<String> res = post("""
                {"model":"gpt","input":"Hi","stream":true}""");
        assertEquals(200, res.statusCode());
        List<String> types = new ArrayList<>();
        int expected = 0;
        for (String line : res.body().split("\n")) {
            if (line.startsWith("data: ")) {
                JsonNode event = JSON.readTree(line.substring(6));
                types.add(event.path("type").asText());
                assertEquals(expected++, event.path("sequence_number").asInt());
            }
        }
        assertEquals(List.of("response.created", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta"), types.subList(0, 4));
        assertEquals(List.of("response.output_text.done", "response.content_part.done", "response.output_item.done",
                "response.completed"), types.subList(types.size() - 4, types.size()));
    }

    private static FunctionTool weatherTool() {
        return FunctionTool.builder().name("get_weather").description("The current weather in a city.").strict(false)
                .parameters(FunctionTool.Parameters.builder().putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                        .build()).build();
    }

    @Test
    void aFunctionCallRoundTrip() {
        for (String model : List.of("gpt", "claude", "gemini", "gpt-direct")) {
            ResponseCreateParams.Builder first = ResponseCreateParams.builder().model(model).maxOutputTokens(256)
                    .input("Weather in Paris and Tokyo?").addTool(weatherTool()).toolChoice(ToolChoiceOptions.REQUIRED);
            Response asked = client.responses().create(first.build());
            List<ResponseFunctionToolCall> calls = asked.output().stream().flatMap(i -> i.functionCall().stream()).toList();
            List<String> arguments = switch (model) {
                case "claude" -> MockAnthropic.CALLS.stream().map(c -> c.get(2)).toList();
                case "gemini" -> MockGemini.CALLS.stream().map(c -> c.get(1)).toList();
                default -> MockOpenAi.CALLS.stream().map(c -> c.get(2)).toList();
            };
            assertEquals(arguments, calls.stream().map(ResponseFunctionToolCall::arguments).toList(), model);
            if (!model.equals("gemini")) { // Gemini's calls have no ids: Gatehouse makes them
                List<List<String>> expected = model.equals("claude") ? MockAnthropic.CALLS : MockOpenAi.CALLS;
                assertEquals(expected.stream().map(c -> c.get(0)).toList(),
                        calls.stream().map(ResponseFunctionToolCall::callId).toList(), model);
            }

            List<ResponseFunctionToolCall> streamedCalls = streamed(first.build()).output().stream()
                    .flatMap(i -> i.functionCall().stream()).toList();
            assertEquals(calls.stream().map(ResponseFunctionToolCall::arguments).toList(),
                    streamedCalls.stream().map(ResponseFunctionToolCall::arguments).toList(), model);

            List<ResponseInputItem> input = new ArrayList<>();
            input.add(ResponseInputItem.ofEasyInputMessage(EasyInputMessage.builder().role(EasyInputMessage.Role.USER)
                    .content("Weather in Paris and Tokyo?").build()));
            calls.forEach(call -> input.add(ResponseInputItem.ofFunctionCall(call))); // the response's output, then the results
            for (ResponseFunctionToolCall call : calls) {
                input.add(ResponseInputItem.ofFunctionCallOutput(ResponseInputItem.FunctionCallOutput.builder()
                        .callId(call.callId()).output(call.arguments().contains("Paris") ? "sunny, 21°C" : "rainy, 14°C").build()));
            }
            Response answer = client.responses().create(ResponseCreateParams.builder().model(model).maxOutputTokens(256)
                    .inputOfResponse(input).addTool(weatherTool()).build());
            assertEquals(MockOpenAi.TOOL_ANSWER, text(answer), model); // every mock says the same
        }
        JsonNode sent = openai.received().stream().map(r -> r.body()).filter(b -> b.path("messages").size() > 2)
                .reduce((a, b) -> b).orElseThrow();
        assertEquals("assistant", sent.path("messages").get(1).path("role").asText());
        assertEquals(2, sent.path("messages").get(1).path("tool_calls").size(), "both calls in one assistant turn");
        assertEquals("tool", sent.path("messages").get(2).path("role").asText());
    }

    @Test
    void anOpenAiTargetWithTheResponsesApiGetsTheRequestAndSendsItsStreamUnchanged() throws Exception {
        String body = """
                {"model":"gpt-direct","input":[{"role":"user","content":[{"type":"input_text","text":"Hi"}]},
                 {"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAAAB"}],
                 "tools":[{"type":"web_search_preview"}],"reasoning":{"effort":"low","summary":"auto"},
                 "include":["reasoning.encrypted_content"],"store":false,"service_tier":"flex"}""";
        HttpResponse<String> whole = post(body);
        assertEquals(200, whole.statusCode(), whole.body());
        MockOpenAi.Received sent = openai.received().getLast();
        assertEquals("/v1/responses", sent.path());
        JsonNode expected = JSON.readTree(body);
        ((com.fasterxml.jackson.databind.node.ObjectNode) expected).put("model", "gpt-5-mini");
        assertEquals(expected, sent.body(), "every field as the client sent it, with the provider's model name");
        JsonNode answer = JSON.readTree(whole.body());
        assertEquals("resp_68af4030592c81938ec0a5fbab4a3e9f", answer.path("id").asText(), "OpenAI's own response");
        assertEquals("reasoning", answer.path("output").get(0).path("type").asText());

        HttpResponse<String> streamed = post(body.replace("\"store\":false", "\"store\":false,\"stream\":true"));
        assertEquals(200, streamed.statusCode(), streamed.body());
        assertTrue(openai.received().getLast().body().path("stream").asBoolean());
        List<Integer> sequence = new ArrayList<>();
        for (String line : streamed.body().split("\n")) {
            if (line.startsWith("data: ")) {
                sequence.add(JSON.readTree(line.substring(6)).path("sequence_number").asInt());
            }
        }
        assertEquals(sequence.size(), sequence.stream().distinct().count());
        assertTrue(streamed.body().contains("\"type\":\"reasoning\""), "OpenAI's events, not Gatehouse's");

        // usage is still counted, from OpenAI's own numbers: 36 prompt and 87 completion tokens each
        usage.flush();
        UsageLog.Summary row = usage.summary(Instant.EPOCH, Instant.now().plusSeconds(60), UsageLog.GroupBy.BACKEND)
                .stream().filter(s -> "oai-responses:gpt-5-mini".equals(s.group())).findFirst().orElseThrow();
        assertEquals(36 * row.requests(), row.promptTokens());
        assertEquals(87 * row.requests(), row.completionTokens());

        // a built-in tool is OpenAI's: other targets refuse it, naming the field
        HttpResponse<String> elsewhere = post(body.replace("gpt-direct", "claude"));
        assertEquals(400, elsewhere.statusCode(), elsewhere.body());
        assertEquals("tools[0].type", JSON.readTree(elsewhere.body()).path("error").path("param").asText());
    }

    @Test
    void jsonSchemaOutput() {
        Response r = client.responses().create(ResponseCreateParams.builder().model("gpt").input("Weather as JSON.")
                .text(ResponseTextConfig.builder().format(ResponseFormatTextJsonSchemaConfig.builder().name("weather")
                        .schema(ResponseFormatTextJsonSchemaConfig.Schema.builder()
                                .putAdditionalProperty("type", JsonValue.from("object")).build()).strict(true).build())
                        .build()).build());
        assertEquals(MockOpenAi.JSON_REPLY, text(r));
        JsonNode format = openai.received().getLast().body().path("response_format");
        assertEquals("json_schema", format.path("type").asText());
        assertEquals("weather", format.path("json_schema").path("name").asText());
    }

    @Test
    void badInputIsA400NamingTheField() throws Exception {
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.responses().create(ask("gpt")
                .previousResponseId("resp_123").build()));
        assertEquals("previous_response_id", e.param().orElseThrow());
        assertBad("{\"model\":\"gpt\",\"input\":[{\"type\":\"reasoning_trace\",\"text\":\"x\"}]}", "input[0].type");
        assertBad("{\"model\":\"gpt\",\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c1\",\"output\":\"x\"}]}",
                "input[0].call_id");
        assertBad("{\"model\":\"gpt\"}", "input");
        assertBad("{\"model\":\"gpt\",\"input\":\"x\",\"tools\":[{\"type\":\"web_search\"}]}", "tools[0].type");
        assertThrows(NotFoundException.class, () -> client.responses().create(ask("no-such-model").build()));
    }

    private static void assertBad(String body, String param) throws Exception {
        HttpResponse<String> res = post(body);
        assertEquals(400, res.statusCode(), res.body());
        JsonNode error = JSON.readTree(res.body()).path("error");
        assertEquals("invalid_request_error", error.path("type").asText());
        assertEquals(param, error.path("param").asText(), res.body());
        assertFalse(error.path("message").asText().isEmpty());
    }

    private static HttpResponse<String> post(String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                        + "/v1/responses")).timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
