package dev.gatehouse.gateway.backend.openai;

import dev.gatehouse.gateway.backend.ProviderHttp;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.SseLines;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Queue;

/**
 * An OpenAI chat.completion.chunk stream. Ends at {@code data: [DONE]}; a body that ends before it
 * is a failed answer, not a short one.
 */
final class SseChatStream implements ChatStream {
    private final String provider;
    private final String apiKey;
    private final SseLines lines;
    private final Queue<ChatEvent> pending = new ArrayDeque<>();
    private boolean done;

    SseChatStream(String provider, String apiKey, InputStream body, long stallMillis) {
        this.provider = provider;
        this.apiKey = apiKey;
        this.lines = new SseLines(body, stallMillis);
    }

    @Override
    public ChatEvent next() {
        while (pending.isEmpty() && !done) {
            String data = nextData();
            if (data == null) {
                close();
                throw new ApiException(502, "server_error", "upstream_stream_ended", null,
                        "Provider '" + provider + "' ended the stream early.", null);
            }
            if (data.equals("[DONE]")) {
                done = true;
                close();
                break;
            }
            JsonNode chunk = parse(data);
            if (chunk.has("error")) {
                close();
                throw OpenAiErrors.inStream(provider, apiKey, chunk.path("error"));
            }
            pending.addAll(OpenAiEventTranslator.chunk(chunk));
        }
        return pending.poll();
    }

    private String nextData() {
        try {
            return lines.nextData();
        } catch (IOException e) {
            close();
            throw ProviderHttp.fromIo(provider, e);
        }
    }

    private JsonNode parse(String data) {
        try {
            return OpenAiRequestTranslator.MAPPER.readTree(data);
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
