package dev.gatehouse.gateway.backend.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * An upstream SSE body read on the caller's thread, one {@code data:} line at a time, so a slow
 * client slows the read and TCP slows the provider. Ends at {@code data: [DONE]}; a body that ends
 * before it is a failed answer, not a short one; so is a provider silent for longer than the
 * timeout between two lines (the JDK client has no read timeout of its own).
 */
final class SseChatStream implements ChatStream {
    private static final ScheduledThreadPoolExecutor WATCHDOG = watchdog();

    private final long stallMillis;
    private volatile boolean stalled;
    private final String provider;
    private final String apiKey;
    private final InputStream body;
    private final BufferedReader lines;
    private final Queue<ChatEvent> pending = new ArrayDeque<>();
    private boolean done;

    SseChatStream(String provider, String apiKey, InputStream body, long stallMillis) {
        this.stallMillis = stallMillis;
        this.provider = provider;
        this.apiKey = apiKey;
        this.body = body;
        this.lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
    }

    @Override
    public ChatEvent next() {
        while (pending.isEmpty() && !done) {
            String line = readLine();
            if (line == null) {
                close();
                throw new ApiException(502, "server_error", "upstream_stream_ended", null,
                        "Provider '" + provider + "' ended the stream early.", null);
            }
            if (!line.startsWith("data:")) {
                continue; // blank separators, ": keep-alive" comments, event: names
            }
            String data = line.substring(5).trim();
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

    /** One line, or a 504 when none comes within the timeout: the watchdog closes the body under the read. */
    private String readLine() {
        ScheduledFuture<?> alarm = WATCHDOG.schedule(() -> {
            stalled = true;
            close();
        }, stallMillis, TimeUnit.MILLISECONDS);
        try {
            String line = lines.readLine();
            if (stalled) {
                throw stalledError();
            }
            return line;
        } catch (IOException e) {
            close();
            throw stalled ? stalledError() : OpenAiErrors.fromIo(provider, e);
        } finally {
            alarm.cancel(false);
        }
    }

    private ApiException stalledError() {
        return new ApiException(504, "server_error", "upstream_timeout", null,
                "Provider '" + provider + "' stopped sending for " + stallMillis + " ms.", null);
    }

    private static ScheduledThreadPoolExecutor watchdog() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "upstream-stall-watchdog");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true); // one alarm per line: cancelled ones must not pile up
        return timer;
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

    /** Closing the body before its end aborts the upstream request. */
    @Override
    public void close() {
        try {
            body.close();
        } catch (IOException ignored) {
            // nothing more to read either way
        }
    }
}
