package dev.gatehouse.gateway.config;

import java.util.Map;

/**
 * One upstream provider of gatehouse.yaml. The key is read from the environment at start and
 * kept only here: {@link #toString()} leaves it out so no log line or error can carry it.
 *
 * @param apiKey null for an endpoint that wants none (a self-hosted OpenAI-compatible server)
 * @param apiVersion Azure OpenAI's api-version query parameter; null elsewhere
 * @param aws        Bedrock's region and credentials; null elsewhere
 * @param responsesApi whether the provider serves OpenAI's Responses API at {base-url}/responses, so
 *                     Gatehouse's /v1/responses requests go to it unchanged (default: true for type openai)
 * @param gcp        Vertex AI's project, location and credentials; null elsewhere
 */
public record ProviderConfig(String name, ProviderType type, String baseUrl, String apiKey, String apiVersion,
                             long timeoutMillis, Map<String, String> headers, Prices prices, Failures failures, Aws aws,
                             boolean responsesApi, Gcp gcp) {

    public ProviderConfig(String name, ProviderType type, String baseUrl, String apiKey, String apiVersion,
                          long timeoutMillis, Map<String, String> headers, Prices prices, Failures failures, Aws aws) {
        this(name, type, baseUrl, apiKey, apiVersion, timeoutMillis, headers, prices, failures, aws, null);
    }

    /** The Responses API at {base-url}/responses as the type's default (openai: yes). */
    public ProviderConfig(String name, ProviderType type, String baseUrl, String apiKey, String apiVersion,
                          long timeoutMillis, Map<String, String> headers, Prices prices, Failures failures, Aws aws,
                          Gcp gcp) {
        this(name, type, baseUrl, apiKey, apiVersion, timeoutMillis, headers, prices, failures, aws,
                type == ProviderType.OPENAI, gcp);
    }

    public ProviderConfig(String name, ProviderType type, String baseUrl, String apiKey, String apiVersion,
                          long timeoutMillis, Map<String, String> headers, Prices prices, Failures failures) {
        this(name, type, baseUrl, apiKey, apiVersion, timeoutMillis, headers, prices, failures, null);
    }

    public static final long DEFAULT_TIMEOUT_MILLIS = 60_000;

    public ProviderConfig(String name, ProviderType type, String baseUrl, String apiKey, String apiVersion,
                          long timeoutMillis, Map<String, String> headers, Prices prices) {
        this(name, type, baseUrl, apiKey, apiVersion, timeoutMillis, headers, prices, Failures.DEFAULT);
    }

    /**
     * US dollars per million tokens; null when not configured (costs 0). {@code models} overrides
     * them for single upstream models, since one provider sells models at very different prices.
     */
    public record Prices(Double inputPerMillion, Double outputPerMillion, Map<String, Prices> models) {
        public static final Prices NONE = new Prices(null, null);

        public Prices(Double inputPerMillion, Double outputPerMillion) {
            this(inputPerMillion, outputPerMillion, Map.of());
        }

        public Prices forModel(String model) {
            return models.getOrDefault(model, this);
        }

        /** The price of one request's tokens in US dollars. */
        public double cost(long promptTokens, long completionTokens) {
            return (promptTokens * orZero(inputPerMillion) + completionTokens * orZero(outputPerMillion)) / 1e6;
        }

        private static double orZero(Double d) {
            return d == null ? 0 : d;
        }
    }

    /**
     * What the router does about this provider failing.
     *
     * @param retries             more tries when it is the last target left
     * @param breakerFailures     failures in a row that open its circuit breaker
     * @param breakerCooldownMillis how long an open breaker skips it before one trial
     */
    public record Failures(int retries, int breakerFailures, long breakerCooldownMillis) {
        public static final Failures DEFAULT = new Failures(2, 5, 30_000);
    }

    /**
     * An AWS target: its region, and explicit credentials when gatehouse.yaml gives them (all null:
     * the AWS SDK's default chain, i.e. environment, profile, container and instance roles, web identity).
     */
    public record Aws(String region, String accessKeyId, String secretAccessKey, String sessionToken) {
        @Override
        public String toString() {
            return "Aws[region=" + region + ", credentials=" + (accessKeyId == null ? "default chain" : "explicit") + "]";
        }
    }

    /**
     * A Google Cloud target (Vertex AI): its project and location, and the contents of the credentials
     * file gatehouse.yaml names (a service-account key or any other Google credentials JSON), or null
     * for Application Default Credentials.
     */
    public record Gcp(String project, String location, byte[] credentialsJson) {
        @Override
        public String toString() {
            return "Gcp[project=" + project + ", location=" + location + ", credentials="
                    + (credentialsJson == null ? "application default" : "file") + "]";
        }
    }

    @Override
    public String toString() {
        return "ProviderConfig[name=" + name + ", type=" + type.wireName() + ", baseUrl=" + baseUrl
                + ", apiKey=" + (apiKey == null ? "none" : "***") + ", apiVersion=" + apiVersion
                + ", timeoutMillis=" + timeoutMillis + ", headers=" + headers.keySet() + ", prices=" + prices
                + ", failures=" + failures + (aws == null ? "" : ", aws=" + aws) + (gcp == null ? "" : ", gcp=" + gcp)
                + ", responsesApi=" + responsesApi + "]";
    }
}
