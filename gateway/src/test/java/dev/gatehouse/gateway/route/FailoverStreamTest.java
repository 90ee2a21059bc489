package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.chat.FinishReason;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

class FailoverStreamTest {
    static final ApiException RESET = new ApiException(502, "server_error", "upstream_unavailable", null, "dropped", null);

    /** Its events, then {@code failure} (or the end). */
    static final class Scripted implements ChatStream {
        final Deque<ChatEvent> events;
        final ApiException failure;
        boolean closed;

        Scripted(ApiException failure, ChatEvent... events) {
            this.events = new ArrayDeque<>(List.of(events));
            this.failure = failure;
        }

        @Override
        public ChatEvent next() {
            if (events.isEmpty() && failure != null) {
                throw failure;
            }
            return events.poll();
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    static List<ChatEvent> drain(ChatStream s) throws InterruptedException {
        List<ChatEvent> out = new ArrayList<>();
        for (ChatEvent e; (e = s.next()) != null; ) {
            out.add(e);
        }
        return out;
    }

    @Test
    void theContinuationFollowsWithoutRepeatingTheSpaceAndWithSummedUsage() throws Exception {
        Scripted broken = new Scripted(RESET, new ChatEvent.Delta(0, "Once upon ", null));
        List<String> asked = new ArrayList<>();
        int[] resumed = {0};
        FailoverStream s = new FailoverStream(broken, "", partial -> {
            asked.add(partial);
            return new Scripted(null, new ChatEvent.Delta(0, " ", null), new ChatEvent.Delta(0, " a time.", null),
                    new ChatEvent.Finish(0, FinishReason.STOP), new ChatEvent.Usage(40, 3));
        }, () -> resumed[0]++);

        assertEquals(List.of(new ChatEvent.Delta(0, "Once upon ", null), new ChatEvent.Delta(0, "a time.", null),
                new ChatEvent.Finish(0, FinishReason.STOP), new ChatEvent.Usage(40 + 37, 3 + 3)), drain(s));
        assertEquals(List.of("Once upon "), asked);
        assertTrue(broken.closed, "the broken answer's connection is let go");
        assertEquals(1, resumed[0]);
    }

    @Test
    void aToolCallInFlightAClientErrorAHugeAnswerOrNoOneToContinueEndsWithTheError() throws Exception {
        FailoverStream.Resume never = partial -> {
            throw new AssertionError("not continued");
        };
        FailoverStream tool = new FailoverStream(new Scripted(RESET, new ChatEvent.ToolCallStart(0, 0, "call_1", "f")), "", never, () -> { });
        tool.next();
        assertSame(RESET, assertThrows(ApiException.class, tool::next));

        ApiException bad = ApiException.invalid("messages", "no");
        FailoverStream client = new FailoverStream(new Scripted(bad, new ChatEvent.Delta(0, "Hi", null)), "", never, () -> { });
        client.next();
        assertSame(bad, assertThrows(ApiException.class, client::next));

        FailoverStream huge = new FailoverStream(new Scripted(RESET,
                new ChatEvent.Delta(0, "x".repeat(FailoverStream.MAX_PARTIAL_CHARS + 1), null)), "", never, () -> { });
        huge.next();
        assertSame(RESET, assertThrows(ApiException.class, huge::next), "an answer this long is not kept to be continued");

        FailoverStream none = new FailoverStream(new Scripted(RESET, new ChatEvent.Delta(0, "Hi", null)), "", partial -> {
            throw new ApiException(503, "server_error", "backend_unavailable", null, "none", null);
        }, () -> { });
        none.next();
        assertSame(RESET, assertThrows(ApiException.class, none::next), "the client hears what broke");
    }

    @Test
    void whatEarlierTargetsWroteIsPartOfTheNextContinuation() throws Exception {
        List<String> asked = new ArrayList<>();
        FailoverStream s = new FailoverStream(new Scripted(RESET, new ChatEvent.Delta(0, " upon", null)), "Once", partial -> {
            asked.add(partial);
            return new Scripted(null, new ChatEvent.Usage(1, 1));
        }, () -> { });
        drain(s);
        assertEquals(List.of("Once upon"), asked);
    }
}
