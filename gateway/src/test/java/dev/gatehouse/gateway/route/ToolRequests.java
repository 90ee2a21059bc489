package dev.gatehouse.gateway.route;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.core.JsonValue;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import java.util.ArrayList;
import java.util.List;

/** The weather tool conversation the provider tool tests send through the official OpenAI SDK. */
final class ToolRequests {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String WEATHER_SCHEMA = """
            {"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},
             "required":["city"],"additionalProperties":false}""";
    static final String ANSWER_SCHEMA = """
            {"type":"object","properties":{"city":{"type":"string"},"temperature":{"type":"number"}},"required":["city","temperature"]}""";
    static final String DATA_URI = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    private ToolRequests() {}

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    static FunctionDefinition weather() {
        FunctionParameters.Builder parameters = FunctionParameters.builder();
        json(WEATHER_SCHEMA).properties().forEach(e -> parameters.putAdditionalProperty(e.getKey(),
                JsonValue.from(JSON.convertValue(e.getValue(), Object.class))));
        return FunctionDefinition.builder().name("get_weather").description("The current weather in a city.")
                .parameters(parameters.build()).build();
    }

    static ChatCompletionCreateParams.Builder askWeather(String model) {
        return ChatCompletionCreateParams.builder().model(model)
                .addUserMessage("What is the weather in Paris and in Tokyo?")
                .addFunctionTool(weather())
                .toolChoice(ChatCompletionToolChoiceOption.Auto.AUTO);
    }

    static ResponseFormatJsonSchema answerFormat() {
        ResponseFormatJsonSchema.JsonSchema.Schema.Builder schema = ResponseFormatJsonSchema.JsonSchema.Schema.builder();
        json(ANSWER_SCHEMA).properties().forEach(e -> schema.putAdditionalProperty(e.getKey(),
                JsonValue.from(JSON.convertValue(e.getValue(), Object.class))));
        return ResponseFormatJsonSchema.builder().jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder()
                .name("weather_answer").schema(schema.build()).strict(true).build()).build();
    }

    /** Each call as [id, name, arguments]. */
    static List<List<String>> calls(List<ChatCompletionMessageToolCall> calls) {
        List<List<String>> out = new ArrayList<>();
        for (ChatCompletionMessageToolCall call : calls) {
            ChatCompletionMessageFunctionToolCall f = call.asFunction();
            out.add(List.of(f.id(), f.function().name(), f.function().arguments()));
        }
        return out;
    }
}
