package dev.gatehouse.gateway.backend.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.gatehouse.gateway.backend.local.tools.ToolFormat;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.serving.engine.RecordedHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Recorded token streams of a Qwen-style model through the local stream: text, calls and the finish reason a client sees. */
class LocalChatStreamTest {
    /** A Qwen3 answer as its tokens decode: the marker is one token, the JSON comes in pieces. */
    private static final List<String> HERMES_ANSWER = List.of("Checking", ".\n", "<tool_call>", "\n{\"", "name", "\": \"",
            "get", "_weather", "\", \"", "arguments", "\": {\"", "city", "\": \"", "Paris", "\"}}\n", "</tool_call>");

    private static List<ChatEvent> events(List<String> tokens, ToolFormat format) throws InterruptedException {
        LocalChatStream stream = new LocalChatStream(List.of(RecordedHandle.of(tokens,
                dev.gatehouse.serving.engine.FinishReason.STOP)), 3, null, Arrays.asList((String) null), format);
        List<ChatEvent> out = new ArrayList<>();
        for (ChatEvent e = stream.next(); e != null; e = stream.next()) {
            out.add(e);
        }
        return out;
    }

    @Test
    void aCallStreamsAsStartArgumentsEndAndFinishesWithToolCalls() throws InterruptedException {
        List<ChatEvent> events = events(HERMES_ANSWER, ToolFormat.HERMES);
        assertEquals(new ChatEvent.Delta(0, "Checking", null), events.get(0));
        assertEquals(new ChatEvent.Delta(0, ".\n", null), events.get(1));
        ChatEvent.ToolCallStart start = assertInstanceOf(ChatEvent.ToolCallStart.class, events.get(2));
        assertEquals("get_weather", start.name());
        assertEquals(List.of(new ChatEvent.ToolCallDelta(0, 0, "{\"city\":\"Paris\"}"), new ChatEvent.ToolCallEnd(0, 0),
                new ChatEvent.Finish(0, FinishReason.TOOL_CALLS), new ChatEvent.Usage(3, HERMES_ANSWER.size())),
                events.subList(3, events.size()));
    }

    @Test
    void withoutParsingTheTextGoesOutAsItCame() throws InterruptedException { // no tools, or tool_choice "none"
        List<ChatEvent> events = events(HERMES_ANSWER, null);
        assertEquals(String.join("", HERMES_ANSWER), events.stream().filter(e -> e instanceof ChatEvent.Delta)
                .map(e -> ((ChatEvent.Delta) e).text()).reduce("", String::concat));
        assertEquals(new ChatEvent.Finish(0, FinishReason.STOP), events.get(events.size() - 2));
    }

    @Test
    void anAnswerWithoutCallsFinishesWithStop() throws InterruptedException {
        List<ChatEvent> events = events(List.of("It is ", "sunny", " <", "3"), ToolFormat.HERMES);
        assertEquals(List.of(new ChatEvent.Delta(0, "It is ", null), new ChatEvent.Delta(0, "sunny", null),
                new ChatEvent.Delta(0, " ", null), new ChatEvent.Delta(0, "<3", null), new ChatEvent.Finish(0, FinishReason.STOP),
                new ChatEvent.Usage(3, 4)), events);
    }
}
