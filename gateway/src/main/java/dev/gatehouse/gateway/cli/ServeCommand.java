package dev.gatehouse.gateway.cli;

import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.auth.JwtVerifier;
import dev.gatehouse.gateway.auth.MasterKey;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.local.LocalStore;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.IdleDuration;
import dev.gatehouse.gateway.config.SemanticCacheConfig;
import dev.gatehouse.gateway.config.SharedConfig;
import dev.gatehouse.gateway.policy.Budgets;
import dev.gatehouse.gateway.policy.ConcurrencyLimiter;
import dev.gatehouse.gateway.policy.InMemoryConcurrencyLimiter;
import dev.gatehouse.gateway.policy.RateLimiter;
import dev.gatehouse.gateway.shared.Redis;
import dev.gatehouse.gateway.shared.RedisAnswers;
import dev.gatehouse.gateway.shared.RedisBudgets;
import dev.gatehouse.gateway.shared.RedisConcurrencyLimiter;
import dev.gatehouse.gateway.shared.RedisRateLimiter;
import dev.gatehouse.gateway.hub.HubClient;
import dev.gatehouse.gateway.hub.Progress;
import dev.gatehouse.gateway.hub.StoredModels;
import dev.gatehouse.gateway.plugin.Plugins;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.gateway.store.Database;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.store.PgvectorAnswers;
import dev.gatehouse.gateway.usage.Pricing;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecorder;
import dev.gatehouse.serving.embed.BatchLimits;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Logger;
import java.util.stream.Stream;

