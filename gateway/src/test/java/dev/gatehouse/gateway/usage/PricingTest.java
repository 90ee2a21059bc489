package dev.gatehouse.gateway.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.config.ConfigException;
import dev.gatehouse.gateway.config.GatehouseConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PricingTest {
    private static final String YAML = """
            providers:
              openai:
                type: openai
                base-url: https://api.openai.com/v1
                prices:
                  input-per-million: 2.5
                  output-per-million: 10
                  models:
                    gpt-4o-mini: {input-per-million: 0.15, output-per-million: 0.6}
            local:
              SmolLM2: {max-running: 4, prices: {input-per-million: 0.01, output-per-million: 0.02}}
            """;

    private final Pricing pricing = Pricing.of(GatehouseConfig.parse(YAML, Map.of()));

    @Test
    void pricesPerMillionTokensWithPerModelOverrides() {
        assertEquals(2.5 + 10, pricing.cost("openai:gpt-4o", 1_000_000, 1_000_000), 1e-12);
        assertEquals(0.15 * 2 + 0.6 / 2, pricing.cost("openai:gpt-4o-mini", 2_000_000, 500_000), 1e-12);
        assertEquals(0.01 + 0.02 * 3, pricing.cost("local:SmolLM2", 1_000_000, 3_000_000), 1e-12);
    }

    @Test
    void unpricedBackendsCostNothing() {
        assertEquals(0, pricing.cost("local:other", 1000, 1000));
        assertEquals(0, pricing.cost("claude:haiku", 1000, 1000));
        assertEquals(0, pricing.cost("cache", 1000, 1000));
        assertEquals(0, pricing.cost(null, 1000, 1000));
    }

    @Test
    void badPricesAreConfigErrors() {
        ConfigException e = assertThrows(ConfigException.class, () -> GatehouseConfig.parse(
                "local:\n  m: {prices: {input-per-million: -1}}\n", Map.of()));
        assertTrue(e.getMessage().contains("local.m.prices.input-per-million"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> GatehouseConfig.parse(
                "local:\n  m: {prices: {models: {}}}\n", Map.of()));
        assertTrue(e.getMessage().contains("unknown key 'models'"), e.getMessage());
    }
}
