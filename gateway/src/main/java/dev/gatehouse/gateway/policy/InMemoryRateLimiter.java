package dev.gatehouse.gateway.policy;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * {@link RateLimiter} for this instance alone, in memory: each key's admitted requests in a log,
 * pruned as they leave the window. The clock is injected (nanos) so tests can move time.
 */
public final class InMemoryRateLimiter implements RateLimiter {
    private final class Entry implements Permit {
        final long at;
        long tokens; // guarded by the limiter

        Entry(long at, long tokens) {
            this.at = at;
            this.tokens = tokens;
        }

        @Override
        public void settle(long actualTokens) {
            synchronized (InMemoryRateLimiter.this) {
                tokens = actualTokens;
            }
        }
    }

    private final LongSupplier nanos;
    private final Map<String, ArrayDeque<Entry>> logs = new HashMap<>();

    public InMemoryRateLimiter(LongSupplier nanos) {
        this.nanos = nanos;
    }

    @Override
    public synchronized Decision acquire(String keyId, Integer rpm, Integer tpm, long estimatedTokens) {
        long now = nanos.getAsLong();
        ArrayDeque<Entry> log = prune(keyId, now);
        long used = tokens(log);
        if (rpm != null && log.size() + 1 > rpm) {
            long wait = log.isEmpty() ? WINDOW_NANOS : log.peekFirst().at + WINDOW_NANOS - now; // rpm 0: a full window
            return Decision.refused("requests", wait, rpm, tpm, estimatedTokens, window(log, used, now));
        }
        if (tpm != null && used + estimatedTokens > tpm) {
            return Decision.refused("tokens", tokenWait(log, used, estimatedTokens, tpm, now), rpm, tpm, estimatedTokens,
                    window(log, used, now));
        }
        Entry e = new Entry(now, estimatedTokens);
        log.addLast(e);
        return Decision.admitted(e, rpm, tpm, window(log, used + estimatedTokens, now));
    }

    @Override
    public synchronized Map<String, String> peek(String keyId, Integer rpm, Integer tpm) {
        long now = nanos.getAsLong();
        ArrayDeque<Entry> log = prune(keyId, now);
        return RateLimiter.headers(rpm, tpm, window(log, tokens(log), now));
    }

    private static Window window(ArrayDeque<Entry> log, long used, long now) {
        return new Window(log.size(), used, log.isEmpty() ? 0 : log.peekLast().at + WINDOW_NANOS - now);
    }

    private ArrayDeque<Entry> prune(String keyId, long now) {
        ArrayDeque<Entry> log = logs.computeIfAbsent(keyId, k -> new ArrayDeque<>());
        while (!log.isEmpty() && now - log.peekFirst().at >= WINDOW_NANOS) {
            log.removeFirst();
        }
        return log;
    }

    private static long tokens(ArrayDeque<Entry> log) {
        long sum = 0;
        for (Entry e : log) {
            sum += e.tokens;
        }
        return sum;
    }

    /** How long until enough old requests leave the window for {@code wanted} tokens to fit. */
    private static long tokenWait(ArrayDeque<Entry> log, long used, long wanted, long tpm, long now) {
        long left = used;
        for (Iterator<Entry> it = log.iterator(); it.hasNext(); ) {
            Entry e = it.next();
            left -= e.tokens;
            if (left + wanted <= tpm) {
                return e.at + WINDOW_NANOS - now;
            }
        }
        return WINDOW_NANOS; // bigger than the whole limit: no wait makes it fit, say a minute
    }
}
