package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static dev.gatehouse.gateway.route.ToolRequests.calls;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.ReasoningEffort;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tools, images and structured output through OpenAI and Azure OpenAI targets, spoken to with the
 * official OpenAI SDK: the provider receives them exactly as the client sent them (with the fields
 * Gatehouse does not read passed on), tool calls come back whole and streamed in OpenAI's shape, and
 * a route whose first target cannot take tools passes over it and says so.
 */
class OpenAiToolsEndToEndTest {
    private static final ObjectMapper JSON = ToolRequests.JSON;
    private static final String WEATHER_SCHEMA = ToolRequests.WEATHER_SCHEMA;

    static MockOpenAi openai;
    static MockOpenAi azure;
    static MockAnthropic anthropic;
    static GatewayServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        openai = new MockOpenAi();
        azure = new MockOpenAi();
        anthropic = new MockAnthropic();
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  openai: {type: openai, base-url: %s, api-key: sk-openai-MOCK}
                  azure: {type: azure-openai, base-url: %s, api-key: azure-MOCK, api-version: 2024-10-21}
                  claude: {type: anthropic, base-url: %s, api-key: sk-ant-MOCK}
                models:
                  - name: gpt
                    targets: [{provider: openai, model: gpt-4o-mini}]
                  - name: azure-gpt
                    targets: [{provider: azure, model: my-deployment}]
                  - name: json
                    targets: [{provider: claude, model: claude-sonnet-4-5}, {provider: openai, model: gpt-4o-mini}]
                  - name: claude
                    targets: [{provider: claude, model: claude-sonnet-4-5}]
                """.formatted(openai.baseUrl(), azure.root(), anthropic.baseUrl()), Map.of());
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        LocalModels none = new LocalModels();
        server = RouteTestGateway.start(none, Router.of(config, none, registry), registry);
        client = RouteTestGateway.sdk(server);
    }

    @AfterAll
    static void stop() {
        RouteTestGateway.stop(client, server);
        openai.close();
        azure.close();
        anthropic.close();
    }

    @BeforeEach
    void forget() {
        openai.received().clear();
        azure.received().clear();
    }

    private static ChatCompletionCreateParams.Builder askWeather(String model) {
        return ToolRequests.askWeather(model).parallelToolCalls(true);
    }

    @Test
    void toolsReachOpenAiAsSentAndItsCallsComeBackInOpenAisShape() throws Exception {
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse().create(askWeather("gpt")
                .reasoningEffort(ReasoningEffort.LOW).store(false)
                .putAdditionalBodyProperty("service_tier", JsonValue.from("flex")).build())) {
            ChatCompletion completion = response.parse();
            assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, completion.choices().getFirst().finishReason());
            assertTrue(completion.choices().getFirst().message().content().isEmpty(), "content is null on a tool-only turn");
            assertEquals(MockOpenAi.CALLS, calls(completion.choices().getFirst().message().toolCalls().orElseThrow()));
        }
        JsonNode sent = openai.received().getLast().body();
        JsonNode tool = sent.path("tools").get(0);
        assertEquals("function", tool.path("type").asText());
        assertEquals("get_weather", tool.path("function").path("name").asText());
        assertEquals("The current weather in a city.", tool.path("function").path("description").asText());
        assertEquals(JSON.readTree(WEATHER_SCHEMA), tool.path("function").path("parameters"));
        assertEquals("auto", sent.path("tool_choice").asText());
        assertTrue(sent.path("parallel_tool_calls").asBoolean());
        // fields Gatehouse does not read are passed on unchanged
        assertEquals("low", sent.path("reasoning_effort").asText());
        assertFalse(sent.path("store").asBoolean(true));
        assertEquals("flex", sent.path("service_tier").asText());
    }

    @Test
    void parallelStreamedCallsWithInterleavedFragmentsAssembleExactly() throws Exception {
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(askWeather("gpt").build())) {
            stream.stream().forEach(c -> {
                chunks.add(c);
                accumulator.accumulate(c);
            });
        }
        ChatCompletion whole = accumulator.chatCompletion();
        assertEquals(MockOpenAi.CALLS, calls(whole.choices().getFirst().message().toolCalls().orElseThrow()));
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, whole.choices().getFirst().finishReason());
        // the first fragment of each call carries its id and name; the others only arguments
        for (int i = 0; i < MockOpenAi.CALLS.size(); i++) {
            int call = i;
            List<ChatCompletionChunk.Choice.Delta.ToolCall> fragments = chunks.stream()
                    .flatMap(c -> c.choices().stream()).flatMap(c -> c.delta().toolCalls().stream().flatMap(List::stream))
                    .filter(t -> t.index() == call).toList();
            assertEquals(MockOpenAi.CALLS.get(i).get(0), fragments.getFirst().id().orElseThrow());
            assertEquals("get_weather", fragments.getFirst().function().orElseThrow().name().orElseThrow());
            assertTrue(fragments.stream().skip(1).allMatch(f -> f.id().isEmpty()), "only the first fragment has the id");
        }
    }

    @Test
    void aToolConversationCallThenResultThenAnswer() throws Exception {
        ChatCompletion first = client.chat().completions().create(askWeather("gpt").build());
        List<ChatCompletionMessageToolCall> toolCalls = first.choices().getFirst().message().toolCalls().orElseThrow();
        ChatCompletionCreateParams.Builder next = askWeather("gpt")
                .addMessage(ChatCompletionAssistantMessageParam.builder().toolCalls(toolCalls).build());
        for (ChatCompletionMessageToolCall call : toolCalls) {
            String city = JSON.readTree(call.asFunction().function().arguments()).path("city").asText();
            next.addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.asFunction().id())
                    .content(city.equals("Paris") ? "sunny, 21°C" : "rainy, 14°C").build());
        }
        ChatCompletion answer = client.chat().completions().create(next.build());
        assertEquals(MockOpenAi.TOOL_ANSWER, answer.choices().getFirst().message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, answer.choices().getFirst().finishReason());

        JsonNode messages = openai.received().getLast().body().path("messages");
        assertEquals(4, messages.size());
        JsonNode assistant = messages.get(1);
        assertEquals("assistant", assistant.path("role").asText());
        assertTrue(assistant.path("content").isNull(), "a tool-only turn goes on with content null");
        assertEquals(MockOpenAi.CALLS.get(0).get(0), assistant.path("tool_calls").get(0).path("id").asText());
        assertEquals(MockOpenAi.CALLS.get(1).get(2), assistant.path("tool_calls").get(1).path("function").path("arguments").asText());
        assertEquals("tool", messages.get(2).path("role").asText());
        assertEquals(MockOpenAi.CALLS.get(0).get(0), messages.get(2).path("tool_call_id").asText());
        assertEquals("sunny, 21°C", messages.get(2).path("content").asText());
    }

    @Test
    void imagesAndAJsonSchemaReachAzureUnchanged() throws Exception {
        String dataUri = ToolRequests.DATA_URI;
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model("azure-gpt")
                .addUserMessageOfArrayOfContentParts(List.of(
                        ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text("Where and how warm?").build()),
                        ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder().imageUrl(
                                ChatCompletionContentPartImage.ImageUrl.builder().url("https://example.com/paris.jpg")
                                        .detail(ChatCompletionContentPartImage.ImageUrl.Detail.HIGH).build()).build()),
                        ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder().imageUrl(
                                ChatCompletionContentPartImage.ImageUrl.builder().url(dataUri).build()).build())))
                .responseFormat(ToolRequests.answerFormat())
                .build());
        assertEquals(MockOpenAi.JSON_REPLY, c.choices().getFirst().message().content().orElseThrow());
        MockOpenAi.Received received = azure.received().getLast();
        assertTrue(received.path().contains("/deployments/my-deployment/"));
        JsonNode content = received.body().path("messages").get(0).path("content");
        assertEquals("text", content.get(0).path("type").asText());
        assertEquals("https://example.com/paris.jpg", content.get(1).path("image_url").path("url").asText());
        assertEquals("high", content.get(1).path("image_url").path("detail").asText());
        assertEquals(dataUri, content.get(2).path("image_url").path("url").asText());
        JsonNode format = received.body().path("response_format");
        assertEquals("json_schema", format.path("type").asText());
        assertEquals("weather_answer", format.path("json_schema").path("name").asText());
        assertTrue(format.path("json_schema").path("strict").asBoolean());
        assertEquals(ToolRequests.json(ToolRequests.ANSWER_SCHEMA), format.path("json_schema").path("schema"));
    }

    @Test
    void aTargetThatCannotServeTheResponseFormatIsPassedOverAndTheHeaderSaysWhy() throws Exception {
        HttpResponse<String> r = post("""
                {"model":"json","messages":[{"role":"user","content":"Paris as JSON"}],"response_format":{"type":"json_object"}}""");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("claude:claude-sonnet-4-5 (no json_object)", r.headers().firstValue("x-gatehouse-fallbacks").orElseThrow());
        assertEquals("json_object", openai.received().getLast().body().path("response_format").path("type").asText());
        // with no other target, the client hears which field could not be served
        HttpResponse<String> alone = post("""
                {"model":"claude","messages":[{"role":"user","content":"Paris as JSON"}],"response_format":{"type":"json_object"}}""");
        assertEquals(400, alone.statusCode(), alone.body());
        assertEquals("response_format", JSON.readTree(alone.body()).path("error").path("param").asText());
    }

    @Test
    void theLegacyFunctionsAndFunctionCallRideOnTools() throws Exception {
        HttpResponse<String> r = post("""
                {"model":"gpt","messages":[{"role":"user","content":"Weather in Paris?"}],
                 "functions":[{"name":"get_weather","parameters":%s}],"function_call":{"name":"get_weather"}}
                """.formatted(WEATHER_SCHEMA));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode sent = openai.received().getLast().body();
        assertEquals("get_weather", sent.path("tools").get(0).path("function").path("name").asText());
        assertEquals("get_weather", sent.path("tool_choice").path("function").path("name").asText());
        assertTrue(sent.path("parallel_tool_calls").isBoolean() && !sent.path("parallel_tool_calls").asBoolean(),
                "the functions API takes one call");
        // and the answer comes back in the functions API's shape: one function_call
        JsonNode choice = JSON.readTree(r.body()).path("choices").get(0);
        assertEquals("function_call", choice.path("finish_reason").asText());
        assertEquals("get_weather", choice.path("message").path("function_call").path("name").asText());
        assertEquals(MockOpenAi.CALLS.get(0).get(2), choice.path("message").path("function_call").path("arguments").asText());
        assertTrue(choice.path("message").path("tool_calls").isMissingNode());

        HttpResponse<String> streamed = post("""
                {"model":"gpt","stream":true,"messages":[{"role":"user","content":"Weather in Paris?"}],
                 "functions":[{"name":"get_weather","parameters":%s}]}
                """.formatted(WEATHER_SCHEMA));
        StringBuilder arguments = new StringBuilder();
        for (String line : streamed.body().split("\n")) {
            if (line.startsWith("data: {")) {
                JsonNode delta = JSON.readTree(line.substring(6)).path("choices").path(0).path("delta");
                arguments.append(delta.path("function_call").path("arguments").asText(""));
                assertTrue(delta.path("tool_calls").isMissingNode(), line);
            }
        }
        assertEquals(MockOpenAi.CALLS.get(0).get(2), arguments.toString());
        assertTrue(streamed.body().contains("\"finish_reason\":\"function_call\""), streamed.body());
    }

    @Test
    void badToolInputIsA400NamingTheParam() throws Exception {
        String user = "{\"role\":\"user\",\"content\":\"hi\"}";
        String tool = "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":" + WEATHER_SCHEMA + "}}";
        assertBad("tools[1].function.parameters", """
                {"model":"gpt","messages":[%s],"tools":[%s,{"type":"function","function":{"name":"f","parameters":{"type":"string"}}}]}
                """.formatted(user, tool));
        assertBad("tool_choice", """
                {"model":"gpt","messages":[%s],"tools":[%s],"tool_choice":{"type":"function","function":{"name":"nope"}}}
                """.formatted(user, tool));
        assertBad("messages[2].tool_call_id", """
                {"model":"gpt","messages":[%s,{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
                 "function":{"name":"get_weather","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_2","content":"x"}]}
                """.formatted(user));
        assertBad("messages[0].content[0]", """
                {"model":"gpt","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,%%%%"}}]}]}
                """);
        assertBad("response_format.json_schema.schema", """
                {"model":"gpt","messages":[%s],"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}
                """.formatted(user));
    }

    private static void assertBad(String param, String body) throws Exception {
        HttpResponse<String> r = post(body);
        assertEquals(400, r.statusCode(), r.body());
        JsonNode error = JSON.readTree(r.body()).path("error");
        assertEquals("invalid_request_error", error.path("type").asText());
        assertEquals(param, error.path("param").asText(), r.body());
    }

    private static HttpResponse<String> post(String json) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }
}
