package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.models.chat.completions.StructuredChatCompletion;
import dev.gatehouse.gateway.backend.local.LocalBackend;
import dev.gatehouse.gateway.backend.local.tools.ToolFormat;
import dev.gatehouse.serving.constrain.RealTokenizers;
import dev.gatehouse.serving.constrain.SchemaCheck;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official OpenAI SDK asks a local model with Qwen3's real vocabulary and chat template (random weights)
 * for structured output and forced tool calls, whole and streamed: constrained decoding makes every answer
 * a document networknt's validator accepts, or a call to one of the tools with valid arguments, whatever the
 * weights. An unsupported schema keyword is a 400 that names it.
 */
class StructuredOutputSdkTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Bounded strings, so random weights finish the document well within max_tokens. */
    private static final String PERSON = """
            {"type": "object", "properties": {
              "name": {"type": "string", "minLength": 1, "maxLength": 10},
              "age": {"type": "integer", "minimum": 0, "maximum": 130},
              "role": {"type": "string", "enum": ["admin", "user"]},
              "email": {"type": ["string", "null"], "format": "email"},
              "tags": {"type": "array", "items": {"type": "string", "maxLength": 4}, "maxItems": 2}},
             "required": ["name", "age", "role", "email", "tags"], "additionalProperties": false}""";
    private static final String WEATHER_PARAMETERS = """
            {"type": "object", "properties": {"city": {"type": "string", "enum": ["Paris", "Oslo"]},
              "days": {"type": "integer", "minimum": 1, "maximum": 7}}, "required": ["city", "days"], "additionalProperties": false}""";
    private static final String TIME_PARAMETERS = """
            {"type": "object", "properties": {"zone": {"type": "string", "maxLength": 6}}, "required": ["zone"],
             "additionalProperties": false}""";

    @TempDir
    static Path dir;
    static TestServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir, folder -> {
            TestModelFolder.qwen3().vocab(151_936).eosTokenIds(151_645, 151_643).maxPositions(4096)
                    .hidden(32).intermediate(64).layers(1).heads(2).kvHeads(1).tied(true).seed(5).write(folder);
            RealTokenizers.write(RealTokenizers.QWEN3, folder);
        });
        client = OpenAIOkHttpClient.builder().baseUrl(server.v1()).apiKey("any-key").maxRetries(0)
                .timeout(Duration.ofSeconds(120)).responseValidation(true).build();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static ChatCompletionCreateParams.Builder ask(String question) {
        return ChatCompletionCreateParams.builder().model(TestServer.MODEL).maxCompletionTokens(1500).temperature(1.0)
                .addSystemMessage("You answer in JSON.").addUserMessage(question);
    }

    private static ResponseFormatJsonSchema schemaFormat(String schema) throws Exception {
        Map<String, JsonValue> properties = new HashMap<>();
        JSON.readTree(schema).fields().forEachRemaining(e -> properties.put(e.getKey(), JsonValue.fromJsonNode(e.getValue())));
        return ResponseFormatJsonSchema.builder().jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder().name("answer")
                .strict(true).schema(ResponseFormatJsonSchema.JsonSchema.Schema.builder().additionalProperties(properties).build())
                .build()).build();
    }

    private static FunctionDefinition function(String name, String parameters) throws Exception {
        Map<String, JsonValue> properties = new HashMap<>();
        JSON.readTree(parameters).fields().forEachRemaining(e -> properties.put(e.getKey(), JsonValue.fromJsonNode(e.getValue())));
        return FunctionDefinition.builder().name(name).parameters(FunctionParameters.builder().additionalProperties(properties).build())
                .build();
    }

    @Test
    void theModelsToolFormatComesFromItsRealTemplate() {
        assertEquals(ToolFormat.HERMES, ((LocalBackend) server.models().get(TestServer.MODEL).orElseThrow()).toolFormat());
    }

    @Test
    void jsonSchemaAnswersValidateWholeAndStreamed() throws Exception {
        SchemaCheck check = new SchemaCheck(PERSON);
        for (long seed = 0; seed < 3; seed++) {
            ChatCompletion whole = client.chat().completions().create(ask("Who is Ann?").seed(seed)
                    .responseFormat(schemaFormat(PERSON)).build());
            String content = whole.choices().get(0).message().content().orElseThrow();
            assertEquals(ChatCompletion.Choice.FinishReason.STOP, whole.choices().get(0).finishReason(), content);
            assertEquals(List.of(), check.errors(content), content);
        }
        StringBuilder streamed = new StringBuilder();
        ChatCompletionChunk.Choice.FinishReason finish = null;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(ask("Who is Bo?").seed(7L)
                .responseFormat(schemaFormat(PERSON)).build())) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                for (ChatCompletionChunk.Choice c : chunk.choices()) {
                    c.delta().content().ifPresent(streamed::append);
                    finish = c.finishReason().orElse(finish);
                }
            }
        }
        assertEquals(ChatCompletionChunk.Choice.FinishReason.STOP, finish);
        assertEquals(List.of(), check.errors(streamed.toString()), streamed.toString());
    }

    /** What the SDK makes of a Java class: a strict schema; the answer comes back as the class. */
    public enum Sky { CLEAR, CLOUDY, RAIN }

    public static class Forecast {
        public int celsius;
        public boolean windy;
        public Sky sky;
    }

    @Test
    void structuredOutputIntoAJavaClass() {
        StructuredChatCompletion<Forecast> answer = client.chat().completions().create(ask("Weather tomorrow?").seed(3L)
                .responseFormat(Forecast.class).build());
        Forecast forecast = answer.choices().get(0).message().content().orElseThrow();
        assertNotNull(forecast.sky);
    }

    @Test
    void jsonObjectAnswersAreObjects() throws Exception {
        ChatCompletion whole = client.chat().completions().create(ask("Anything").seed(1L).maxCompletionTokens(40)
                .responseFormat(ResponseFormatJsonObject.builder().build()).build());
        String content = whole.choices().get(0).message().content().orElse("");
        if (whole.choices().get(0).finishReason().equals(ChatCompletion.Choice.FinishReason.STOP)) {
            assertTrue(JSON.readTree(content).isObject(), content);
        } else {
            assertTrue(content.strip().startsWith("{"), content);
        }
    }

    @Test
    void requiredToolChoiceCallsOneOfTheToolsWithValidArgumentsWholeAndStreamed() throws Exception {
        Map<String, SchemaCheck> checks = Map.of("get_weather", new SchemaCheck(WEATHER_PARAMETERS),
                "get_time", new SchemaCheck(TIME_PARAMETERS));
        for (long seed = 0; seed < 3; seed++) {
            ChatCompletion whole = client.chat().completions().create(ask("Weather in Paris?").seed(seed)
                    .addFunctionTool(function("get_weather", WEATHER_PARAMETERS)).addFunctionTool(function("get_time", TIME_PARAMETERS))
                    .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build());
            ChatCompletion.Choice choice = whole.choices().get(0);
            assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
            List<ChatCompletionMessageToolCall> calls = choice.message().toolCalls().orElseThrow();
            assertEquals(1, calls.size());
            ChatCompletionMessageFunctionToolCall.Function f = calls.get(0).asFunction().function();
            assertEquals(List.of(), checks.get(f.name()).errors(f.arguments()), f.name() + " " + f.arguments());
        }
        String name = null;
        StringBuilder arguments = new StringBuilder();
        ChatCompletionChunk.Choice.FinishReason finish = null;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(ask("Time in Oslo?").seed(9L)
                .addFunctionTool(function("get_weather", WEATHER_PARAMETERS)).addFunctionTool(function("get_time", TIME_PARAMETERS))
                .toolChoice(ChatCompletionToolChoiceOption.ofNamedToolChoice(ChatCompletionNamedToolChoice.builder()
                        .function(ChatCompletionNamedToolChoice.Function.builder().name("get_time").build()).build())).build())) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                for (ChatCompletionChunk.Choice c : chunk.choices()) {
                    for (ChatCompletionChunk.Choice.Delta.ToolCall call : c.delta().toolCalls().orElse(List.of())) {
                        if (call.function().isPresent()) {
                            name = call.function().get().name().orElse(name);
                            call.function().get().arguments().ifPresent(arguments::append);
                        }
                    }
                    finish = c.finishReason().orElse(finish);
                }
            }
        }
        assertEquals("get_time", name, "the named tool");
        assertEquals(ChatCompletionChunk.Choice.FinishReason.TOOL_CALLS, finish);
        assertEquals(List.of(), checks.get("get_time").errors(arguments.toString()), arguments.toString());
    }

    @Test
    void aToolResultTurnThenAStructuredAnswer() throws Exception {
        ChatCompletion answer = client.chat().completions().create(ask("Weather in Paris?").seed(4L)
                .addFunctionTool(function("get_weather", WEATHER_PARAMETERS))
                .addMessage(ChatCompletionAssistantMessageParam.builder().addToolCall(ChatCompletionMessageFunctionToolCall.builder()
                        .id("call_1").function(ChatCompletionMessageFunctionToolCall.Function.builder()
                                .name("get_weather").arguments("{\"city\": \"Paris\", \"days\": 1}").build()).build()).build())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId("call_1").content("22 C, sunny").build())
                .responseFormat(schemaFormat(PERSON)).build());
        String content = answer.choices().get(0).message().content().orElseThrow();
        assertEquals(List.of(), new SchemaCheck(PERSON).errors(content), content);
        assertTrue(answer.usage().orElseThrow().promptTokens() > 50, "the tool result reached the template");
    }

    @Test
    void anUnsupportedKeywordIsA400NamingIt() throws Exception {
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.chat().completions().create(ask("x")
                .responseFormat(schemaFormat("{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\", \"pattern\": \"^x\"}}}"))
                .build()));
        assertEquals(400, e.statusCode());
        assertTrue(e.getMessage().contains("'pattern'") && e.getMessage().contains("#/properties/a"), e.getMessage());
    }
}
