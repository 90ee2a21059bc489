package dev.gatehouse.gateway.usage;

import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.ProviderConfig;

import java.util.HashMap;
import java.util.Map;

/**
 * What a request's tokens cost, from the prices of gatehouse.yaml. A local model without prices is
 * free (nobody is paid per token for it); a provider's model has a price when gatehouse.yaml gives
 * one for it or a provider default, and costs 0 otherwise, which is why keys with a budget may only
 * reach priced ones (see {@link #prices}).
 */
public final class Pricing {
    private static final ProviderConfig.Prices FREE = new ProviderConfig.Prices(0.0, 0.0);

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

    /**
     * The prices of {@code backend} as the router labels it ({@code local:FOLDER} or {@code PROVIDER:MODEL});
     * null when it has none: a provider model with neither a price of its own nor a provider default.
     */
    public ProviderConfig.Prices prices(String backend) {
        int colon = backend == null ? -1 : backend.indexOf(':');
        if (colon < 0) {
            return null;
        }
        String owner = backend.substring(0, colon);
        String model = backend.substring(colon + 1);
        if (owner.equals("local")) {
            return local.getOrDefault(model, FREE);
        }
        ProviderConfig.Prices p = providers.getOrDefault(owner, ProviderConfig.Prices.NONE).forModel(model);
        return p.inputPerMillion() == null && p.outputPerMillion() == null ? null : p;
    }

    /** What the tokens cost at {@code backend}; 0 for an unpriced one, and for the cache ({@code cache}: no colon). */
    public double cost(String backend, long promptTokens, long completionTokens) {
        ProviderConfig.Prices prices = prices(backend);
        return prices == null ? 0 : prices.cost(promptTokens, completionTokens);
    }
}
