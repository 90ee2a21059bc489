package dev.gatehouse.gateway.backend.local.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.chat.ChatEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Recorded model answers, fed whole, one character at a time and in 3-character pieces: the client
 * must see the same text and calls whichever way the tokens cut them.
 */
class ToolCallParserTest {

    /** What a client assembles from the events: the text, each call as "name args", and whether it called. */
    private record Answer(String text, List<String> calls, boolean called) {}

    private static Answer run(ToolFormat format, String answer, int piece) {
        ToolCallParser parser = new ToolCallParser(0, format);
        List<ChatEvent> events = new ArrayList<>();
        for (int i = 0; i < answer.length(); i += piece) {
            events.addAll(parser.feed(answer.substring(i, Math.min(answer.length(), i + piece))));
        }
        events.addAll(parser.finish());
        StringBuilder text = new StringBuilder();
        List<StringBuilder> calls = new ArrayList<>();
        for (ChatEvent e : events) {
            switch (e) {
                case ChatEvent.Delta d -> text.append(d.text());
                case ChatEvent.ToolCallStart s -> {
                    assertEquals(calls.size(), s.call(), "calls are numbered in order");
                    assertTrue(s.id().matches("call_[0-9a-f]{24}"), s.id());
                    calls.add(new StringBuilder(s.name()).append(' '));
                }
                case ChatEvent.ToolCallDelta d -> calls.get(d.call()).append(d.arguments());
                case ChatEvent.ToolCallEnd end -> assertEquals(calls.size() - 1, end.call());
                default -> throw new AssertionError(e);
            }
        }
        return new Answer(text.toString(), calls.stream().map(StringBuilder::toString).toList(), parser.calledTools());
    }

    /** The same answer whichever way it is cut. */
    private static Answer parse(ToolFormat format, String answer) {
        Answer whole = run(format, answer, Math.max(1, answer.length()));
        assertEquals(whole, run(format, answer, 1));
        assertEquals(whole, run(format, answer, 3));
        return whole;
    }

    @Test
    void hermesCallsBecomeToolCallsAndTheTextAroundThemStays() {
        Answer a = parse(ToolFormat.HERMES, "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n"
                + "</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"CET\"}}\n</tool_call>");
        assertEquals(List.of("get_weather {\"city\":\"Paris\"}", "get_time {\"zone\":\"CET\"}"), a.calls());
        assertEquals("Let me check.\n\n", a.text());
        assertTrue(a.called());
    }

    @Test
    void hermesTextIsHeldBackOnlyWhileItMayStartTheMarker() {
        ToolCallParser parser = new ToolCallParser(0, ToolFormat.HERMES);
        assertEquals(List.of(new ChatEvent.Delta(0, "a ", null)), parser.feed("a <tool"));
        assertEquals(List.of(new ChatEvent.Delta(0, "<tools> b", null)), parser.feed("s> b"));
        assertEquals(List.of(new ChatEvent.Delta(0, "1 < 2", null)), parser.feed("1 < 2"));
        assertEquals(List.of(), parser.finish());
        assertFalse(parser.calledTools());
    }

    @Test
    void whatLooksLikeACallButIsNotOneStaysText() {
        String broken = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": </tool_call> done";
        assertEquals(new Answer(broken, List.of(), false), parse(ToolFormat.HERMES, broken));
        String unnamed = "<tool_call>{\"arguments\": {}}</tool_call>";
        assertEquals(new Answer(unnamed, List.of(), false), parse(ToolFormat.HERMES, unnamed));
    }

    @Test
    void aCallTheAnswerDidNotCloseIsStillACallWhenItsJsonIsComplete() {
        Answer a = parse(ToolFormat.HERMES, "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"q\": \"a}b\\\"\"}}\n");
        assertEquals(List.of("f {\"q\":\"a}b\\\"\"}"), a.calls());
        assertEquals("", a.text());
    }

    @Test
    void llamaJsonCallsWithAndWithoutPythonTag() {
        Answer a = parse(ToolFormat.LLAMA3_JSON, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}; "
                + "{\"name\": \"get_time\", \"parameters\": {\"zone\": \"CET\", \"nested\": [1, {\"x\": \"}\"}]}}");
        assertEquals(List.of("get_weather {\"city\":\"Paris\"}", "get_time {\"zone\":\"CET\",\"nested\":[1,{\"x\":\"}\"}]}"), a.calls());
        assertEquals("", a.text());
        Answer tagged = parse(ToolFormat.LLAMA3_JSON, "<|python_tag|>{\"name\": \"f\", \"parameters\": {}}");
        assertEquals(List.of("f {}"), tagged.calls());
    }

    @Test
    void llamaPlainAnswersPassAtOnce() {
        ToolCallParser parser = new ToolCallParser(0, ToolFormat.LLAMA3_JSON);
        assertEquals(List.of(), parser.feed("  "), "whitespace may still open a call");
        assertEquals(List.of(new ChatEvent.Delta(0, "  Hello", null)), parser.feed("Hello"));
        assertEquals(List.of(new ChatEvent.Delta(0, " {\"name\": 1}", null)), parser.feed(" {\"name\": 1}"));
        assertEquals(new Answer("{\"nam\": 1}", List.of(), false), parse(ToolFormat.LLAMA3_JSON, "{\"nam\": 1}"));
        assertEquals(new Answer("{\"name\": 1}", List.of(), false), parse(ToolFormat.LLAMA3_JSON, "{\"name\": 1}"));
    }

    @Test
    void mistralCallsWithAndWithoutTheirMarker() {
        String calls = "[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, {\"name\": \"get_time\", \"arguments\": {}}]";
        List<String> expected = List.of("get_weather {\"city\":\"Paris\"}", "get_time {}");
        assertEquals(expected, parse(ToolFormat.MISTRAL, "[TOOL_CALLS]" + calls).calls());
        assertEquals(expected, parse(ToolFormat.MISTRAL, " " + calls).calls());
        assertEquals(new Answer("[1] is a list", List.of(), false), parse(ToolFormat.MISTRAL, "[1] is a list"));
    }
}
