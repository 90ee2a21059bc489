package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.FinishReason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The streamed chunks, byte for byte as OpenAI's SDKs read them: field order, nulls, the role chunk, usage last. */
class CompletionEncoderTest {
    private static final String HEAD = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"m\\\"x\",";

    private static String stream(boolean chat, String body, boolean legacyFunctions, List<ChatEvent> events) throws IOException {
        ChatRequest request = chat ? OpenAiRequests.chat(OpenAiJson.MAPPER.readTree(body))
                : OpenAiRequests.completion(OpenAiJson.MAPPER.readTree(body));
        CompletionEncoder encoder = new CompletionEncoder(chat, "chatcmpl-1", 7, request, legacyFunctions);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SseWriter sse = new SseWriter(out);
        for (ChatEvent e : events) {
            encoder.write(e, sse);
        }
        sse.done();
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void chatTextThenToolCallsThenFinishAndUsage() throws IOException {
        String body = "{\"model\":\"m\\\"x\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        String out = stream(true, body, false, List.of(
                new ChatEvent.Delta(0, "Hé \"there\"\n", null),
                new ChatEvent.ToolCallStart(0, 0, "call_1", "get_weather"),
                new ChatEvent.ToolCallDelta(0, 0, "{\"city\":"),
                new ChatEvent.ToolCallEnd(0, 0),
                new ChatEvent.Finish(0, FinishReason.TOOL_CALLS),
                new ChatEvent.Usage(3, 4)));
        assertEquals("data: " + HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
                + "data: " + HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hé \\\"there\\\"\\n\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
                + "data: " + HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
                + "data: " + HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]},"
                + "\"logprobs\":null,\"finish_reason\":null}]}\n\n"
                + "data: " + HEAD + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}]}\n\n"
                + "data: " + HEAD + "\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_tokens\":7}}\n\n"
                + "data: [DONE]\n\n", out);
    }

    @Test
    void usageIsSentOnlyWhenAskedFor() throws IOException {
        String body = "{\"model\":\"m\\\"x\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        String out = stream(true, body, false, List.of(new ChatEvent.Finish(0, FinishReason.STOP), new ChatEvent.Usage(3, 4)));
        assertEquals("data: " + HEAD + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n"
                + "data: [DONE]\n\n", out);
    }

    @Test
    void legacyFunctionCallChunks() throws IOException {
        String body = "{\"model\":\"m\\\"x\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"functions\":[{\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}]}";
        String out = stream(true, body, true, List.of(
                new ChatEvent.ToolCallStart(0, 0, "call_1", "f"),
                new ChatEvent.ToolCallDelta(0, 0, "{}"),
                new ChatEvent.Finish(0, FinishReason.TOOL_CALLS)));
        assertEquals("data: " + HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
                + "data: " + HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"function_call\":{\"name\":\"f\",\"arguments\":\"\"}},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
                + "data: " + HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"function_call\":{\"arguments\":\"{}\"}},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
                + "data: " + HEAD + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"function_call\"}]}\n\n"
                + "data: [DONE]\n\n", out);
    }

    @Test
    void completionChunksCarryTextAfterTheFinishReasonAndLogprobsWhenAsked() throws IOException {
        String body = "{\"model\":\"m\\\"x\",\"stream\":true,\"prompt\":\"hi\",\"logprobs\":1}";
        String out = stream(false, body, false, List.of(
                new ChatEvent.Delta(0, "ab", List.of(new ChatEvent.TokenLogprob("ab", -0.5f, List.of(new ChatEvent.TopLogprob("ab", -0.5f))))),
                new ChatEvent.Finish(0, FinishReason.LENGTH)));
        String head = "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":7,\"model\":\"m\\\"x\",";
        assertEquals("data: " + head + "\"choices\":[{\"index\":0,\"logprobs\":{\"tokens\":[\"ab\"],\"token_logprobs\":[-0.5],"
                + "\"top_logprobs\":[{\"ab\":-0.5}],\"text_offset\":[0]},\"finish_reason\":null,\"text\":\"ab\"}]}\n\n"
                + "data: " + head + "\"choices\":[{\"index\":0,\"logprobs\":null,\"finish_reason\":\"length\",\"text\":\"\"}]}\n\n"
                + "data: [DONE]\n\n", out);
    }
}
