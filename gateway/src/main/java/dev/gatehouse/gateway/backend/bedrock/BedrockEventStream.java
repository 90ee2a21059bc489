package dev.gatehouse.gateway.backend.bedrock;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.backend.ReadTimeoutStream;
import dev.gatehouse.gateway.backend.StreamPayloads;
import dev.gatehouse.gateway.chat.ApiException;
import software.amazon.awssdk.eventstream.HeaderValue;
import software.amazon.awssdk.eventstream.Message;
import software.amazon.awssdk.eventstream.MessageDecoder;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Queue;

/**
 * ConverseStream's body, AWS event-stream framed (application/vnd.amazon.eventstream): binary
 * messages of a prelude (total and headers length, CRC32), headers ({@code :message-type},
 * {@code :event-type} or {@code :exception-type}), a JSON payload and a CRC32 of the whole. The
 * SDK's decoder checks both CRCs and bounds each frame (headers 128 KiB, payload 24 MiB); frames
 * may arrive split at any byte. Each message comes out as {@code {"<event or exception type>":
 * payload}}, the shape of Bedrock's JSON union, read at the client's pace.
 */
final class BedrockEventStream implements StreamPayloads {
    private final String provider;
    private final ReadTimeoutStream body;
    private final Queue<Message> messages = new ArrayDeque<>();
    private final MessageDecoder decoder = new MessageDecoder(messages::add);
    private final byte[] buffer = new byte[16 * 1024];

    BedrockEventStream(String provider, InputStream body, long stallMillis) {
        this.provider = provider;
        this.body = new ReadTimeoutStream(body, stallMillis);
    }

    @Override
    public String nextData() throws IOException {
        while (messages.isEmpty()) {
            int n = body.read(buffer, 0, buffer.length);
            if (n < 0) {
                return null; // a frame cut short at the end is a stream that ended early
            }
            try {
                decoder.feed(buffer, 0, n);
            } catch (IllegalArgumentException | IllegalStateException e) {
                // a frame that fails its CRC or length checks: nothing past it can be trusted
                close();
                throw new ApiException(502, "server_error", "upstream_bad_response", null,
                        "Provider '" + provider + "' sent an event-stream frame that fails its checks.", null);
            }
        }
        Message m = messages.poll();
        String kind = header(m, ":message-type");
        String type = header(m, kind.equals("exception") ? ":exception-type" : ":event-type");
        ObjectNode event = BedrockRequestTranslator.MAPPER.createObjectNode();
        event.set(type.isEmpty() ? "unknown" : type, BedrockRequestTranslator.MAPPER.readTree(m.getPayload()));
        return event.toString();
    }

    private static String header(Message m, String name) {
        HeaderValue value = m.getHeaders().get(name);
        return value == null ? "" : value.getString();
    }

    @Override
    public void close() {
        body.close();
    }
}
