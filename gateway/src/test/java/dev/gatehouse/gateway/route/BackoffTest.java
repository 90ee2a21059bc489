package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void growsWithJitterWithinTheCap() {
        for (int i = 0; i < 100; i++) {
            long first = Backoff.delayMillis(0, null);
            long second = Backoff.delayMillis(1, null);
            assertTrue(first >= 125 && first <= 250, "first: " + first);
            assertTrue(second >= 250 && second <= 500, "second: " + second);
        }
        assertNull(Backoff.delayMillis(Backoff.MAX_RETRIES, null), "gives up after the last retry");
    }

    @Test
    void honoursRetryAfterUpToTheCap() {
        assertEquals(1_000L, Backoff.delayMillis(0, 1_000L));
        assertEquals(1_500L, Backoff.delayMillis(0, 1_500L), "to the millisecond: retry-after-ms, Gemini's \"1.5s\"");
        assertNull(Backoff.delayMillis(0, 20_000L), "a provider asking for 20 s gets its 429 passed on instead");
    }
}
