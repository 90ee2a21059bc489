package dev.gatehouse.gateway.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class MeterCacheTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MeterCache<Counter> counters = new MeterCache<>(tags -> Counter.builder("requests")
            .tag("route", tags.get(0)).tag("status", tags.get(1)).register(registry));

    @Test
    void theSameTagsCountOnTheOneRegisteredMeter() {
        counters.get("/v1/chat/completions", "200").increment();
        counters.get("/v1/chat/completions", "200").increment(2);
        counters.get("/v1/chat/completions", "429").increment();

        assertSame(counters.get("/v1/chat/completions", "200"), counters.get("/v1/chat/completions", "200"));
        assertNotSame(counters.get("/v1/chat/completions", "200"), counters.get("/v1/chat/completions", "429"));
        assertEquals(3.0, registry.get("requests").tags("route", "/v1/chat/completions", "status", "200").counter().count());
        assertEquals(1.0, registry.get("requests").tags("status", "429").counter().count());
        assertEquals(2, registry.getMeters().size());
    }

    @Test
    void pastItsLimitMetersStillCountInTheRegistry() {
        for (int i = 0; i < MeterCache.MAX_ENTRIES + 10; i++) {
            counters.get("/v1/embeddings", String.valueOf(i)).increment();
        }
        counters.get("/v1/embeddings", String.valueOf(MeterCache.MAX_ENTRIES + 5)).increment(); // not cached: from the registry

        assertEquals(2.0, registry.get("requests").tags("status", String.valueOf(MeterCache.MAX_ENTRIES + 5)).counter().count());
        assertEquals(MeterCache.MAX_ENTRIES + 10, registry.getMeters().size());
    }
}
