package dev.gatehouse.gateway.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.chat.FinishReason;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The template's stream: SSE framing however the bytes arrive, and every way a stream can end. */
class ProviderStreamTest {
    /** Turns each data payload's "t" into a text delta; "end" ends the stream when {@code marker}. */
    private static final class Echo implements StreamTranslator {
        final boolean bodyEndIsComplete;
        boolean done;

        Echo(boolean bodyEndIsComplete) {
            this.bodyEndIsComplete = bodyEndIsComplete;
        }

        @Override
        public List<ChatEvent> event(JsonNode event) {
            if (event.has("end")) {
                done = true;
                return List.of(new ChatEvent.Finish(0, FinishReason.STOP));
            }
            return List.of(new ChatEvent.Delta(0, event.path("t").asText(), null));
        }

        @Override
        public boolean done() {
            return done;
        }

        @Override
        public List<ChatEvent> atEnd() {
            return bodyEndIsComplete ? List.of(new ChatEvent.Usage(1, 2)) : null;
        }
    }

    /** A body that hands over one byte per read: every event is split at every byte boundary. */
    private static InputStream trickle(String body) {
        return new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1));
            }
        };
    }

    private static List<ChatEvent> drain(ChatStream stream) throws InterruptedException {
        List<ChatEvent> out = new ArrayList<>();
        for (ChatEvent e; (e = stream.next()) != null; ) {
            out.add(e);
        }
        return out;
    }

    private static final String EVENTS = "event: delta\r\ndata: {\"t\":\"Grüße\"}\r\n\r\n: a comment\n\ndata: {\"t\":\" 👋\"}\n\n";

    @Test
    void eventsSplitAtEveryByteAndCrlfOrLfAssembleExactly() throws Exception {
        ProviderStream stream = new ProviderStream("p", trickle(EVENTS + "data: {\"end\":true}\n\n"), 5_000, new Echo(false));
        assertEquals(List.of(new ChatEvent.Delta(0, "Grüße", null), new ChatEvent.Delta(0, " 👋", null),
                new ChatEvent.Finish(0, FinishReason.STOP)), drain(stream));
    }

    @Test
    void doneEndsAnyStream() throws Exception {
        ProviderStream stream = new ProviderStream("p", trickle(EVENTS + "data: [DONE]\n\n"), 5_000, new Echo(false));
        assertEquals(2, drain(stream).size());
    }

    @Test
    void aBodyThatEndsWithoutAnEndMarkerIsAFailedAnswerUnlessTheTranslatorSaysItIsComplete() throws Exception {
        ProviderStream cut = new ProviderStream("p", trickle(EVENTS), 5_000, new Echo(false));
        cut.next();
        cut.next();
        ApiException e = assertThrows(ApiException.class, cut::next);
        assertEquals("upstream_stream_ended", e.code());

        ProviderStream complete = new ProviderStream("p", trickle(EVENTS), 5_000, new Echo(true));
        assertEquals(new ChatEvent.Usage(1, 2), drain(complete).getLast());
    }

    @Test
    void anEventThatIsNotJsonIsA502() throws Exception {
        ProviderStream stream = new ProviderStream("p", trickle("data: {not json\n\n"), 5_000, new Echo(false));
        assertEquals(502, assertThrows(ApiException.class, stream::next).status());
    }

    /** A body of several parts: each read returns what is left of one part, as TCP hands over separate writes. */
    private static InputStream inParts(String... parts) {
        List<byte[]> left = new ArrayList<>();
        for (String part : parts) {
            left.add(part.getBytes(StandardCharsets.UTF_8));
        }
        return new InputStream() {
            private int offset;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left.isEmpty()) {
                    return -1;
                }
                byte[] part = left.getFirst();
                int n = Math.min(len, part.length - offset);
                System.arraycopy(part, offset, b, off, n);
                offset += n;
                if (offset == part.length) {
                    left.removeFirst();
                    offset = 0;
                }
                return n;
            }
        };
    }

    @Test
    void readyOnlyWhileTheNextEventIsAlreadyHereSoTheWriterNeverHoldsOneBackWhileWaiting() throws Exception {
        ProviderStream stream = new ProviderStream("p", inParts(
                "data: {\"t\":\"a\"}\n\ndata: {\"t\":\"b\"}\n\nevent: x\n", // a, b and half of an event: one read
                "data: {\"t\":\"c\"}\n\n",
                "data: {\"t\":\"d\"}\n\ndata: {\"t\":", // d and the start of e
                "\"e\"}\n\ndata: {not json\n\n"), 5_000, new Echo(false));
        assertEquals("a", ((ChatEvent.Delta) stream.next()).text());
        assertEquals(true, stream.ready(), "b came in the same read");
        assertEquals("b", ((ChatEvent.Delta) stream.next()).text());
        assertEquals(false, stream.ready(), "c needs another read: the writer flushes a and b now");
        assertEquals("c", ((ChatEvent.Delta) stream.next()).text());
        assertEquals("d", ((ChatEvent.Delta) stream.next()).text());
        assertEquals(false, stream.ready(), "only half of e is here");
        assertEquals("e", ((ChatEvent.Delta) stream.next()).text());
        assertEquals(true, stream.ready(), "the broken event is here: next() fails at once");
        assertEquals(502, assertThrows(ApiException.class, stream::next).status());
    }
}
