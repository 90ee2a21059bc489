package dev.gatehouse.gateway.usage;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dashboard's last hour: per-minute counts, and percentiles within a bucket's width of the truth. */
class RecentTrafficTest {
    private static final Instant NOW = Instant.parse("2026-12-03T10:30:30Z");

    private static UsageRecord row(Instant at, long latencyMillis, int status) {
        return new UsageRecord(at, "/v1/chat/completions", "k1", null, "m", "local:m", 10, 5, 0.01, latencyMillis,
                status, "", false, "m:default");
    }

    @Test
    void percentilesAreWithinAQuarterOfTheTrueValue() {
        RecentTraffic traffic = new RecentTraffic();
        for (int ms = 1; ms <= 1000; ms++) { // p50 = 500 ms, p95 = 950 ms
            traffic.record(row(NOW, ms, 200), ms / 10);
        }

        RecentTraffic.Minute last = traffic.lastHour(NOW).getLast();

        assertEquals(1000, last.requests());
        assertEquals(10_000, last.promptTokens());
        assertEquals(10.0, last.costUsd(), 1e-9);
        assertTrue(last.latencyP50Ms() >= 500 && last.latencyP50Ms() <= 500 * 1.26, "p50 " + last.latencyP50Ms());
        assertTrue(last.latencyP95Ms() >= 950 && last.latencyP95Ms() <= 950 * 1.26, "p95 " + last.latencyP95Ms());
        assertTrue(last.firstTokenP50Ms() >= 50 && last.firstTokenP50Ms() <= 50 * 1.26, "ttft p50 " + last.firstTokenP50Ms());
    }

    @Test
    void anHourOfMinutesOldestFirstWithErrorsCountedAndOldMinutesForgotten() {
        RecentTraffic traffic = new RecentTraffic();
        traffic.record(row(NOW.minusSeconds(3600 * 2), 5, 200), -1); // two hours ago: its bucket is reused
        traffic.record(row(NOW.minusSeconds(120), 5, 500), -1);
        traffic.record(row(NOW, 5, 200), -1);

        List<RecentTraffic.Minute> hour = traffic.lastHour(NOW);

        assertEquals(60, hour.size());
        assertEquals(Instant.parse("2026-12-03T10:30:00Z"), hour.getLast().at());
        assertEquals(1, hour.getLast().requests(), "the minute of two hours ago is not counted in this one");
        assertEquals(1, hour.get(57).errors());
        assertNull(hour.get(57).firstTokenP50Ms(), "no token streamed");
        assertEquals(0, hour.getFirst().requests());
        assertNull(hour.getFirst().latencyP50Ms());
    }
}
