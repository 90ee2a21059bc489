package dev.gatehouse.gateway.backend.gemini;

import dev.gatehouse.gateway.backend.ProviderHttp;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.SseLines;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Queue;

/**
 * streamGenerateContent?alt=sse: Gemini sends no end marker, so the body's end is the end, and it
 * is a complete answer only if every choice has its finishReason by then.
 */
final class GeminiChatStream implements ChatStream {
    private final String provider;
    private final String apiKey;
    private final int choices;
    private final SseLines lines;
    private final GeminiEventTranslator translator = new GeminiEventTranslator();
    private final Queue<ChatEvent> pending = new ArrayDeque<>();
    private boolean done;

    GeminiChatStream(String provider, String apiKey, int choices, InputStream body, long stallMillis) {
        this.provider = provider;
        this.apiKey = apiKey;
        this.choices = choices;
        this.lines = new SseLines(body, stallMillis);
    }

    @Override
    public ChatEvent next() {
        while (pending.isEmpty() && !done) {
            String data;
            try {
                data = lines.nextData();
            } catch (IOException e) {
                close();
                throw ProviderHttp.fromIo(provider, e);
            }
            if (data == null) {
                close();
                if (translator.finished() < choices) {
                    throw new ApiException(502, "server_error", "upstream_stream_ended", null,
                            "Provider '" + provider + "' ended the stream early.", null);
                }
                done = true;
                if (translator.usage() != null) {
                    pending.add(translator.usage());
                }
                break;
            }
            JsonNode chunk = parse(data);
            if (chunk.has("error")) {
                close();
                // after the headers: whatever Google's code, the answer is broken off
                throw GeminiErrors.fromResponse(provider, apiKey, 502, data.getBytes(StandardCharsets.UTF_8), null);
            }
            pending.addAll(translator.response(chunk));
        }
        return pending.poll();
    }

    private JsonNode parse(String data) {
        try {
            return GeminiRequestTranslator.MAPPER.readTree(data);
        } catch (IOException e) {
            close();
            throw new ApiException(502, "server_error", "upstream_bad_response", null,
                    "Provider '" + provider + "' sent a stream chunk that is not JSON.", null);
        }
    }

    @Override
    public void close() {
        lines.close();
    }
}
