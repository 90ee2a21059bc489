package dev.gatehouse.gateway.usage;

import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.ProviderConfig;

import java.util.HashMap;
import java.util.Map;

/** What a request's tokens cost, from the prices of gatehouse.yaml; unpriced backends cost 0. */
public final class Pricing {
    private final Map<String, ProviderConfig.Prices> providers;
    private final Map<String, ProviderConfig.Prices> local;

    public Pricing(Map<String, ProviderConfig.Prices> providers, Map<String, ProviderConfig.Prices> local) {
        this.providers = Map.copyOf(providers);
        this.local = Map.copyOf(local);
    }

    public static Pricing of(GatehouseConfig config) {
        Map<String, ProviderConfig.Prices> providers = new HashMap<>();
        config.providers().forEach((name, p) -> providers.put(name, p.prices()));
        return new Pricing(providers, config.localPrices());
    }

    public static Pricing free() {
        return new Pricing(Map.of(), Map.of());
    }

    /** {@code backend} as the router labels it: {@code local:FOLDER} or {@code PROVIDER:MODEL}. */
    public double cost(String backend, long promptTokens, long completionTokens) {
        if (backend == null) {
            return 0;
        }
        int colon = backend.indexOf(':');
        if (colon < 0) {
            return 0; // not a priced target (OpenAiApi charges cache hits nothing itself)
        }
        String owner = backend.substring(0, colon);
        String model = backend.substring(colon + 1);
        ProviderConfig.Prices prices = owner.equals("local") ? local.get(model)
                : providers.getOrDefault(owner, ProviderConfig.Prices.NONE).forModel(model);
        return prices == null ? 0 : prices.cost(promptTokens, completionTokens);
    }
}