/** {@code gatehouse serve [MODEL...]}: the OpenAI-compatible server over the named models, or every model in the store. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve models over an OpenAI-compatible HTTP API: the ones named, else every model of the model store.",
                "A Hugging Face Hub id (ORG/NAME) not in the store is pulled first (as `models pull` does) and served"
                        + " under its store name ORG--NAME and under the Hub id."})
public final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = Logger.getLogger(ServeCommand.class.getName());

    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "MODEL", description = "Store name, folder in the store, or Hub id ORG/NAME.")
    List<String> models = new ArrayList<>();

    @Option(names = "--model", paramLabel = "MODEL", description = "Same as a MODEL argument; repeatable.")
    List<String> modelOptionValues = new ArrayList<>();

    @Option(names = "--pull", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Pull a Hub id that is not in the store (default: ${DEFAULT-VALUE}); --no-pull refuses instead.")
    boolean pull;

    @Option(names = "--token", description = "Hub access token for gated or private repositories (default: $HF_TOKEN).")
    String token;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "Port (default: ${DEFAULT-VALUE}; 0 = any free port).")
    int port;

    @Option(names = "--max-running", defaultValue = "8", description = "Sequences batched per model (default: ${DEFAULT-VALUE}).")
    int maxRunning;

    @Option(names = "--max-waiting", defaultValue = "64", description = "Queued requests per model before 503 (default: ${DEFAULT-VALUE}).")
    int maxWaiting;

    @Option(names = "--max-model-length", defaultValue = "0",
            description = "Tokens per sequence; 0 = the model's, capped by the KV budget (default: ${DEFAULT-VALUE}).")
    int maxModelLength;

    @Option(names = "--kv-cache-mb", defaultValue = "0",
            description = "KV cache memory per model; 0 = 1024 on the CPU, on a GPU a share of its free memory after the weights (default: ${DEFAULT-VALUE}).")
    long kvCacheMb;

    @Option(names = "--prefix-cache", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Reuse the KV cache of a prompt prefix an earlier request computed (default: ${DEFAULT-VALUE});"
                    + " --no-prefix-cache turns it off (local.NAME.prefix-cache per model).")
    boolean prefixCache;

    @Option(names = "--step-token-budget",
            description = "Tokens one engine step may process: every running sequence's next token, then prompt chunks"
                    + " (default: 256, or max-running if larger).")
    Integer stepTokenBudget;

    @Option(names = "--max-body-mb", defaultValue = "4", description = "Largest request body (default: ${DEFAULT-VALUE}).")
    int maxBodyMb;

    @Option(names = "--embedding-max-batch", defaultValue = "32",
            description = "Inputs per embedding forward pass (default: ${DEFAULT-VALUE}).")
    int embeddingMaxBatch;

    @Option(names = "--embedding-max-delay-ms", defaultValue = "0",
            description = "How long an embedding batch waits for more inputs after the first (default: ${DEFAULT-VALUE}).")
    long embeddingMaxDelayMs;

    @Option(names = "--default-embedding-model", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Serve the embedded all-minilm-l6-v2 for /v1/embeddings (default: ${DEFAULT-VALUE});"
                    + " --no-default-embedding-model saves its ~250 MB of memory.")
    boolean defaultEmbeddingModel;

    @Option(names = "--idle-unload-after", paramLabel = "DURATION",
            description = "Free a chat model's memory after this long without requests (30s, 5m, 1h); the next request"
                    + " loads it again (default: never; local.NAME.idle-unload-after per model).")
    String idleUnloadAfter;

    @Option(names = "--reload-wait-seconds", defaultValue = "60",
            description = "How long a request for a model unloaded when idle waits for it to load again before"
                    + " 503 with Retry-After (default: ${DEFAULT-VALUE}).")
    int reloadWaitSeconds;

    @Option(names = "--config", description = "gatehouse.yaml: providers, model routes, per-model engine limits (default: none, local models only).")
    Path config;

    @Option(names = "--grace-seconds", defaultValue = "30",
            description = "On SIGTERM, how long running requests may finish (default: ${DEFAULT-VALUE}).")
    int graceSeconds;

    @Override
    public Integer call() throws Exception {
        EngineConfig engine = EngineConfig.defaults().withMaxRunning(maxRunning).withMaxWaiting(maxWaiting)
                .withMaxModelLength(maxModelLength).withKvCacheBytes(kvCacheMb << 20).withPrefixCache(prefixCache);
        if (stepTokenBudget != null) {
            engine = engine.withStepTokenBudget(stepTokenBudget);
        }
        BatchLimits embeddingLimits = new BatchLimits(embeddingMaxBatch, Duration.ofMillis(embeddingMaxDelayMs));
        GatehouseConfig settings = config == null ? GatehouseConfig.empty() : GatehouseConfig.load(config, System.getenv());
        String masterKey = MasterKey.choose(System.getenv("GATEHOUSE_MASTER_KEY"), settings.masterKey());
        requireSafeHost(host, masterKey, settings.jwt() != null);
        settings.warnings().forEach(LOG::warning);
        for (String name : settings.local().keySet()) {
            settings.engineConfig(name, engine); // a refused combination of flags and local: limits stops here
        }
        Plugins plugins = Plugins.load(settings.plugins()); // an unknown plugin or a refused setting stops here
        settings.providers().values().forEach(p -> LOG.info("provider " + p.name() + " (" + p.type().wireName() + ") at " + p.baseUrl()));
        Duration idleDefault = idleUnloadAfter == null ? null : IdleDuration.parse(idleUnloadAfter); // refused before any pull
        DeviceChoice deviceChoice = modelOptions.device();
        Path store = modelOptions.store.root();
        List<ServeModels.Named> named = new ArrayList<>();
        for (String model : Stream.concat(models.stream(), modelOptionValues.stream()).distinct().toList()) {
            named.add(ServeModels.resolve(model, store, pull, HubClient.fromEnvironment(token),
                    Progress.forConsole(spec.commandLine().getOut())));
        }
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        LocalModels localModels = new LocalModels(embeddingLimits, defaultEmbeddingModel);
        Router router = Router.of(settings, localModels, registry);
        Database database = Database.of(settings.store());
        KeyStore keys = KeyStore.open(database);
        UsageLog usageLog = UsageLog.open(database);
        // limits, budgets and the cache: this instance's own, or with shared.redis-url every instance's in Redis
        Redis redis = settings.shared() == null ? null : Redis.connect(settings.shared(), registry);
        RateLimiter limiter = redis == null ? RateLimiter.system() : new RedisRateLimiter(redis, RateLimiter.system());
        ConcurrencyLimiter concurrency = redis == null ? new InMemoryConcurrencyLimiter()
                : new RedisConcurrencyLimiter(redis, new InMemoryConcurrencyLimiter());
        Budgets budgets = redis == null ? UsageRecorder.inMemoryBudgets(usageLog, Clock.systemUTC())
                : new RedisBudgets(redis, usageLog, Clock.systemUTC(), UsageRecorder.inMemoryBudgets(usageLog, Clock.systemUTC()));
        // the semantic cache's answers: this instance's memory, or with a PostgreSQL store every instance's (pgvector)
        PgvectorAnswers semanticAnswers = settings.semanticCache().enabled() && database.postgres()
                ? PgvectorAnswers.open(database, settings.semanticCache(), Clock.systemUTC()) : null;
        UsageRecorder usage = new UsageRecorder(Pricing.of(settings), usageLog, budgets, registry, settings.metrics().labelSecret());
        JwtVerifier jwt = settings.jwt() == null ? null : JwtVerifier.of(settings.jwt());
        EngineConfig engineDefaults = engine;
        LocalStore localStore = new LocalStore(store, deviceChoice, name -> settings.engineConfig(name, engineDefaults),
                name -> settings.placement(name, deviceChoice), settings::toolSettings,
                modelOptions.memoryBudget());
        GatewayServer server = GatewayServer.builder(localModels, registry).host(host).port(port).router(router)
                .maxBodyBytes((long) maxBodyMb << 20).grace(Duration.ofSeconds(graceSeconds))
                .auth(new ApiAuth(masterKey, keys, limiter, concurrency, jwt)).usage(usage).cache(settings.cache())
                .answers(redis == null ? null : new RedisAnswers(redis, settings.cache()))
                .semanticCache(settings.semanticCache()).semanticAnswers(semanticAnswers).metricsToken(settings.metrics().token())
                .store(localStore, HubClient.fromEnvironment(null)).plugins(plugins).limits(settings.server()).start();
        LOG.info(masterKey != null ? "auth: master key set, virtual keys in " + database
                : jwt != null ? "auth: no master key (admin API closed), virtual keys in " + database
                : "auth: no master key; /v1 is open until a virtual key exists (" + database + ")");
        if (settings.cache().enabled()) {
            LOG.info("response cache: on, " + (settings.cache().maxBytes() >> 20) + " MB for "
                    + settings.cache().ttl().toSeconds() + " s, " + (settings.cache().shared() ? "shared by all callers" : "per caller"));
        }
        if (settings.semanticCache().enabled()) {
            SemanticCacheConfig semantic = settings.semanticCache();
            LOG.info("semantic cache: on for " + semantic.models() + ", similarity >= " + semantic.threshold() + " by "
                    + semantic.embeddingModel() + ", " + semantic.maxEntries() + " answers for " + semantic.ttl().toSeconds()
                    + " s " + (semanticAnswers != null ? "in " + database + " (pgvector), shared by every instance using it"
                    : "in this instance's memory") + " (requests bypass it while that model is not served)");
        }
        if (redis != null) {
            LOG.info("shared: rate and concurrency limits, budgets" + (settings.cache().enabled() ? " and the response cache" : "")
                    + " in Redis at " + settings.shared().describe() + " (timeout " + settings.shared().timeout().toMillis()
                    + " ms; while it is down: " + (settings.shared().onRedisDown() == SharedConfig.OnRedisDown.LOCAL
                    ? "each instance counts on its own)" : "requests with limits are refused)"));
        }
        plugins.describe().forEach(p -> LOG.info("plugin: " + p));
        if (jwt != null) {
            LOG.info("auth: JWTs from issuer " + settings.jwt().issuer() + " for audience " + settings.jwt().audience()
                    + ", keys " + (settings.jwt().jwksUrl() != null ? "from " + settings.jwt().jwksUrl() : "static (public-key)"));
        }
        LOG.info("listening on http://" + host + ":" + server.port() + " (OpenAI API under /v1)");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // stderr, not the logger: java.util.logging resets itself in its own shutdown hook
            System.err.println("gatehouse: shutting down, finishing running requests (up to " + graceSeconds + " s)");
            server.close();
            if (semanticAnswers != null) {
                semanticAnswers.close();
            }
            if (redis != null) {
                redis.close();
            }
            stopped.countDown();
        }));
        if (idleDefault != null || settings.local().values().stream().anyMatch(l -> l.idleUnloadAfter() != null)) {
            localModels.unloadWhenIdle(new LocalModels.IdleUnload(localStore, name -> settings.idleUnloadAfter(name, idleDefault),
                    Duration.ofSeconds(reloadWaitSeconds), registry), Duration.ofSeconds(1));
        }
        if (named.isEmpty()) {
            if (new StoredModels(store).list().isEmpty()) {
                LOG.warning(ServeModels.HOW_TO_GET_ONE);
            }
            localModels.loadAll(localStore, registry);
        } else {
            named.stream().filter(m -> m.alias() != null).forEach(m -> localModels.alias(m.alias(), m.name()));
            localModels.loadAll(localStore, named.stream().map(ServeModels.Named::name).distinct().toList(), registry);
        }
        if (!router.routeNames().isEmpty()) {
            LOG.info("routes (gatehouse.yaml): " + String.join(", ", router.routeNames()));
            router.missingLocalTargets().forEach(name -> LOG.warning("local target '" + name
                    + "' of gatehouse.yaml is not a loaded model: its routes go to their other targets"));
        }
        LOG.info("serving " + (localModels.names().isEmpty() ? "no models (model store " + store.toAbsolutePath() + " is empty)"
                : String.join(", ", localModels.names())));
        stopped.await();
        return 0;
    }

    /** Safe default: without a master key or JWT auth nobody off this machine may reach the server. */
    static void requireSafeHost(String host, String masterKey, boolean jwt) {
        if (jwt || (masterKey != null && !masterKey.isEmpty())) {
            return;
        }
        boolean loopback;
        try {
            loopback = InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            loopback = false;
        }
        if (!loopback) {
            throw new IllegalArgumentException("refusing to listen on " + host + " without auth: set a master key "
                    + "(GATEHOUSE_MASTER_KEY=... or 'auth: {master-key: ...}' in --config), then create virtual keys "
                    + "with 'gatehouse keys create' or POST /admin/keys; or configure 'auth: {jwt: ...}'; "
                    + "or listen on 127.0.0.1");
        }
    }
}
