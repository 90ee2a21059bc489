package dev.gatehouse.gateway.config;

import java.util.Map;

/**
 * One upstream provider of gatehouse.yaml. The key is read from the environment at start and
 * kept only here: {@link #toString()} leaves it out so no log line or error can carry it.
 *
 * @param apiKey null for an endpoint that wants none (a self-hosted OpenAI-compatible server)
 * @param apiVersion Azure OpenAI's api-version query parameter; null elsewhere
 */
public record ProviderConfig(String name, ProviderType type, String baseUrl, String apiKey, String apiVersion,
                             long timeoutMillis, Map<String, String> headers, Prices prices) {

    public static final long DEFAULT_TIMEOUT_MILLIS = 60_000;

    /** US dollars per million tokens; null when not configured. */
    public record Prices(Double inputPerMillion, Double outputPerMillion) {
        public static final Prices NONE = new Prices(null, null);
    }

    @Override
    public String toString() {
        return "ProviderConfig[name=" + name + ", type=" + type.wireName() + ", baseUrl=" + baseUrl
                + ", apiKey=" + (apiKey == null ? "none" : "***") + ", apiVersion=" + apiVersion
                + ", timeoutMillis=" + timeoutMillis + ", headers=" + headers.keySet() + ", prices=" + prices + "]";
    }
}
