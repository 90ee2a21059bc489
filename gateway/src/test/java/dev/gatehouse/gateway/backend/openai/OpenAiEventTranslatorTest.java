package dev.gatehouse.gateway.backend.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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

    /**
     * Chunks read from their text (a streaming parser for plain chunks) give the same events, in
     * the same order, as the same chunks read as trees, over one stream whose tool calls carry over
     * from chunk to chunk; and the plain ones are read without a tree.
     */
    @Test
    void readingTheTextGivesTheEventsOfReadingTheTree() throws Exception {
        String head = "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",";
        List<String> stream = List.of(
                head + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}",
                head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"H\\u00e9 \\\"x\\\"\"},\"finish_reason\":null}]}",
                head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":null,\"tool_calls\":[]},\"finish_reason\":null}]}",
                head + "\"choices\":[{\"index\":1,\"delta\":{\"content\":\"b\"}},{\"index\":0,\"delta\":null,\"text\":\"ignored\"}]}",
                head + "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"function\":{\"name\":\"f\",\"arguments\":\"{\"}}]}}]}",
                head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t\"},\"logprobs\":{\"content\":[{\"token\":\"t\",\"logprob\":-1,\"top_logprobs\":[]}]}}]}",
                head + "\"choices\":[{\"index\":\"0\",\"delta\":{\"content\":\"string index\"}}]}",
                head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"twice\",\"content\":\"again\"}}]}",
                head + "\"choices\":[7,{\"index\":0,\"delta\":{\"content\":5}}]}",
                head + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":7},{\"index\":1,\"delta\":{},\"finish_reason\":\"length\"}]}",
                head + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}",
                "{\"choices\":[{\"index\":0,\"text\":\"completion\",\"logprobs\":null,\"finish_reason\":null}]}",
                "{\"choices\":{\"0\":{\"index\":0,\"delta\":{\"content\":\"not an array\"}}}}",
                "[1,2]",
                "{}",
                head + "\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":5,\"total_tokens\":14,\"x\":{\"y\":[1]}}}",
                head + "\"choices\":[],\"usage\":{\"prompt_tokens\":\"9\",\"completion_tokens\":null}}",
                head + "\"choices\":[],\"usage\":null}");
        OpenAiEventTranslator fromText = new OpenAiEventTranslator("p", "key");
        OpenAiEventTranslator fromTree = new OpenAiEventTranslator("p", "key");
        for (String chunk : stream) {
            assertEquals(fromTree.event(JSON.readTree(chunk)), fromText.event(chunk), chunk);
        }
        assertNotNull(PlainChunk.read(stream.get(1)), "a text chunk is read without a tree");
        assertNotNull(PlainChunk.read(stream.get(stream.size() - 3)), "so is the usage chunk");
        assertNull(PlainChunk.read(stream.get(4)), "a tool call is read as a tree");
        assertThrows(ApiException.class, () -> fromText.event("{\"choices\":[],\"error\":{\"message\":\"overloaded\"}}"));
    }
}
