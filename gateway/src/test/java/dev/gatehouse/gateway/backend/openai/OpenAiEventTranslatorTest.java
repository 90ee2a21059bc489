package dev.gatehouse.gateway.backend.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shapes of streamed tool calls that OpenAI-compatible servers send, beyond OpenAI's own. */
class OpenAiEventTranslatorTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final OpenAiEventTranslator translator = new OpenAiEventTranslator("p", "key");

    private List<ChatEvent> chunk(String choices) throws Exception {
        return translator.event(JSON.readTree("{\"object\":\"chat.completion.chunk\",\"choices\":" + choices + "}"));
    }

    @Test
    void textThenAWholeToolCallInOneChunk() throws Exception {
        // vLLM and others send the name and all the arguments at once, after text, in one delta
        assertEquals(List.of(new ChatEvent.Delta(0, "Checking.", null), new ChatEvent.ToolCallStart(0, 0, "call_1", "f"),
                        new ChatEvent.ToolCallDelta(0, 0, "{\"a\":1}")),
                chunk("[{\"index\":0,\"delta\":{\"content\":\"Checking.\",\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
                        + "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}]}}]"));
        assertEquals(List.of(new ChatEvent.ToolCallEnd(0, 0), new ChatEvent.Finish(0, FinishReason.TOOL_CALLS)),
                chunk("[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]"));
    }

    @Test
    void emptyArgumentsGiveNoFragmentAndCallsAreNumberedAsTheyStartWhateverTheServersIndex() throws Exception {
        assertEquals(List.of(new ChatEvent.ToolCallStart(1, 0, "call_x", "now")),
                chunk("[{\"index\":1,\"delta\":{\"tool_calls\":[{\"index\":3,\"id\":\"call_x\",\"function\":{\"name\":\"now\","
                        + "\"arguments\":\"\"}}]}}]"));
        assertEquals(List.of(new ChatEvent.ToolCallStart(1, 1, "call_y", "later")),
                chunk("[{\"index\":1,\"delta\":{\"tool_calls\":[{\"index\":7,\"id\":\"call_y\",\"function\":{\"name\":\"later\"}}]}}]"));
        assertEquals(List.of(new ChatEvent.ToolCallDelta(1, 0, "{}")),
                chunk("[{\"index\":1,\"delta\":{\"tool_calls\":[{\"index\":3,\"function\":{\"arguments\":\"{}\"}}]}}]"));
        // the old function_call finish reason means the same
        assertEquals(List.of(new ChatEvent.ToolCallEnd(1, 0), new ChatEvent.ToolCallEnd(1, 1),
                        new ChatEvent.Finish(1, FinishReason.TOOL_CALLS)),
                chunk("[{\"index\":1,\"delta\":{},\"finish_reason\":\"function_call\"}]"));
    }

    @Test
    void anErrorObjectInTheStreamEndsIt() {
        ApiException e = assertThrows(ApiException.class, () -> translator.event(JSON.readTree(
                "{\"error\":{\"message\":\"The server had an error (key leaked: key)\",\"type\":\"server_error\"}}")));
        assertEquals(502, e.status());
        assertEquals(false, e.getMessage().contains("key leaked: key"), e.getMessage());
    }
}
