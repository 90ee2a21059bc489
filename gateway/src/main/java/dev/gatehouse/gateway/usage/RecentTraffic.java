package dev.gatehouse.gateway.usage;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The last hour of requests in one-minute buckets, for the dashboard's overview: counts, tokens,
 * spend, and latency and time-to-first-token percentiles from fixed log-scale histograms. Fixed size
 * whatever the traffic; this instance's requests only (the usage log has the whole history).
 */
public final class RecentTraffic {
    static final int MINUTES = 60;
    /** Histogram bucket upper bounds in milliseconds: 1, 1.25, 1.6, ... doubling every 3 buckets, to ~17 min. */
    private static final double[] BOUNDS = new double[61];

    static {
        for (int i = 0; i < BOUNDS.length; i++) {
            BOUNDS[i] = Math.pow(2, i / 3.0);
        }
    }

    private final Bucket[] buckets = new Bucket[MINUTES];

    /** One minute of requests; {@code minute} is minutes since the epoch. */
    private static final class Bucket {
        final long minute;
        long requests;
        long errors;
        long promptTokens;
        long completionTokens;
        double costUsd;
        final long[] latency = new long[BOUNDS.length + 1];
        final long[] firstToken = new long[BOUNDS.length + 1];
        long firstTokens;

        Bucket(long minute) {
            this.minute = minute;
        }
    }

    /** One minute as the dashboard draws it; percentiles are null for a minute without requests. */
    public record Minute(Instant at, long requests, long errors, long promptTokens, long completionTokens,
                         double costUsd, Double latencyP50Ms, Double latencyP95Ms, Double firstTokenP50Ms,
                         Double firstTokenP95Ms) {}

    /**
     * Counts a finished request; {@code firstTokenMillis} is negative when it streamed no token (an
     * error, an embedding request).
     */
    public synchronized void record(UsageRecord r, long firstTokenMillis) {
        Bucket b = bucket(r.at().getEpochSecond() / 60);
        b.requests++;
        if (r.status() >= 400) {
            b.errors++;
        }
        b.promptTokens += r.promptTokens();
        b.completionTokens += r.completionTokens();
        b.costUsd += r.costUsd();
        b.latency[slot(r.latencyMillis())]++;
        if (firstTokenMillis >= 0) {
            b.firstToken[slot(firstTokenMillis)]++;
            b.firstTokens++;
        }
    }

    private Bucket bucket(long minute) {
        int i = (int) Math.floorMod(minute, (long) MINUTES);
        if (buckets[i] == null || buckets[i].minute != minute) {
            buckets[i] = new Bucket(minute);
        }
        return buckets[i];
    }

    private static int slot(long millis) {
        for (int i = 0; i < BOUNDS.length; i++) {
            if (millis <= BOUNDS[i]) {
                return i;
            }
        }
        return BOUNDS.length;
    }

    /** The hour up to {@code now}, oldest minute first, every minute present (empty ones as zeros). */
    public synchronized List<Minute> lastHour(Instant now) {
        long last = now.getEpochSecond() / 60;
        List<Minute> out = new ArrayList<>(MINUTES);
        for (long m = last - MINUTES + 1; m <= last; m++) {
            Bucket b = buckets[(int) Math.floorMod(m, (long) MINUTES)];
            Instant at = Instant.ofEpochSecond(m * 60);
            if (b == null || b.minute != m) {
                out.add(new Minute(at, 0, 0, 0, 0, 0, null, null, null, null));
            } else {
                out.add(new Minute(at, b.requests, b.errors, b.promptTokens, b.completionTokens, b.costUsd,
                        percentile(b.latency, b.requests, 0.50), percentile(b.latency, b.requests, 0.95),
                        percentile(b.firstToken, b.firstTokens, 0.50), percentile(b.firstToken, b.firstTokens, 0.95)));
            }
        }
        return out;
    }

    /** The upper bound of the bucket holding the q-th value: within a quarter of the true value. */
    private static Double percentile(long[] counts, long total, double q) {
        if (total == 0) {
            return null;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.round(BOUNDS[Math.min(i, BOUNDS.length - 1)] * 100) / 100.0; // past the last bound: ~17 min
            }
        }
        return null;
    }
}
