package dev.gatehouse.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.gatehouse.gateway.backend.local.LocalStore;
import dev.gatehouse.gateway.backend.local.tools.ToolFormat;
import dev.gatehouse.gateway.backend.local.tools.ToolSettings;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.engine.EngineConfig;
import java.util.function.Function;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * gatehouse.yaml: upstream providers, model routes and per-folder engine limits. Every key has a
 * default, so no file at all means local models only. Unknown keys are errors: a misspelt
 * {@code max-queue-wait-ms} silently ignored would route traffic nobody asked for.
 *
 * @param warnings what the operator should hear at start (providers skipped for an unset key, ...)
 * @param masterKey {@code auth.master-key}, null when unset (GATEHOUSE_MASTER_KEY may still give one)
 * @param store {@code store}: where virtual keys and the usage log live (SQLite file or PostgreSQL)
 * @param localPrices {@code local.NAME.prices}: what a local model's tokens cost (default 0)
 * @param cache {@code cache}: the response cache, {@link CacheConfig#OFF} without the section
 * @param jwt {@code auth.jwt}: JWT bearer tokens, null when unset
 * @param plugins {@code plugins}: request/response plugins in order, empty without the section
 * @param metrics {@code metrics}: who may read /metrics and how JWT users are labelled in it
 * @param server {@code server}: timeouts and connection limits, {@link ServerLimits#DEFAULTS} without the section
 * @param localTools {@code local.NAME.tool-parser} and {@code .tool-fallback}: how a local model serves tools
 * @param aliases {@code aliases}: other names for routes of {@code models}, each maybe pinned to a version
 * @param semanticCache {@code semantic-cache}: answers reused for similar messages, {@link SemanticCacheConfig#OFF} without it
 * @param shared {@code shared}: the Redis that several instances share limits, budgets and the cache through; null without it
 */
public record GatehouseConfig(Map<String, ProviderConfig> providers, List<ModelRoute> models,
                              Map<String, LocalLimits> local, List<String> warnings, String masterKey, StoreConfig store,
                              Map<String, ProviderConfig.Prices> localPrices, CacheConfig cache, JwtConfig jwt,
                              List<PluginConfig> plugins, MetricsConfig metrics,
                              ServerLimits server, Map<String, ToolSettings> localTools,
                              Map<String, ModelAlias> aliases,
                              SemanticCacheConfig semanticCache, SharedConfig shared) {

    public static final Path DEFAULT_STORE = StoreConfig.DEFAULT_PATH;

    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
    /** A bare ${VAR} value, as in {@code {api-key: ${KEY}}}, which YAML would read as a nested flow mapping. */
    private static final Pattern BARE_VARIABLE = Pattern.compile("(?<=[:,\\[]\\s{0,40})(\\$\\{[A-Za-z_][A-Za-z0-9_]*})(?=\\s*(?:[,}\\]#]|$))",
            Pattern.MULTILINE);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    public static GatehouseConfig empty() {
        return new GatehouseConfig(Map.of(), List.of(), Map.of(), List.of(), null, StoreConfig.DEFAULT, Map.of(), CacheConfig.OFF,
                null, List.of(), MetricsConfig.OPEN, ServerLimits.DEFAULTS, Map.of(), Map.of(), SemanticCacheConfig.OFF, null);
    }

    public static GatehouseConfig load(Path file, Map<String, String> env) {
        try {
            return parse(Files.readString(file), env);
        } catch (IOException e) {
            throw new ConfigException("cannot read " + file + ": " + e.getMessage());
        }
    }

    public static GatehouseConfig parse(String yaml, Map<String, String> env) {
        JsonNode root;
        try {
            root = YAML.readTree(BARE_VARIABLE.matcher(yaml).replaceAll("\"$1\""));
        } catch (IOException e) {
            throw new ConfigException("gatehouse.yaml is not valid YAML: " + e.getMessage());
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return empty();
        }
        requireObject(root, "the top level");
        allowKeys(root, "the top level", Set.of("providers", "models", "local", "auth", "store", "cache", "metrics",
                "plugins", "server", "aliases", "semantic-cache", "shared"));
        List<String> warnings = new ArrayList<>();
        Map<String, ProviderConfig> providers = new LinkedHashMap<>();
        Set<String> skipped = new java.util.HashSet<>();
        for (Map.Entry<String, JsonNode> e : fields(root.path("providers"), "providers")) {
            ProviderConfig p = provider(e.getKey(), e.getValue(), env, warnings);
            if (p == null) {
                skipped.add(e.getKey());
            } else {
                providers.put(p.name(), p);
            }
        }
        List<ModelRoute> models = new ArrayList<>();
        JsonNode modelsNode = root.path("models");
        if (!modelsNode.isMissingNode() && !modelsNode.isArray()) {
            throw new ConfigException("'models' must be a list");
        }
        Set<String> declared = new java.util.HashSet<>(); // served or not: an alias of a skipped route is no typo
        for (int i = 0; i < modelsNode.size(); i++) {
            ModelRoute route = route(modelsNode.get(i), "models[" + i + "]", providers.keySet(), skipped, warnings);
            declared.add(modelsNode.get(i).get("name").asText());
            if (route != null) {
                models.add(route);
            }
        }
        Map<String, ModelAlias> aliases = aliases(root.path("aliases"), models, declared, warnings);
        Map<String, LocalLimits> local = new LinkedHashMap<>();
        Map<String, ProviderConfig.Prices> localPrices = new LinkedHashMap<>();
        Map<String, ToolSettings> localTools = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : fields(root.path("local"), "local")) {
            String where = "local." + e.getKey();
            requireObject(e.getValue(), where);
            allowKeys(e.getValue(), where, Set.of("max-running", "max-waiting", "max-model-length", "kv-cache-mb",
                    "step-token-budget", "device", "dtype", "weights-dtype", "prices", "tool-parser", "tool-fallback",
                    "idle-unload-after", "prefix-cache"));
            local.put(e.getKey(), localLimits(e.getValue(), where));
            localTools.put(e.getKey(), toolSettings(e.getValue(), where));
            localPrices.put(e.getKey(), prices(e.getValue(), where, false));
        }
        String masterKey = null;
        JwtConfig jwt = null;
        JsonNode auth = root.path("auth");
        if (!auth.isMissingNode()) {
            requireObject(auth, "auth");
            allowKeys(auth, "auth", Set.of("master-key", "jwt"));
            if (auth.has("master-key")) {
                masterKey = expand(text(auth, "master-key", "auth"), env, "auth.master-key");
            }
            if (auth.has("jwt")) {
                jwt = JwtConfig.parse(auth.get("jwt"), env);
            }
        }
        StoreConfig store = StoreConfig.parse(root.path("store"), env);
        return new GatehouseConfig(Map.copyOf(providers), List.copyOf(models), Map.copyOf(local), List.copyOf(warnings),
                masterKey, store, Map.copyOf(localPrices), cache(root.path("cache")), jwt,
                PluginConfig.parseList(root.path("plugins")), MetricsConfig.parse(root.path("metrics"), env),
                ServerLimits.parse(root.path("server")), Map.copyOf(localTools), aliases,
                SemanticCacheConfig.parse(root.path("semantic-cache")),
                SharedConfig.parse(root.path("shared"), env));
    }

    /** {@code tool-parser: auto | hermes | llama3-json | mistral} (default auto), {@code tool-fallback: prompt | refuse} (default prompt). */
    private static ToolSettings toolSettings(JsonNode n, String where) {
        ToolFormat parser = choice(n, "tool-parser", where, v -> "auto".equals(v) ? null : ToolFormat.parse(v));
        Boolean refuse = choice(n, "tool-fallback", where, v -> switch (v) {
            case "prompt" -> false;
            case "refuse" -> true;
            default -> throw new IllegalArgumentException("unknown tool fallback '" + v + "' (expected prompt or refuse)");
        });
        return new ToolSettings(parser, Boolean.TRUE.equals(refuse));
    }

    /** {@code local.NAME.tool-parser} and {@code .tool-fallback}, the defaults when unset. */
    public ToolSettings toolSettings(String name) {
        return localTools.getOrDefault(name, ToolSettings.DEFAULTS);
    }

    private static LocalLimits localLimits(JsonNode n, String where) {
        LocalLimits limits = new LocalLimits(positive(n, "max-running", where), positive(n, "max-waiting", where),
                wholeAtLeast(n, "max-model-length", 0, where), positive(n, "kv-cache-mb", where),
                positive(n, "step-token-budget", where), choice(n, "device", where, DeviceChoice::parse),
                choice(n, "dtype", where, DtypeChoice::parse), choice(n, "weights-dtype", where, WeightsDtype::parse),
                idleDuration(n, "idle-unload-after", where), n.has("prefix-cache") ? bool(n, "prefix-cache", where, true) : null);
        if (limits.maxRunning() != null && limits.stepTokenBudget() != null && limits.stepTokenBudget() < limits.maxRunning()) {
            throw new ConfigException(where + ".step-token-budget (" + limits.stepTokenBudget() + ") must be at least max-running ("
                    + limits.maxRunning() + "): every running sequence decodes one token each step");
        }
        return limits;
    }

    /**
     * The engine limits of the local model {@code name}: its {@code local} entry over {@code base}
     * (the command line's). A combination the engine refuses is a ConfigException naming the entry.
     */
    public EngineConfig engineConfig(String name, EngineConfig base) {
        try {
            return local.getOrDefault(name, LocalLimits.NONE).applyTo(base);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("local." + name + ": " + e.getMessage());
        }
    }

    /** {@code local.NAME.device} and {@code .dtype} over the command line's device (automatic type when unset). */
    /** {@code local.NAME.idle-unload-after} over the command line's {@code base} (null: never unloaded when idle). */
    public Duration idleUnloadAfter(String name, Duration base) {
        Duration own = local.getOrDefault(name, LocalLimits.NONE).idleUnloadAfter();
        return own != null ? own : base;
    }

    public LocalStore.Placement placement(String name, DeviceChoice base) {
        LocalLimits limits = local.getOrDefault(name, LocalLimits.NONE);
        return new LocalStore.Placement(limits.device() != null ? limits.device() : base,
                limits.dtype() != null ? limits.dtype() : DtypeChoice.AUTO,
                limits.weightsDtype() != null ? limits.weightsDtype() : WeightsDtype.AUTO);
    }

    /** A keep-alive such as {@code 5m}, or a whole number of seconds; null when not set. */
    private static Duration idleDuration(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null) {
            return null;
        }
        if (!v.isTextual() && !v.isIntegralNumber()) {
            throw new ConfigException(where + "." + key + " must be a duration such as 30s, 5m or 1h");
        }
        try {
            return IdleDuration.parse(v.asText());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + "." + key + ": " + e.getMessage());
        }
    }

    /** A text setting parsed by {@code parse}, whose IllegalArgumentException becomes a ConfigException naming it. */
    private static <T> T choice(JsonNode n, String key, String where, Function<String, T> parse) {
        JsonNode v = n.get(key);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw new ConfigException(where + "." + key + " must be a string");
        }
        try {
            return parse.apply(v.asText());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + "." + key + ": " + e.getMessage());
        }
    }

    private static CacheConfig cache(JsonNode n) {
        if (n.isMissingNode()) {
            return CacheConfig.OFF;
        }
        requireObject(n, "cache");
        if (n.has("max-entries")) {
            throw new ConfigException("cache.max-entries is gone: the cache is capped in memory now, with max-mb (default "
                    + (CacheConfig.DEFAULT_MAX_BYTES >> 20) + ")");
        }
        allowKeys(n, "cache", Set.of("enabled", "ttl-seconds", "max-mb", "shared"));
        Integer ttl = positive(n, "ttl-seconds", "cache");
        Integer maxMb = positive(n, "max-mb", "cache");
        return new CacheConfig(bool(n, "enabled", "cache", true),
                ttl == null ? CacheConfig.DEFAULT_TTL : Duration.ofSeconds(ttl),
                maxMb == null ? CacheConfig.DEFAULT_MAX_BYTES : (long) maxMb << 20, bool(n, "shared", "cache", false));
    }

    static boolean bool(JsonNode n, String key, String where, boolean fallback) {
        JsonNode v = n.path(key);
        if (!v.isMissingNode() && !v.isBoolean()) {
            throw new ConfigException(where + "." + key + " must be true or false");
        }
        return v.asBoolean(fallback);
    }

    /** Null when its api-key names an unset variable, or its api-key-file cannot be read: reported, then skipped. */
    private static ProviderConfig provider(String name, JsonNode n, Map<String, String> env, List<String> warnings) {
        String where = "providers." + name;
        requireObject(n, where);
        allowKeys(n, where, Set.of("type", "base-url", "api-key", "api-key-file", "api-version", "timeout-ms", "headers",
                "prices", "retries", "circuit-breaker", "region", "access-key-id", "secret-access-key-file", "session-token-file",
                "responses-api", "project", "location", "credentials-file"));
        String typeName = requiredText(n, "type", where);
        ProviderType type = ProviderType.of(typeName).orElseThrow(() -> new ConfigException(where + ".type: unknown type '"
                + typeName + "' (openai, openai-compatible, azure-openai, anthropic, gemini, bedrock, vertex)"));
        if (n.has("api-key") && n.has("api-key-file")) {
            throw new ConfigException(where + ": give api-key or api-key-file, not both");
        }
        String apiKey = null;
        if (n.has("api-key")) {
            String raw = text(n, "api-key", where);
            String unset = firstUnset(raw, env);
            if (unset != null) {
                warnings.add("provider '" + name + "' skipped: its api-key reads " + unset + ", which is not set");
                return null;
            }
            apiKey = expand(raw, env, where + ".api-key");
            if (apiKey.isBlank()) {
                warnings.add("provider '" + name + "' skipped: its api-key is empty");
                return null;
            }
        }
        if (n.has("api-key-file")) {
            // a mounted secret (Docker, Kubernetes, systemd credentials); the newline editors add is not part of the key
            Path file = Path.of(expand(text(n, "api-key-file", where), env, where + ".api-key-file"));
            try {
                apiKey = Files.readString(file).strip();
            } catch (IOException e) {
                warnings.add("provider '" + name + "' skipped: cannot read its api-key-file " + file
                        + " (" + e.getClass().getSimpleName() + ")"); // never the contents
                return null;
            }
            if (apiKey.isEmpty()) {
                warnings.add("provider '" + name + "' skipped: its api-key-file " + file + " is empty");
                return null;
            }
        }
        ProviderConfig.Aws aws = null;
        if (type == ProviderType.BEDROCK) {
            aws = aws(name, n, env, warnings);
            if (aws == null) {
                return null;
            }
        }
        ProviderConfig.Gcp gcp = null;
        if (type == ProviderType.VERTEX) {
            gcp = gcp(name, n, env, warnings);
            if (gcp == null) {
                return null;
            }
        }
        String baseUrl = (n.has("base-url") ? expand(requiredText(n, "base-url", where), env, where + ".base-url")
                : aws != null ? "https://bedrock-runtime." + aws.region() + ".amazonaws.com"
                : gcp != null ? vertexUrl(gcp.location())
                : requiredText(n, "base-url", where)).replaceAll("/+$", "");
        String apiVersion = n.has("api-version") ? expand(text(n, "api-version", where), env, where + ".api-version") : null;
        if (type == ProviderType.AZURE_OPENAI && apiVersion == null) {
            throw new ConfigException(where + ": azure-openai needs an api-version");
        }
        Integer timeout = positive(n, "timeout-ms", where);
        Map<String, String> headers = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> h : fields(n.path("headers"), where + ".headers")) {
            if (!h.getValue().isValueNode()) {
                throw new ConfigException(where + ".headers." + h.getKey() + " must be a string");
            }
            headers.put(h.getKey(), expand(h.getValue().asText(), env, where + ".headers." + h.getKey()));
        }
        ProviderConfig.Prices prices = prices(n, where, true);
        ProviderConfig.Failures defaults = ProviderConfig.Failures.DEFAULT;
        Integer retries = wholeAtLeast(n, "retries", 0, where);
        Integer failures = null;
        Integer cooldown = null;
        JsonNode cb = n.path("circuit-breaker");
        if (!cb.isMissingNode()) {
            requireObject(cb, where + ".circuit-breaker");
            allowKeys(cb, where + ".circuit-breaker", Set.of("failures", "cooldown-ms"));
            failures = wholeAtLeast(cb, "failures", 1, where + ".circuit-breaker");
            cooldown = wholeAtLeast(cb, "cooldown-ms", 0, where + ".circuit-breaker");
        }
        ProviderConfig.Failures onFailure = new ProviderConfig.Failures(
                retries == null ? defaults.retries() : retries,
                failures == null ? defaults.breakerFailures() : failures,
                cooldown == null ? defaults.breakerCooldownMillis() : cooldown);
        JsonNode responses = n.path("responses-api");
        if (!responses.isMissingNode() && !responses.isBoolean()) {
            throw new ConfigException(where + ".responses-api must be true or false");
        }
        boolean responsesApi = responses.asBoolean(type == ProviderType.OPENAI);
        if (responsesApi && type != ProviderType.OPENAI && type != ProviderType.OPENAI_COMPATIBLE) {
            throw new ConfigException(where + ".responses-api: only providers of type openai or openai-compatible serve "
                    + "the Responses API at {base-url}/responses");
        }
        return new ProviderConfig(name, type, baseUrl, apiKey, apiVersion,
                timeout == null ? ProviderConfig.DEFAULT_TIMEOUT_MILLIS : timeout, Map.copyOf(headers), prices, onFailure, aws,
                responsesApi, gcp);
    }

    /**
     * A vertex provider's {@code location} (default {@code global}), {@code credentials-file} (a
     * service-account key or other Google credentials JSON; absent: Application Default Credentials)
     * and {@code project} (default: the credentials file's project_id). Null when the file cannot be
     * read: reported, then skipped.
     */
    private static ProviderConfig.Gcp gcp(String name, JsonNode n, Map<String, String> env, List<String> warnings) {
        String where = "providers." + name;
        if (n.has("api-key") || n.has("api-key-file")) {
            throw new ConfigException(where + ": vertex takes Google credentials (credentials-file, or Application Default "
                    + "Credentials when absent), not api-key");
        }
        String location = n.has("location") ? expand(text(n, "location", where), env, where + ".location") : "global";
        if (!location.matches("[a-z0-9-]{1,30}")) {
            throw new ConfigException(where + ".location: '" + location + "' is not a Google Cloud location (e.g. us-east5, global)");
        }
        byte[] credentials = null;
        String fileProject = null;
        if (n.has("credentials-file")) {
            String json = secretFile(name, n, "credentials-file", env, warnings);
            if (json == null) {
                return null;
            }
            JsonNode parsed;
            try {
                parsed = new ObjectMapper().readTree(json);
            } catch (IOException e) {
                parsed = null;
            }
            if (parsed == null || !parsed.isObject() || !parsed.path("type").isTextual()) {
                throw new ConfigException(where + ".credentials-file: not a Google credentials JSON file (no \"type\")");
            }
            credentials = json.getBytes(StandardCharsets.UTF_8);
            fileProject = parsed.path("project_id").asText(null);
        }
        String project = n.has("project") ? expand(text(n, "project", where), env, where + ".project") : fileProject;
        if (project == null || !project.matches("[a-z0-9][a-z0-9.:-]{0,99}")) {
            throw new ConfigException(where + ".project: " + (project == null ? "required (the Google Cloud project id)"
                    : "'" + project + "' is not a Google Cloud project id"));
        }
        return new ProviderConfig.Gcp(project, location, credentials);
    }

    /** Vertex AI's endpoint for a location: the global one has no location prefix. */
    private static String vertexUrl(String location) {
        return location.equals("global") ? "https://aiplatform.googleapis.com" : "https://" + location + "-aiplatform.googleapis.com";
    }

    /**
     * A bedrock provider's {@code region} (required) and credentials: {@code access-key-id} with
     * {@code secret-access-key-file} (and optionally {@code session-token-file}), or none of them for
     * the AWS SDK's default chain. Null when a file cannot be read: reported, then skipped.
     */
    private static ProviderConfig.Aws aws(String name, JsonNode n, Map<String, String> env, List<String> warnings) {
        String where = "providers." + name;
        String region = expand(requiredText(n, "region", where), env, where + ".region");
        if (!region.matches("[a-z0-9-]{1,30}")) {
            throw new ConfigException(where + ".region: '" + region + "' is not an AWS region name (e.g. us-east-1)");
        }
        if (n.has("api-key") || n.has("api-key-file")) {
            throw new ConfigException(where + ": bedrock takes AWS credentials (access-key-id, secret-access-key-file), not api-key");
        }
        if (n.has("access-key-id") != n.has("secret-access-key-file")) {
            throw new ConfigException(where + ": give access-key-id and secret-access-key-file together, or neither for the default AWS chain");
        }
        if (n.has("session-token-file") && !n.has("access-key-id")) {
            throw new ConfigException(where + ": session-token-file needs access-key-id and secret-access-key-file");
        }
        if (!n.has("access-key-id")) {
            return new ProviderConfig.Aws(region, null, null, null);
        }
        String keyId = expand(text(n, "access-key-id", where), env, where + ".access-key-id");
        String secret = secretFile(name, n, "secret-access-key-file", env, warnings);
        String token = n.has("session-token-file") ? secretFile(name, n, "session-token-file", env, warnings) : null;
        if (secret == null || (n.has("session-token-file") && token == null)) {
            return null;
        }
        return new ProviderConfig.Aws(region, keyId, secret, token);
    }

    /** A mounted secret's contents, stripped; null (with a warning, never the contents) when unreadable or empty. */
    private static String secretFile(String name, JsonNode n, String key, Map<String, String> env, List<String> warnings) {
        String where = "providers." + name;
        Path file = Path.of(expand(text(n, key, where), env, where + "." + key));
        try {
            String secret = Files.readString(file).strip();
            if (secret.isEmpty()) {
                warnings.add("provider '" + name + "' skipped: its " + key + " " + file + " is empty");
                return null;
            }
            return secret;
        } catch (IOException e) {
            warnings.add("provider '" + name + "' skipped: cannot read its " + key + " " + file + " (" + e.getClass().getSimpleName() + ")");
            return null;
        }
    }

    /** {@code prices: {input-per-million, output-per-million, models: {NAME: {...}}}}; NONE when absent. */
    private static ProviderConfig.Prices prices(JsonNode parent, String where, boolean perModel) {
        JsonNode p = parent.path("prices");
        if (p.isMissingNode()) {
            return ProviderConfig.Prices.NONE;
        }
        String at = where + ".prices";
        requireObject(p, at);
        allowKeys(p, at, perModel ? Set.of("input-per-million", "output-per-million", "models")
                : Set.of("input-per-million", "output-per-million"));
        Map<String, ProviderConfig.Prices> models = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> m : fields(p.path("models"), at + ".models")) {
            models.put(m.getKey(), prices(p.path("models"), at + ".models", m.getKey()));
        }
        return new ProviderConfig.Prices(price(p, "input-per-million", at), price(p, "output-per-million", at),
                Map.copyOf(models));
    }

    private static ProviderConfig.Prices prices(JsonNode models, String where, String model) {
        JsonNode m = models.get(model);
        String at = where + "." + model;
        requireObject(m, at);
        allowKeys(m, at, Set.of("input-per-million", "output-per-million"));
        return new ProviderConfig.Prices(price(m, "input-per-million", at), price(m, "output-per-million", at));
    }

    private static ModelRoute route(JsonNode n, String where, Set<String> providers, Set<String> skipped,
                                    List<String> warnings) {
        requireObject(n, where);
        allowKeys(n, where, Set.of("name", "targets", "spill", "rules", "version", "sticky", "mid-stream-failover"));
        String name = requiredText(n, "name", where);
        List<ModelRoute.Target> targets = targets(n, where, name, providers, skipped, warnings);
        long maxWait = ModelRoute.DEFAULT_MAX_QUEUE_WAIT_MILLIS;
        JsonNode spill = n.path("spill");
        if (!spill.isMissingNode()) {
            requireObject(spill, where + ".spill");
            allowKeys(spill, where + ".spill", Set.of("max-queue-wait-ms"));
            JsonNode w = spill.path("max-queue-wait-ms");
            if (!w.isMissingNode()) {
                if (!w.canConvertToLong() || !w.isIntegralNumber() || w.asLong() < 0) {
                    throw new ConfigException(where + ".spill.max-queue-wait-ms must be a whole number >= 0");
                }
                maxWait = w.asLong();
            }
        }
        List<ModelRoute.Rule> rules = rules(n, where, name, providers, skipped, warnings);
        String version = null;
        if (n.has("version")) {
            version = n.get("version").isValueNode() ? n.get("version").asText() : "";
            if (!RuleMatch.NAME.matcher(version).matches()) {
                throw new ConfigException(where + ".version must be a version tag (letters, digits, '.', '_', '-'; at most 64)");
            }
        }
        JsonNode sticky = n.path("sticky");
        if (!sticky.isMissingNode() && !sticky.isBoolean()) {
            throw new ConfigException(where + ".sticky must be true or false");
        }
        JsonNode failover = n.path("mid-stream-failover");
        if (!failover.isMissingNode() && !failover.isBoolean()) {
            throw new ConfigException(where + ".mid-stream-failover must be true or false");
        }
        if (targets.isEmpty()) {
            warnings.add("model '" + name + "' not served: none of its targets is available");
            return null;
        }
        return new ModelRoute(name, targets, maxWait, rules, version, sticky.asBoolean(false), failover.asBoolean(true));
    }

    /**
     * {@code rules:}, in order: each a {@code name} (unique in its route; it names the rule in
     * x-gatehouse-route, the usage log and metrics), a {@code when} (see {@link RuleMatch}) and its
     * {@code targets}, written like a route's.
     */
    private static List<ModelRoute.Rule> rules(JsonNode n, String where, String route, Set<String> providers,
                                               Set<String> skipped, List<String> warnings) {
        JsonNode list = n.path("rules");
        if (list.isMissingNode()) {
            return List.of();
        }
        if (!list.isArray() || list.isEmpty()) {
            throw new ConfigException(where + ".rules must be a non-empty list");
        }
        List<ModelRoute.Rule> rules = new ArrayList<>();
        Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String at = where + ".rules[" + i + "]";
            JsonNode r = list.get(i);
            requireObject(r, at);
            allowKeys(r, at, Set.of("name", "when", "targets"));
            String name = requiredText(r, "name", at);
            if (!RuleMatch.NAME.matcher(name).matches()) {
                throw new ConfigException(at + ".name: '" + name + "' must be letters, digits, '.', '_' or '-' (at most 64)");
            }
            if (ModelRoute.DEFAULT_RULE.equals(name) || !names.add(name)) {
                throw new ConfigException(at + ".name: '" + name + "' is " + (ModelRoute.DEFAULT_RULE.equals(name)
                        ? "the name of the route's own targets" : "already the name of an earlier rule"));
            }
            if (!r.has("when")) {
                throw new ConfigException(at + ": 'when' is required");
            }
            RuleMatch when = RuleMatch.parse(r.get("when"), at + ".when");
            List<ModelRoute.Target> targets = targets(r, at, route + "' rule '" + name, providers, skipped, warnings);
            if (targets.isEmpty()) {
                warnings.add("model '" + route + "' rule '" + name + "': none of its targets is available; the"
                        + " requests it matches are refused (503) rather than sent elsewhere");
            }
            rules.add(new ModelRoute.Rule(name, when, targets));
        }
        return rules;
    }

    /** {@code targets:} of a route or rule; those of a skipped provider are dropped with a warning. */
    private static List<ModelRoute.Target> targets(JsonNode n, String where, String name, Set<String> providers,
                                                   Set<String> skipped, List<String> warnings) {
        JsonNode targetsNode = n.path("targets");
        if (!targetsNode.isArray() || targetsNode.isEmpty()) {
            throw new ConfigException(where + ".targets must be a non-empty list");
        }
        List<ModelRoute.Target> targets = new ArrayList<>();
        for (int i = 0; i < targetsNode.size(); i++) {
            String at = where + ".targets[" + i + "]";
            JsonNode t = targetsNode.get(i);
            requireObject(t, at);
            Integer priority = null;
            if (t.has("priority")) {
                JsonNode v = t.get("priority");
                if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                    throw new ConfigException(at + ".priority must be a whole number");
                }
                priority = v.asInt();
            }
            double weight = ModelRoute.Target.DEFAULT_WEIGHT;
            if (t.has("weight")) {
                JsonNode v = t.get("weight");
                if (!v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble())) {
                    throw new ConfigException(at + ".weight must be a number > 0");
                }
                weight = v.asDouble();
            }
            if (t.has("local")) {
                if (t.has("context-length")) { // the engine knows it; a second number here could only disagree
                    throw new ConfigException(at + ".context-length: a local target's context is its engine's"
                            + " max-model-length (set it under local:)");
                }
                allowKeys(t, at, Set.of("local", "priority", "weight"));
                targets.add(ModelRoute.Target.local(text(t, "local", at)).withPriority(priority, weight));
                continue;
            }
            allowKeys(t, at, Set.of("provider", "model", "priority", "weight", "context-length"));
            String provider = requiredText(t, "provider", at);
            String model = requiredText(t, "model", at);
            Integer contextLength = null;
            if (t.has("context-length")) {
                JsonNode v = t.get("context-length");
                if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() <= 0) {
                    throw new ConfigException(at + ".context-length must be a whole number of tokens > 0");
                }
                contextLength = v.asInt();
            }
            if (skipped.contains(provider)) {
                warnings.add("model '" + name + "': target " + provider + ":" + model + " dropped (provider skipped)");
            } else if (!providers.contains(provider)) {
                throw new ConfigException(at + ".provider: no provider named '" + provider + "'");
            } else {
                targets.add(ModelRoute.Target.provider(provider, model).withPriority(priority, weight)
                        .withContextLength(contextLength));
            }
        }
        return targets;
    }

    /**
     * {@code aliases: {NAME: ROUTE}} or {@code {NAME: ROUTE@VERSION}}: another name for a route of
     * {@code models:}, pinned to one of its versions when given. An alias of a route that is not served
     * (its providers skipped) is dropped with a warning.
     */
    private static Map<String, ModelAlias> aliases(JsonNode n, List<ModelRoute> models, Set<String> declared,
                                                   List<String> warnings) {
        Map<String, ModelAlias> aliases = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : fields(n, "aliases")) {
            String where = "aliases." + e.getKey();
            if (declared.contains(e.getKey())) {
                throw new ConfigException(where + ": '" + e.getKey() + "' is already a model in models:");
            }
            if (!e.getValue().isTextual() || e.getValue().asText().isEmpty()) {
                throw new ConfigException(where + " must name a model of models:, as NAME or NAME@VERSION");
            }
            String value = e.getValue().asText();
            int at = value.lastIndexOf('@');
            String route = at < 0 ? value : value.substring(0, at);
            String version = at < 0 ? null : value.substring(at + 1);
            if (!declared.contains(route)) {
                throw new ConfigException(where + ": no model named '" + route + "' in models:");
            }
            ModelRoute served = models.stream().filter(m -> m.name().equals(route)).findFirst().orElse(null);
            if (served == null) {
                warnings.add("alias '" + e.getKey() + "' not served: its model '" + route + "' is not");
                continue;
            }
            if (version != null && !served.versions().contains(version)) {
                throw new ConfigException(where + ": model '" + route + "' has no version '" + version + "' (it has "
                        + (served.versions().isEmpty() ? "none" : String.join(", ", served.versions())) + ")");
            }
            aliases.put(e.getKey(), new ModelAlias(route, version));
        }
        return java.util.Collections.unmodifiableMap(aliases); // in the order written: /v1/models lists them so
    }

    /** Replaces each ${VAR}; fails on an unset one (only api-key may be unset, and skips its provider). */
    static String expand(String value, Map<String, String> env, String where) {
        String unset = firstUnset(value, env);
        if (unset != null) {
            throw new ConfigException(where + " reads " + unset + ", which is not set");
        }
        Matcher m = VARIABLE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(env.get(m.group(1))));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String firstUnset(String value, Map<String, String> env) {
        Matcher m = VARIABLE.matcher(value);
        while (m.find()) {
            if (env.get(m.group(1)) == null) {
                return m.group(1);
            }
        }
        return null;
    }

    private static Iterable<Map.Entry<String, JsonNode>> fields(JsonNode n, String where) {
        if (n.isMissingNode() || n.isNull()) {
            return List.of();
        }
        requireObject(n, where);
        Iterator<Map.Entry<String, JsonNode>> it = n.fields();
        return () -> it;
    }

    static void requireObject(JsonNode n, String where) {
        if (!n.isObject()) {
            throw new ConfigException(where + " must be a mapping");
        }
    }

    static void allowKeys(JsonNode n, String where, Set<String> allowed) {
        n.fieldNames().forEachRemaining(k -> {
            if (!allowed.contains(k)) {
                throw new ConfigException(where + ": unknown key '" + k + "' (expected one of " + allowed + ")");
            }
        });
    }

    static String requiredText(JsonNode n, String key, String where) {
        if (!n.has(key)) {
            throw new ConfigException(where + ": '" + key + "' is required");
        }
        return text(n, key, where);
    }

    static String text(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (!v.isTextual() || v.asText().isEmpty()) {
            throw new ConfigException(where + "." + key + " must be a non-empty string");
        }
        return v.asText();
    }

    /** {@code key}: a list of model names, empty when absent (which callers read as every model). */
    static List<String> modelNames(JsonNode n, String key, String where) {
        JsonNode list = n.path(key);
        if (list.isMissingNode()) {
            return List.of();
        }
        String wrong = where + "." + key + " must be a list of model names";
        if (!list.isArray()) {
            throw new ConfigException(wrong);
        }
        List<String> names = new ArrayList<>();
        for (JsonNode m : list) {
            if (!m.isTextual() || m.asText().isEmpty()) {
                throw new ConfigException(wrong);
            }
            names.add(m.asText());
        }
        return List.copyOf(names);
    }

    static Integer positive(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
            throw new ConfigException(where + "." + key + " must be a whole number >= 1");
        }
        return v.asInt();
    }

    private static Integer wholeAtLeast(JsonNode n, String key, int min, String where) {
        JsonNode v = n.get(key);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min) {
            throw new ConfigException(where + "." + key + " must be a whole number >= " + min);
        }
        return v.asInt();
    }

    private static Double price(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null) {
            return null;
        }
        if (!v.isNumber() || v.asDouble() < 0) {
            throw new ConfigException(where + "." + key + " must be a number >= 0");
        }
        return v.asDouble();
    }
}
