package dev.gatehouse.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code cache:} in gatehouse.yaml. */
class CacheConfigTest {
    private static CacheConfig parse(String yaml) {
        return GatehouseConfig.parse(yaml, Map.of()).cache();
    }

    @Test
    void offUnlessConfigured() {
        assertEquals(CacheConfig.OFF, GatehouseConfig.empty().cache());
        assertEquals(CacheConfig.OFF, parse("models: []"));
    }

    @Test
    void theSectionTurnsItOnWithDefaults() {
        assertEquals(new CacheConfig(true, CacheConfig.DEFAULT_TTL, 64L << 20, false), parse("cache: {}"));
        assertEquals(new CacheConfig(true, Duration.ofSeconds(3600), 50L << 20, true),
                parse("cache: {ttl-seconds: 3600, max-mb: 50, shared: true}"));
        assertEquals(false, parse("cache: {enabled: false, ttl-seconds: 60}").enabled());
    }

    @Test
    void mistakesAreErrors() {
        assertTrue(assertThrows(ConfigException.class, () -> parse("cache: {ttl: 60}")).getMessage()
                .contains("unknown key 'ttl'"));
        assertTrue(assertThrows(ConfigException.class, () -> parse("cache: {ttl-seconds: 0}")).getMessage()
                .contains("cache.ttl-seconds must be a whole number >= 1"));
        assertTrue(assertThrows(ConfigException.class, () -> parse("cache: {enabled: yes please}")).getMessage()
                .contains("cache.enabled must be true or false"));
        assertThrows(ConfigException.class, () -> parse("cache: true"));
        assertTrue(assertThrows(ConfigException.class, () -> parse("cache: {shared: 1}")).getMessage()
                .contains("cache.shared must be true or false"));
        assertTrue(assertThrows(ConfigException.class, () -> parse("cache: {max-entries: 100}")).getMessage()
                .contains("max-mb"), "the old setting says what replaced it");
    }
}
