package dev.gatehouse.gateway.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.api.openai.OpenAiJson;
import dev.gatehouse.gateway.api.openai.SseWriter;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.connection.HeldBody;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A streamed answer as named SSE events ({@code event: NAME} then {@code data: JSON}), as Anthropic's
 * Messages API and OpenAI's Responses API stream: the dialect's encoder makes the events, this sends
 * them. An answer from a target that was sent the client's original body arrives with its events as
 * {@link ChatEvent.Raw}: those go out exactly as the target sent them, named by their {@code type},
 * and the translated events beside them (which the pipeline meters) are not encoded again.
 */
public final class NamedEventStream {
    private static final Pattern EVENT_NAME = Pattern.compile("[A-Za-z0-9_.]{1,64}");

    private NamedEventStream() {}

    /** One event: its name and its JSON. */
    public record Event(String name, ObjectNode data) {}

    /** A dialect's encoder of one streamed answer. */
    public interface Encoder {
        /** The first event, before any of the answer's. */
        Event start();

        /** The events one ChatEvent becomes (possibly none). */
        List<Event> events(ChatEvent e);

        /** The last events, once the answer has ended. */
        List<Event> end();

        /** The error event of a failure after the headers have gone. */
        ObjectNode error(ApiException e);
    }

    /** Sends {@code stream} encoded by {@code encoder}, then closes it; a client that left is a ClientGoneException. */
    public static void send(ServerRequest req, ServerResponse res, ChatStream stream, Encoder encoder)
            throws InterruptedException {
        try (stream) {
            ChatEvent first = stream.next(); // a refusal before the first token still gets a proper status
            res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
            res.header(HeaderNames.CACHE_CONTROL, "no-cache");
            try (var out = new HeldBody(req, res)) {
                SseWriter sse = new SseWriter(out);
                try {
                    // Events are flushed when the next one is not here yet: one write for a burst.
                    if (first instanceof ChatEvent.Raw) {
                        for (ChatEvent e = first; e != null; e = stream.next()) {
                            if (e instanceof ChatEvent.Raw raw) {
                                sse.writeEvent(name(raw), OpenAiJson.bytes(raw.data()));
                            }
                            flushUnlessReady(sse, stream);
                        }
                    } else {
                        write(sse, encoder.start());
                        for (ChatEvent e = first; e != null; e = stream.next()) {
                            for (Event event : encoder.events(e)) {
                                write(sse, event);
                            }
                            flushUnlessReady(sse, stream);
                        }
                        for (Event event : encoder.end()) {
                            write(sse, event);
                        }
                    }
                    // no flush: closing the stream sends what is held (one write for an answer that came at once)
                } catch (ApiException e) { // headers are gone: the error travels as an error event
                    sse.event("error", OpenAiJson.bytes(encoder.error(e)));
                }
            } catch (IOException e) {
                throw new SseWriter.ClientGoneException(e);
            }
        }
    }

    /** A target's event named by its type; a type that could break the SSE framing is not sent as a name. */
    private static String name(ChatEvent.Raw raw) {
        String type = raw.data().path("type").asText("");
        return EVENT_NAME.matcher(type).matches() ? type : "message";
    }

    private static void write(SseWriter sse, Event event) {
        sse.writeEvent(event.name(), OpenAiJson.bytes(event.data()));
    }

    private static void flushUnlessReady(SseWriter sse, ChatStream stream) {
        if (!stream.ready()) {
            sse.flush();
        }
    }
}
