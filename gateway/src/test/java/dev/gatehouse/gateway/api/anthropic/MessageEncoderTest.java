package dev.gatehouse.gateway.api.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.api.NamedEventStream;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MessageEncoderTest {

    /** The stream of {@code events} as Anthropic's events, start to end. */
    private static List<NamedEventStream.Event> stream(List<ChatEvent> events) {
        MessageEncoder encoder = new MessageEncoder("msg_1", "m", 5);
        List<NamedEventStream.Event> out = new ArrayList<>();
        out.add(encoder.start());
        events.forEach(e -> out.addAll(encoder.events(e)));
        out.addAll(encoder.end());
        return out;
    }

    /** Each content block's type and its text or arguments, in order, as a client assembles them. */
    private static List<String> blocks(List<NamedEventStream.Event> events) {
        List<String> blocks = new ArrayList<>();
        for (NamedEventStream.Event e : events) {
            JsonNode data = e.data();
            switch (e.name()) {
                case "content_block_start" -> {
                    assertEquals(blocks.size(), data.path("index").asInt(), "blocks numbered in order");
                    blocks.add(data.path("content_block").path("type").asText() + ":");
                }
                case "content_block_delta" -> {
                    int index = data.path("index").asInt();
                    JsonNode delta = data.path("delta");
                    blocks.set(index, blocks.get(index) + delta.path("text").asText(delta.path("partial_json").asText()));
                }
                default -> { }
            }
        }
        return blocks;
    }

    @Test
    void textThatArrivesWhileToolArgumentsStreamIsSentAfterTheCallNotDropped() {
        List<NamedEventStream.Event> events = stream(List.of(
                new ChatEvent.Delta(0, "Let me look. ", null),
                new ChatEvent.ToolCallStart(0, 0, "toolu_1", "get_weather"),
                new ChatEvent.ToolCallDelta(0, 0, "{\"city\":"),
                new ChatEvent.Delta(0, "Paris, ", null),
                new ChatEvent.ToolCallDelta(0, 0, "\"Paris\"}"),
                new ChatEvent.Delta(0, "then Tokyo.", null),
                new ChatEvent.ToolCallEnd(0, 0),
                new ChatEvent.Finish(0, FinishReason.TOOL_CALLS),
                new ChatEvent.Usage(5, 9)));
        assertEquals(List.of("text:Let me look. ", "tool_use:{\"city\":\"Paris\"}", "text:Paris, then Tokyo."), blocks(events));
        assertEquals("tool_use", events.get(events.size() - 2).data().path("delta").path("stop_reason").asText());
    }

    @Test
    void textHeldBehindAnUnendedCallComesOutAtTheFinish() {
        List<NamedEventStream.Event> events = stream(List.of(
                new ChatEvent.ToolCallStart(0, 0, "toolu_1", "f"),
                new ChatEvent.ToolCallDelta(0, 0, "{}"),
                new ChatEvent.Delta(0, "late", null),
                new ChatEvent.Finish(0, FinishReason.TOOL_CALLS)));
        assertEquals(List.of("tool_use:{}", "text:late"), blocks(events));
    }

    @Test
    void aStopSequenceIsNamedWholeAndStreamed() {
        List<ChatEvent> answer = List.of(new ChatEvent.Delta(0, "Hello", null),
                new ChatEvent.Finish(0, FinishReason.STOP, "\n\nHuman:"), new ChatEvent.Usage(3, 2));
        MessageEncoder whole = new MessageEncoder("msg_1", "m", 3);
        answer.forEach(whole::add);
        assertEquals("stop_sequence", whole.message().path("stop_reason").asText());
        assertEquals("\n\nHuman:", whole.message().path("stop_sequence").asText());

        JsonNode delta = stream(answer).stream().filter(e -> e.name().equals("message_delta")).findFirst().orElseThrow()
                .data().path("delta");
        assertEquals("stop_sequence", delta.path("stop_reason").asText());
        assertEquals("\n\nHuman:", delta.path("stop_sequence").asText());

        MessageEncoder plain = new MessageEncoder("msg_2", "m", 3);
        List.of(new ChatEvent.Delta(0, "Hi", null), new ChatEvent.Finish(0, FinishReason.STOP)).forEach(plain::add);
        assertEquals("end_turn", plain.message().path("stop_reason").asText());
        assertEquals(true, plain.message().path("stop_sequence").isNull());
    }
}
