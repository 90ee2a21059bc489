package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.connection.ClientConnection;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.UncheckedIOException;
import java.util.function.Consumer;

/**
 * A whole (not streamed) answer, in any dialect: its events are read while the client is watched,
 * then sent as one JSON body. A client that leaves meanwhile, or cannot take the body in time
 * (server.write-timeout-seconds), ends as a {@link SseWriter.ClientGoneException} (status 499).
 */
public final class WholeAnswer {
    private WholeAnswer() {}

    /** Feeds every event of {@code stream} to {@code encoder}, then closes it (which cancels a generation cut short). */
    public static void collect(ServerRequest req, ServerResponse res, ChatStream stream, Consumer<ChatEvent> encoder)
            throws InterruptedException {
        ClientConnection.Watch watch = ClientConnection.watch(req, res);
        try (stream) {
            for (ChatEvent e; (e = stream.next()) != null; ) {
                encoder.accept(e);
            }
        } catch (InterruptedException | RuntimeException e) {
            if (watch.gone()) { // the interrupt was the watch's
                throw new SseWriter.ClientGoneException(e);
            }
            throw e;
        } finally {
            watch.close();
        }
    }

    public static void send(ServerResponse res, JsonNode body) {
        try {
            res.header(HeaderNames.CONTENT_TYPE, "application/json").send(OpenAiJson.bytes(body));
        } catch (UncheckedIOException e) {
            throw new SseWriter.ClientGoneException(e);
        }
    }
}
