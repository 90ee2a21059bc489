package dev.gatehouse.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SharedConfigTest {
    @Test
    void nothingIsSharedWithoutTheSection() {
        assertNull(GatehouseConfig.empty().shared());
        assertNull(GatehouseConfig.parse("models: []", Map.of()).shared());
    }

    @Test
    void defaultsFallBackToEachInstanceWithAShortTimeout() {
        SharedConfig s = GatehouseConfig.parse("shared: {redis-url: redis://redis:6379}", Map.of()).shared();
        assertEquals(new SharedConfig("redis://redis:6379", SharedConfig.OnRedisDown.LOCAL, Duration.ofMillis(250), "gatehouse:"), s);
    }

    @Test
    void everySettingAndThePasswordFromTheEnvironmentNeverShown() {
        SharedConfig s = GatehouseConfig.parse("""
                shared:
                  redis-url: rediss://gatehouse:${REDIS_PASSWORD}@redis.internal:6380/2
                  on-redis-down: closed
                  timeout-ms: 100
                  key-prefix: "prod:"
                """, Map.of("REDIS_PASSWORD", "hunter2-secret")).shared();
        assertEquals("rediss://gatehouse:hunter2-secret@redis.internal:6380/2", s.redisUrl());
        assertEquals(SharedConfig.OnRedisDown.CLOSED, s.onRedisDown());
        assertEquals(Duration.ofMillis(100), s.timeout());
        assertEquals("prod:", s.keyPrefix());
        assertEquals("rediss://redis.internal:6380/2", s.describe());
        assertFalse(s.toString().contains("hunter2"), s.toString());
    }

    @Test
    void mistakesAreErrors() {
        for (String[] c : new String[][]{
                {"shared: {}", "redis-url"},
                {"shared: {redis-url: http://redis:6379}", "redis://"},
                {"shared: {redis-url: 'redis://'}", "redis://"},
                {"shared: {redis-url: redis://r, on-redis-down: open}", "not local or closed"},
                {"shared: {redis-url: redis://r, timeout-ms: 0}", "timeout-ms"},
                {"shared: {redis-url: redis://r, timeout: 5}", "unknown key 'timeout'"},
                {"shared: {redis-url: '${NOPE}'}", "NOPE"}}) {
            ConfigException e = assertThrows(ConfigException.class, () -> GatehouseConfig.parse(c[0], Map.of()), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
        }
    }
}
