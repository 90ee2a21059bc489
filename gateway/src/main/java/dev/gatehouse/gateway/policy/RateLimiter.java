package dev.gatehouse.gateway.policy;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Requests and tokens per minute per key, in memory, as a sliding window: every admitted request
 * stays in its key's log for 60 seconds with its token count, so a limit is exact at its threshold
 * (no fixed-window burst of twice the limit at a minute boundary). A null limit is unlimited.
 * The clock is injected (nanos) so tests can move time.
 */
public final class RateLimiter {
    public static final long WINDOW_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** One admitted request: its tokens start as the estimate and are replaced by real usage. */
    public static final class Permit {
        final long at;
        long tokens;

        Permit(long at, long tokens) {
            this.at = at;
            this.tokens = tokens;
        }
    }

    /**
     * The answer for one request. {@code exceeded} is null when admitted, else "requests" or
     * "tokens" (OpenAI's error type); {@code headers} are OpenAI's x-ratelimit-* for the response.
     */
    public record Decision(Permit permit, String exceeded, long retryAfterSeconds, String message,
                           Map<String, String> headers) {
        public boolean allowed() {
            return exceeded == null;
        }
    }

    private final LongSupplier nanos;
    private final Map<String, ArrayDeque<Permit>> logs = new HashMap<>();

    public RateLimiter(LongSupplier nanos) {
        this.nanos = nanos;
    }

    public static RateLimiter system() {
        return new RateLimiter(System::nanoTime);
    }

    /** Admits the request and records it, or refuses it without recording anything. */
    public synchronized Decision acquire(String keyId, Integer rpm, Integer tpm, long estimatedTokens) {
        long now = nanos.getAsLong();
        ArrayDeque<Permit> log = prune(keyId, now);
        long used = tokens(log);
        if (rpm != null && log.size() + 1 > rpm) {
            long wait = log.isEmpty() ? WINDOW_NANOS : log.peekFirst().at + WINDOW_NANOS - now; // rpm 0: a full window
            return refuse("requests", wait, "Rate limit reached on requests per min (RPM): Limit " + rpm
                    + ", Used " + log.size() + ", Requested 1.", rpm, tpm, log, used, now);
        }
        if (tpm != null && used + estimatedTokens > tpm) {
            return refuse("tokens", tokenWait(log, used, estimatedTokens, tpm, now), "Rate limit reached on tokens per min (TPM): Limit "
                    + tpm + ", Used " + used + ", Requested " + estimatedTokens + ".", rpm, tpm, log, used, now);
        }
        Permit p = new Permit(now, estimatedTokens);
        log.addLast(p);
        return new Decision(p, null, 0, null, headers(rpm, tpm, log, used + estimatedTokens, now));
    }

    /** Replaces a permit's estimate with the tokens the request really used. */
    public synchronized void settle(Permit permit, long actualTokens) {
        permit.tokens = actualTokens;
    }

    /** The x-ratelimit-* headers for a response that consumed nothing (e.g. /v1/models). */
    public synchronized Map<String, String> peek(String keyId, Integer rpm, Integer tpm) {
        long now = nanos.getAsLong();
        ArrayDeque<Permit> log = prune(keyId, now);
        return headers(rpm, tpm, log, tokens(log), now);
    }

    private ArrayDeque<Permit> prune(String keyId, long now) {
        ArrayDeque<Permit> log = logs.computeIfAbsent(keyId, k -> new ArrayDeque<>());
        while (!log.isEmpty() && now - log.peekFirst().at >= WINDOW_NANOS) {
            log.removeFirst();
        }
        return log;
    }

    private static long tokens(ArrayDeque<Permit> log) {
        long sum = 0;
        for (Permit p : log) {
            sum += p.tokens;
        }
        return sum;
    }

    /** How long until enough old requests leave the window for {@code wanted} tokens to fit. */
    private static long tokenWait(ArrayDeque<Permit> log, long used, long wanted, long tpm, long now) {
        long left = used;
        for (Iterator<Permit> it = log.iterator(); it.hasNext(); ) {
            Permit p = it.next();
            left -= p.tokens;
            if (left + wanted <= tpm) {
                return p.at + WINDOW_NANOS - now;
            }
        }
        return WINDOW_NANOS; // bigger than the whole limit: no wait makes it fit, say a minute
    }

    private static Decision refuse(String type, long waitNanos, String message, Integer rpm, Integer tpm,
                                   ArrayDeque<Permit> log, long used, long now) {
        long seconds = Math.max(1, ceilSeconds(waitNanos));
        return new Decision(null, type, seconds, message + " Please try again in " + seconds + "s.",
                headers(rpm, tpm, log, used, now));
    }

    private static Map<String, String> headers(Integer rpm, Integer tpm, ArrayDeque<Permit> log, long used, long now) {
        Map<String, String> h = new LinkedHashMap<>();
        // the whole window is back to its initial state once the newest request in it leaves
        String reset = log.isEmpty() ? "0s" : ceilSeconds(log.peekLast().at + WINDOW_NANOS - now) + "s";
        if (rpm != null) {
            h.put("x-ratelimit-limit-requests", String.valueOf(rpm));
            h.put("x-ratelimit-remaining-requests", String.valueOf(Math.max(0, rpm - log.size())));
            h.put("x-ratelimit-reset-requests", reset);
        }
        if (tpm != null) {
            h.put("x-ratelimit-limit-tokens", String.valueOf(tpm));
            h.put("x-ratelimit-remaining-tokens", String.valueOf(Math.max(0, tpm - used)));
            h.put("x-ratelimit-reset-tokens", reset);
        }
        return h;
    }

    private static long ceilSeconds(long nanos) {
        return (Math.max(0, nanos) + TimeUnit.SECONDS.toNanos(1) - 1) / TimeUnit.SECONDS.toNanos(1);
    }
}
