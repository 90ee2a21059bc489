package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.connection.ClientConnection;
import dev.gatehouse.gateway.pipeline.Call;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.UncheckedIOException;
import java.util.function.Consumer;

/**
 * A whole (not streamed) answer, in any dialect: its events are read, then sent as one JSON body. A
 * client that leaves meanwhile (noticed for local engines' answers), or cannot take the body in time
 * (server.write-timeout-seconds), ends as a {@link SseWriter.ClientGoneException} (status 499).
 */
public final class WholeAnswer {
    private WholeAnswer() {}

    /**
     * Feeds every event of the answer to {@code encoder}, then closes its stream (which cancels a
     * generation cut short). A local engine's answer is read while the client is watched, so one that
     * leaves frees its KV slots at once; the watch costs the connection its keep-alive, so a provider's
     * answer (which holds no slot) is read unwatched and its connection stays open for the next request.
     */
    public static void collect(ServerRequest req, ServerResponse res, Call.Answer answer, Consumer<ChatEvent> encoder)
            throws InterruptedException {
        ClientConnection.Watch watch = answer.local() ? ClientConnection.watch(req, res) : null;
        try (ChatStream stream = answer.stream()) {
            for (ChatEvent e; (e = stream.next()) != null; ) {
                encoder.accept(e);
            }
        } catch (InterruptedException | RuntimeException e) {
            if (watch != null && watch.gone()) { // the interrupt was the watch's
                throw new SseWriter.ClientGoneException(e);
            }
            throw e;
        } finally {
            if (watch != null) {
                watch.close();
            }
        }
    }

    /** Sends the answer in one write, under the client's write timeout ({@link ClientConnection#sendLimited}). */
    public static void send(ServerRequest req, ServerResponse res, JsonNode body) {
        try {
            res.header(HeaderNames.CONTENT_TYPE, "application/json");
            ClientConnection.sendLimited(req, res, OpenAiJson.bytes(body));
        } catch (UncheckedIOException e) {
            throw new SseWriter.ClientGoneException(e);
        }
    }
}
