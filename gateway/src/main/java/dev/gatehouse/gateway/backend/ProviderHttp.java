package dev.gatehouse.gateway.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.connection.Deadlines;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Arrays;

/**
 * The HTTP side every cloud backend shares: one client per provider, and the mapping of transport
 * trouble to the gateway's errors (timeout 504, unreachable 502, not JSON 502). What differs per
 * provider — its URL, headers, bodies and error shapes — stays in the provider's own folder.
 */
public final class ProviderHttp {
    public static final ObjectMapper MAPPER = new ObjectMapper();
    /** Every provider's waits for response headers, checked 50 ms apart (a timeout is seen up to that late). */
    private static final Deadlines HEADER_WAITS = new Deadlines("gatehouse-upstream-headers", 50);
    /** The largest Content-Length that sizes a whole body's buffer at once (readAll); a larger body grows into place. */
    private static final int SIZED_BODY_LIMIT = 1 << 20;

    private final String provider;
    private final long timeoutMillis;
    private final HttpClient http;

    public ProviderHttp(ProviderConfig config) {
        this.provider = config.name();
        this.timeoutMillis = config.timeoutMillis();
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofMillis(Math.min(config.timeoutMillis(), 10_000)))
                // The client's own steps run on the thread that completes them (its selector thread, or
                // the caller's virtual thread) instead of hopping to a pool of platform threads: a
                // proxied request costs ~10 fewer context switches (docs/benchmarks.md, "CPU per request").
                // Safe because nothing here blocks in a step: the body is read through ofInputStream,
                // whose subscriber only queues buffers for the caller's thread to take.
                .executor(Runnable::run)
                .build();
    }

    /**
     * Sends {@code request} and waits at most the provider's timeout-ms for the response headers (a
     * 504 after that). The wait is kept by {@link #HEADER_WAITS}, which interrupts this thread when it
     * is over, and the JDK client cancels an exchange whose caller is interrupted. The request's own
     * timeout would have registered a timer with the client, waking its selector thread every time.
     */
    public HttpResponse<InputStream> send(HttpRequest request) {
        try (Deadlines.Guard wait = HEADER_WAITS.start(timeoutMillis * 1_000_000)) {
            try {
                return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw fromIo(provider, e);
            } catch (InterruptedException e) {
                if (wait.expired()) {
                    throw fromIo(provider, new HttpTimeoutException("no response headers in " + timeoutMillis + " ms"));
                }
                Thread.currentThread().interrupt();
                throw new ApiException(503, "server_error", null, null, "Interrupted while waiting for the provider.", null);
            }
        }
    }

    /**
     * A whole body; a provider silent for the provider's timeout-ms after its headers is a timeout
     * (504). Read into a buffer of the body's Content-Length (up to 1 MB; else one that starts at
     * 1 KB), which doubles if more comes: readAllBytes took 16 KB of fresh buffer for the few hundred
     * bytes of a typical answer, and a 1 KB start then a copy to size ~1.3 KB (docs/benchmarks.md,
     * "Seventh pass: JIT churn and allocations").
     */
    public byte[] readAll(HttpResponse<InputStream> response) {
        long declared = response.headers().firstValueAsLong("content-length").orElse(-1);
        try (ReadTimeoutStream body = new ReadTimeoutStream(response.body(), timeoutMillis)) {
            byte[] buffer = new byte[declared > 0 && declared <= SIZED_BODY_LIMIT ? (int) declared : 1024];
            int length = 0;
            while (true) {
                if (length == buffer.length) {
                    int next = body.read(); // a full buffer may hold the whole body: only the end tells
                    if (next < 0) {
                        return buffer;
                    }
                    buffer = Arrays.copyOf(buffer, Math.multiplyExact(buffer.length, 2));
                    buffer[length++] = (byte) next;
                }
                int n = body.read(buffer, length, buffer.length - length);
                if (n < 0) {
                    return Arrays.copyOf(buffer, length);
                }
                length += n;
            }
        } catch (IOException e) {
            throw fromIo(provider, e);
        }
    }

    public JsonNode parse(byte[] body) {
        try {
            return MAPPER.readTree(body);
        } catch (IOException e) {
            throw new ApiException(502, "server_error", "upstream_bad_response", null,
                    "Provider '" + provider + "' answered with a body that is not JSON.", null);
        }
    }

    public static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** How long the provider asked to be left alone, in milliseconds; null when it did not say. */
    public static Long retryAfterMillis(HttpResponse<?> response) {
        return retryAfterMillis(response.headers(), Instant.now());
    }

    /**
     * OpenAI's {@code retry-after-ms} when sent (the most precise), else {@code Retry-After} as
     * seconds or as an HTTP date (RFC 9110), counted from {@code now}; null when neither reads.
     */
    public static Long retryAfterMillis(HttpHeaders headers, Instant now) {
        String millis = headers.firstValue("retry-after-ms").map(String::trim).orElse(null);
        if (millis != null) {
            try {
                double ms = Double.parseDouble(millis);
                if (ms >= 0 && ms < Long.MAX_VALUE) {
                    return (long) Math.ceil(ms);
                }
            } catch (NumberFormatException ignored) {
                // fall through to Retry-After
            }
        }
        String value = headers.firstValue("retry-after").map(String::trim).orElse(null);
        if (value == null) {
            return null;
        }
        try {
            long seconds = Long.parseLong(value);
            return seconds < 0 ? null : Math.min(seconds, Long.MAX_VALUE / 1000) * 1000;
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                return Math.max(0, Duration.between(now, at).toMillis());
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
    }

    /** A transport failure: timeouts and stalled streams are 504, anything else 502 (the router may fall back). */
    public static ApiException fromIo(String provider, IOException e) {
        if (e instanceof HttpTimeoutException || e instanceof ReadTimeoutStream.StalledException) {
            return new ApiException(504, "server_error", "upstream_timeout", null,
                    "Provider '" + provider + "' did not answer in time.", null);
        }
        return new ApiException(502, "server_error", "upstream_unavailable", null,
                "Provider '" + provider + "' could not be reached or dropped the connection.", null);
    }
}
