package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.errors.BadRequestException;
import dev.gatehouse.gateway.backend.local.LocalStore;
import dev.gatehouse.gateway.backend.local.tools.ToolPrompt;
import dev.gatehouse.gateway.backend.local.tools.ToolSettings;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolCall;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.engine.MemoryBudget;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official OpenAI SDK sends tools, an earlier call and its result to a local model whose template
 * has no tool support: the request is served (whole and streamed), and the prompt the model read is
 * the fallback's, tools and result included. (Random weights never write a call on purpose; parsing
 * calls out of answers is tested on recorded answers in ToolCallParserTest and LocalChatStreamTest.)
 */
class LocalToolsSdkTest {
    @TempDir
    static Path dir;
    static TestServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir);
        client = OpenAIOkHttpClient.builder().baseUrl(server.v1()).apiKey("any-key").maxRetries(0)
                .timeout(Duration.ofSeconds(60)).responseValidation(true).build();
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

    private static ChatCompletionCreateParams.Builder conversation(boolean tools) {
        ChatCompletionCreateParams.Builder b = ChatCompletionCreateParams.builder().model(TestServer.MODEL)
                .maxCompletionTokens(4).temperature(0.0)
                .addSystemMessage("You are terse.")
                .addUserMessage("Weather in Paris?");
        if (tools) {
            b.addMessage(ChatCompletionAssistantMessageParam.builder().addToolCall(ChatCompletionMessageFunctionToolCall.builder()
                            .id("call_1").function(ChatCompletionMessageFunctionToolCall.Function.builder()
                                    .name("get_weather").arguments("{\"city\": \"Paris\"}").build()).build()).build())
                    .addMessage(ChatCompletionToolMessageParam.builder().toolCallId("call_1").content("22 C, sunny").build())
                    .addFunctionTool(FunctionDefinition.builder().name("get_weather").description("Weather in a city")
                            .parameters(FunctionParameters.builder().putAdditionalProperty("type", JsonValue.from("object"))
                                    .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                                    .build()).build());
        }
        return b;
    }

    /** The prompt tokens of the same conversation rendered as the fallback renders it. */
    private static int fallbackPromptTokens() throws Exception {
        LocalModel model = server.models().get(TestServer.MODEL).orElseThrow().engine().model();
        Tool tool = new Tool("get_weather", "Weather in a city", new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree("{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}"), null);
        List<Message> messages = List.of(new Message(Message.SYSTEM, "You are terse."), new Message(Message.USER, "Weather in Paris?"),
                new Message(Message.ASSISTANT, List.of(), List.of(new ToolCall("call_1", "get_weather", "{\"city\": \"Paris\"}")), null),
                new Message(Message.TOOL, List.of(new ContentPart.Text("22 C, sunny")), List.of(), "call_1"));
        String prompt = model.chatTemplate().render(ToolPrompt.fallbackMessages(messages, List.of(tool)), true, Map.of());
        assertTrue(prompt.contains("\"name\":\"get_weather\"") && prompt.contains("<tool_response>\n22 C, sunny\n</tool_response>"), prompt);
        return model.tokenizer().encode(prompt, false).length;
    }

    @Test
    void toolsAndAToolResultTurnReachTheModelWhole() throws Exception {
        ChatCompletion withTools = client.chat().completions().create(conversation(true).build());
        ChatCompletion without = client.chat().completions().create(conversation(false).build());
        long tokens = withTools.usage().orElseThrow().promptTokens();
        assertEquals(fallbackPromptTokens(), tokens);
        assertTrue(tokens > without.usage().orElseThrow().promptTokens() + 20, tokens + " prompt tokens");
        ChatCompletion.Choice.FinishReason reason = withTools.choices().get(0).finishReason();
        assertTrue(reason.equals(ChatCompletion.Choice.FinishReason.LENGTH) || reason.equals(ChatCompletion.Choice.FinishReason.STOP)
                || reason.equals(ChatCompletion.Choice.FinishReason.TOOL_CALLS), reason.toString());
    }

    @Test
    void toolsAndAToolResultTurnReachTheModelStreamed() throws Exception {
        long promptTokens = -1;
        Optional<ChatCompletionChunk.Choice.FinishReason> finish = Optional.empty();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(conversation(true)
                .toolChoice(ChatCompletionToolChoiceOption.Auto.AUTO)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                if (chunk.usage().isPresent()) {
                    promptTokens = chunk.usage().get().promptTokens();
                }
                for (ChatCompletionChunk.Choice c : chunk.choices()) {
                    finish = c.finishReason().isPresent() ? c.finishReason() : finish;
                }
            }
        }
        assertEquals(fallbackPromptTokens(), promptTokens);
        assertTrue(finish.isPresent());
    }

    @Test
    void toolChoiceNoneStillRendersTheTools() throws Exception {
        ChatCompletion none = client.chat().completions().create(conversation(true)
                .toolChoice(ChatCompletionToolChoiceOption.Auto.NONE).build());
        assertEquals(fallbackPromptTokens(), none.usage().orElseThrow().promptTokens());
        assertTrue(none.choices().get(0).message().toolCalls().orElse(List.of()).isEmpty());
    }

    @Test
    void aModelSetToRefuseTheFallbackAnswers400NamingTools() throws Exception {
        TestModelFolder.llama().write(server.store().resolve("strict"));
        LocalStore refusing = new LocalStore(server.store(), DeviceChoice.CPU, name -> EngineConfig.defaults(),
                name -> new LocalStore.Placement(DeviceChoice.CPU, DtypeChoice.AUTO, WeightsDtype.AUTO), name -> new ToolSettings(null, true), MemoryBudget.MEASURED);
        server.models().load(refusing, "strict", server.registry());
        BadRequestException e = org.junit.jupiter.api.Assertions.assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(conversation(true).model("strict").build()));
        assertEquals("tools", e.param().orElseThrow());
        assertEquals(4, client.chat().completions().create(conversation(false).model("strict").build())
                .usage().orElseThrow().completionTokens(), "a request without tools is served");
    }
}
