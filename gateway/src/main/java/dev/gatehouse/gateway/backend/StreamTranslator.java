package dev.gatehouse.gateway.backend;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ChatEvent;

import java.io.IOException;
import java.util.List;

/**
 * One streamed answer's events -> ChatEvents, holding what the stream has said so far (open tool
 * calls, usage). OpenAI's {@code data: [DONE]} ends any stream; other end markers are the translator's.
 */
public interface StreamTranslator {

    /** The events of one SSE data payload; an error event throws the gateway's ApiException. */
    List<ChatEvent> event(JsonNode event);

    /**
     * The events of one payload as JSON text. Read as a tree for {@link #event(JsonNode)} unless a
     * translator on the hot path reads the text itself with a streaming parser.
     *
     * @throws IOException when the text is not JSON
     */
    default List<ChatEvent> event(String json) throws IOException {
        return event(ProviderHttp.MAPPER.readTree(json));
    }

    /** Whether the provider has said the answer is complete (Anthropic's message_stop). */
    boolean done();

    /**
     * The body ended without an end marker: the last events when that is how the provider ends a
     * complete answer (Gemini sends none), or null when the answer was cut short.
     */
    List<ChatEvent> atEnd();
}
