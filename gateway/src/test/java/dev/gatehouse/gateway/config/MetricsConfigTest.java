package dev.gatehouse.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsConfigTest {
    @Test
    void openUnlessATokenIsSet() {
        assertEquals(MetricsConfig.OPEN, GatehouseConfig.empty().metrics());
        assertEquals(MetricsConfig.OPEN, GatehouseConfig.parse("models: []", Map.of()).metrics());
        MetricsConfig m = GatehouseConfig.parse("metrics: {token: ${SCRAPE}, label-secret: ${LABELS}}",
                Map.of("SCRAPE", "scrape-token-0123456789", "LABELS", "label-secret-0123456789")).metrics();
        assertEquals(new MetricsConfig("scrape-token-0123456789", "label-secret-0123456789"), m);
    }

    @Test
    void mistakesAreErrors() {
        assertTrue(assertThrows(ConfigException.class, () -> GatehouseConfig.parse("metrics: {token: short}", Map.of()))
                .getMessage().contains("at least 16 characters"));
        assertTrue(assertThrows(ConfigException.class, () -> GatehouseConfig.parse("metrics: {tokn: x}", Map.of()))
                .getMessage().contains("unknown key 'tokn'"));
        assertTrue(assertThrows(ConfigException.class, () -> GatehouseConfig.parse("metrics: {token: ${NOPE}}", Map.of()))
                .getMessage().contains("NOPE"));
    }
}
