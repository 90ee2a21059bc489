package dev.gatehouse.gateway.backend.local;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.serving.engine.Capacity;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.MemoryBudget;
import dev.gatehouse.serving.engine.MemoryEstimate;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.load.ModelConfig;
import dev.gatehouse.serving.load.ModelLoadException;
import dev.gatehouse.serving.embed.AllMiniLmL6V2;
import dev.gatehouse.serving.embed.BatchLimits;
import dev.gatehouse.serving.embed.EmbeddingBatcher;
import dev.gatehouse.serving.embed.EmbeddingModel;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The models of the local store, each served by its own engine under its folder name. Loading runs
 * in the background so the server answers /health at once and /health/ready when it is done; a
 * folder that cannot be served is reported and skipped. The admin API loads and unloads single
 * folders while the server runs.
 */
public final class LocalModels implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LocalModels.class.getName());

    private final Map<String, LocalBackend> backends = new ConcurrentHashMap<>();
    private final Map<String, LocalEmbedder> embedders = new ConcurrentHashMap<>();
    private final Set<String> loading = ConcurrentHashMap.newKeySet();
    private final Map<String, String> failures = new ConcurrentHashMap<>();
    /** Other names a model answers to (a Hub id such as org/name for the store folder org--name), to its folder name. */
    private final Map<String, String> aliases = new ConcurrentHashMap<>();
    /** Per loaded CPU model, the memory it was estimated to need: what a limit set with --memory-limit-mb has left. */
    private final Map<String, Long> held = new ConcurrentHashMap<>();
    private final Object loadLock = new Object();
    private volatile boolean ready;
    private final BatchLimits embeddingLimits;
    private final boolean embeddedDefault;
    private final List<Consumer<String>> changeListeners = new CopyOnWriteArrayList<>();
    /** Models unloaded for idleness: still listed, loaded again by the next request ({@link #wake}). */
    private final Set<String> asleep = ConcurrentHashMap.newKeySet();
    private final Map<String, CompletableFuture<Void>> reloads = new ConcurrentHashMap<>();
    /** When each model last had a request, a running sequence or a held embedding lease ({@link System#nanoTime}). */
    private final Map<String, Long> lastUsed = new ConcurrentHashMap<>();
    private volatile IdleUnload idleUnload;
    private ScheduledExecutorService idleChecks;

    public LocalModels() {
        this(BatchLimits.DEFAULTS);
    }

    /** @param embeddingLimits how each embedding model's batcher gathers inputs ({@code serve --embedding-max-*}) */
    public LocalModels(BatchLimits embeddingLimits) {
        this(embeddingLimits, true);
    }

    /**
     * @param embeddedDefault whether {@link #loadAll} also serves the embedded all-minilm-l6-v2
     *     ({@code serve --no-default-embedding-model} turns it off: it holds ~250 MB of memory)
     */
    public LocalModels(BatchLimits embeddingLimits, boolean embeddedDefault) {
        this.embeddingLimits = embeddingLimits;
        this.embeddedDefault = embeddedDefault;
    }

    /**
     * Ollama's keep-alive: a chat or embedding model without requests for {@code after(name)} (null: never) is unloaded, its
     * weights and KV memory freed, and stays listed; the next request loads it again from {@code store}, waiting
     * up to {@code reloadWait} before it is told to retry.
     */
    public record IdleUnload(LocalStore store, Function<String, Duration> after, Duration reloadWait, MeterRegistry registry) {}

    /** Starts unloading idle models, checking every {@code checkEvery}. */
    public synchronized void unloadWhenIdle(IdleUnload settings, Duration checkEvery) {
        idleUnload = settings;
        if (idleChecks == null) {
            idleChecks = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("idle-unload").factory());
            idleChecks.scheduleWithFixedDelay(this::unloadIdle, checkEvery.toMillis(), checkEvery.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void unloadIdle() {
        IdleUnload settings = idleUnload;
        for (String name : Stream.concat(backends.keySet().stream(), embedders.keySet().stream()).toList()) {
            Duration after = settings.after().apply(name);
            if (after == null || !Files.isDirectory(settings.store().root().resolve(name))) {
                continue; // the embedded default model has no store folder to load again from
            }
            long now = System.nanoTime();
            if (inUse(name)) { // a request longer than the keep-alive is still a use
                lastUsed.put(name, now);
                continue;
            }
            if (now - lastUsed.computeIfAbsent(name, n -> now) < after.toNanos()) {
                continue;
            }
            asleep.add(name); // first: the name stays listed throughout
            try {
                unloadServed(name, 0, settings.registry());
                LOG.info(name + " was idle for " + after.toSeconds() + " s: unloaded, the next request loads it again");
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException ex) {
                LOG.warning("cannot unload idle " + name + ": " + ex);
            }
        }
    }

    /** Whether a chat model has sequences running or waiting, or an embedding model requests holding it. */
    private boolean inUse(String name) {
        LocalBackend backend = backends.get(name);
        if (backend != null) {
            Capacity c = backend.engine().capacity();
            return c.running() + c.waiting() > 0;
        }
        LocalEmbedder embedder = embedders.get(name);
        return embedder != null && embedder.inUse();
    }

    /**
     * Marks a use of model {@code requested} at the start of a request; a model unloaded for idleness is loaded
     * again, and the request waits up to the reload bound for it (still loading after that: {@link #loading} is
     * true and the caller answers 503 with Retry-After).
     */
    public void wake(String requested) throws InterruptedException {
        String name = folderName(requested);
        if (served(name)) { // only served names: a client's made-up ones must not grow the map
            lastUsed.put(name, System.nanoTime());
            return;
        }
        IdleUnload settings = idleUnload;
        if (settings == null || !asleep.contains(name)) {
            return;
        }
        CompletableFuture<Void> reload = reloads.computeIfAbsent(name, n -> {
            loading.add(n); // at once: a request that stops waiting is told to retry, not 404
            return CompletableFuture.runAsync(() -> {
                try {
                    load(settings.store(), n, settings.registry());
                    lastUsed.put(n, System.nanoTime());
                    asleep.remove(n);
                } finally {
                    reloads.remove(n);
                }
            });
        });
        try {
            reload.get(settings.reloadWait().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // still loading: the caller's loading check answers 503 with Retry-After
        } catch (ExecutionException e) {
            throw new ApiException(503, "server_error", "model_load_failed", "model", "The model '" + requested
                    + "' could not be loaded again: " + failure(name).orElse(String.valueOf(e.getCause())), 30);
        }
    }

    /** Whether {@code name} is a model unloaded for idleness (listed, loaded again by its next request). */
    public boolean asleep(String name) {
        return asleep.contains(folderName(name));
    }

    /** Called with a model's name whenever it is loaded or unloaded (the response cache forgets its answers). */
    public void onChange(Consumer<String> listener) {
        changeListeners.add(listener);
    }

    private void changed(String name) {
        changeListeners.forEach(l -> l.accept(name));
    }

    /** Loads every model folder under {@code store} (folders with a config.json), one after another. */
    public void loadAll(Path store, DeviceChoice device, EngineConfig config, MeterRegistry registry) {
        loadAll(LocalStore.of(store, device, config), registry);
    }

    /** Loads every model folder of the store; a folder that cannot be served is reported and skipped. */
    public void loadAll(LocalStore store, MeterRegistry registry) {
        loadAll(store, modelFolders(store.root()).stream().map(p -> p.getFileName().toString()).toList(), registry);
    }

    /** Loads the store folders {@code names}; a folder that cannot be served is reported and skipped. */
    public void loadAll(LocalStore store, List<String> names, MeterRegistry registry) {
        loading.addAll(names); // all at once: a request for a later folder is told to retry, not 404
        for (String name : names) {
            try {
                load(store, name, registry);
            } catch (RuntimeException e) {
                LOG.warning("skipping " + store.root().resolve(name) + ": " + e.getMessage());
            }
        }
        // the embedded default: served with no download when its jar is on the class path
        if (embeddedDefault && AllMiniLmL6V2.available() && !embedders.containsKey(AllMiniLmL6V2.NAME)) {
            try {
                addEmbedder(AllMiniLmL6V2.NAME, AllMiniLmL6V2.load(store.root().resolve(".cache")), registry, System.nanoTime());
            } catch (RuntimeException e) {
                LOG.warning("skipping " + AllMiniLmL6V2.NAME + ": " + e.getMessage());
            }
        }
        ready = true;
    }

    /**
     * Loads the store folder {@code name} and serves it under that name: a chat model with its engine, an
     * embedding model with its batcher. False when it is served already; throws when it cannot be loaded,
     * and {@link #failure} then tells why. Loads run one at a time (each takes much memory while it runs).
     */
    public boolean load(LocalStore store, String name, MeterRegistry registry) {
        Path folder = store.root().resolve(name);
        loading.add(name);
        try {
            synchronized (loadLock) {
                if (served(name)) {
                    return false;
                }
                long start = System.nanoTime();
                if (EmbeddingModel.isEmbeddingFolder(folder)) {
                    addEmbedder(name, EmbeddingModel.load(folder, store.device().resolve()), registry, start);
                } else {
                    LocalStore.Placement placement = store.placements().apply(name);
                    EngineConfig engineConfig = store.engineConfigs().apply(name);
                    WeightsDtype weights = placement.device().onCpu() ? weightsFor(store, name, placement, engineConfig)
                            : placement.weights();
                    Long estimate = placement.device().onCpu() ? fitOrRefuse(store, name, placement, weights, engineConfig) : null;
                    LocalModel model = LocalModel.load(folder, placement.device(), placement.dtype(), weights);
                    Engine engine;
                    try {
                        engine = Engine.start(model, engineConfig, registry);
                    } catch (RuntimeException | Error e) { // the model holds much memory: free it now
                        model.close();
                        throw e;
                    }
                    LocalBackend backend = new LocalBackend(engine, store.tools().apply(name));
                    backends.put(name, backend);
                    if (estimate != null) {
                        held.put(name, estimate);
                    }
                    LOG.info(String.format("loaded %s (%s, %d positions per sequence, %s on %s: %s, tool calls: %s) in %.1f s",
                            name, model.config().architecture(), engine.maxModelLength(), model.dtype().label(),
                            model.deviceName(), model.dtype().why(), backend.toolFormat().label(),
                            (System.nanoTime() - start) / 1e9));
                }
                failures.remove(name);
                changed(name);
                return true;
            }
        } catch (RuntimeException e) {
            failures.put(name, e.getMessage() != null ? e.getMessage() : e.toString());
            throw e;
        } finally {
            loading.remove(name);
        }
    }

    /**
     * The model's estimated memory, before any weight is read; a model that cannot fit what is free is refused
     * with one line saying so, so a load never ends in the kernel's OOM killer taking the whole server with it.
     */
    private long fitOrRefuse(LocalStore store, String name, LocalStore.Placement placement, WeightsDtype weights,
                             EngineConfig config) {
        MemoryEstimate estimate = MemoryEstimate.forEngine(store.root().resolve(name), placement.dtype(), weights, config);
        store.memory().check(name, estimate, heldByLoaded(), MemoryBudget.SERVE_ADVICE);
        return estimate.totalBytes();
    }

    /**
     * {@code weights-dtype: auto} decided for this load. The Llama family runs its whole step in Java on a
     * 16-bit checkpoint as stored, faster than PyTorch on the widened weights at half the memory
     * (docs/benchmarks.md, "The whole Llama step in Java"): {@code AUTO} as it stands keeps 16 bits and gives
     * an F32 checkpoint to PyTorch. GPT-2 keeps PyTorch's ops around the Java products, so it is widened
     * to FP32 when the widened model fits what the server may still use, else kept 16-bit.
     */
    private WeightsDtype weightsFor(LocalStore store, String name, LocalStore.Placement placement, EngineConfig config) {
        Path folder = store.root().resolve(name);
        if (placement.weights() != WeightsDtype.AUTO || ModelConfig.load(folder).family() == ModelConfig.Family.LLAMA) {
            return placement.weights();
        }
        MemoryEstimate widened = MemoryEstimate.forEngine(folder, placement.dtype(), WeightsDtype.F32, config);
        try {
            store.memory().check(name, widened, heldByLoaded(), MemoryBudget.SERVE_ADVICE);
            return WeightsDtype.F32;
        } catch (ModelLoadException tooBig) {
            return WeightsDtype.STORED;
        }
    }

    private long heldByLoaded() {
        return held.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Stops serving {@code name}: new requests get 404 at once, running generations may finish for up to
     * {@code graceMillis}, then the engine and the model are closed and their meters removed, so the memory
     * is freed. False when no model of that name is served.
     */
    public boolean unload(String requested, long graceMillis, MeterRegistry registry) throws InterruptedException {
        String name = folderName(requested);
        asleep.remove(name);
        return unloadServed(name, graceMillis, registry);
    }

    private boolean unloadServed(String name, long graceMillis, MeterRegistry registry) throws InterruptedException {
        failures.remove(name);
        lastUsed.remove(name); // a later load starts its keep-alive afresh
        LocalBackend backend = backends.remove(name);
        held.remove(name);
        if (backend != null) {
            Engine engine = backend.engine();
            engine.shutdown();
            engine.awaitIdle(graceMillis, TimeUnit.MILLISECONDS);
            removeMeters(name, registry); // the gauges hold the engine: the memory would stay reachable
            engine.close();
            engine.model().close();
            changed(name);
            LOG.info("unloaded " + name);
            return true;
        }
        LocalEmbedder embedder = embedders.remove(name);
        if (embedder != null) {
            embedder.shutdown();
            embedder.awaitIdle(graceMillis); // requests still tokenizing or queued finish first
            removeMeters(name, registry);
            embedder.close(); // inputs still queued past the grace period fail
            changed(name);
            LOG.info("unloaded embedding model " + name);
            return true;
        }
        return false;
    }

    /** Deletes a store folder's files: {@link #deleteIfIdle} runs it. */
    public interface FolderRemoval {
        void remove() throws IOException;
    }

    /**
     * Unloads {@code name} and runs {@code removal} (which deletes its folder) under the load lock, so no
     * load reads the files while they are deleted. False, and nothing done, while {@code name} is loading
     * or waiting to load.
     */
    public boolean deleteIfIdle(String name, long graceMillis, MeterRegistry registry, FolderRemoval removal)
            throws IOException, InterruptedException {
        synchronized (loadLock) {
            if (loading(name)) {
                return false;
            }
            unload(name, graceMillis, registry);
            removal.remove();
            return true;
        }
    }

    private static void removeMeters(String name, MeterRegistry registry) {
        for (Meter meter : registry.getMeters()) {
            String meterName = meter.getId().getName();
            boolean model = meterName.startsWith("gatehouse.engine.") || meterName.startsWith("gatehouse.embedding.");
            if (model && name.equals(meter.getId().getTag("model"))) {
                registry.remove(meter);
            }
        }
    }

    private boolean served(String name) {
        return backends.containsKey(name) || embedders.containsKey(name);
    }

    /** Serves store folder {@code name} also as {@code alias} (in {@link #names} and to every lookup by name). */
    public void alias(String alias, String name) {
        if (!alias.equals(name)) {
            aliases.put(alias, name);
        }
    }

    /** The store folder a requested name stands for: an alias's folder, else the name itself. */
    private String folderName(String requested) {
        return aliases.getOrDefault(requested, requested);
    }

    /** Why the last load of {@code name} failed, if it did and has not loaded since. */
    public Optional<String> failure(String name) {
        return Optional.ofNullable(failures.get(folderName(name)));
    }

    private void addEmbedder(String name, EmbeddingModel model, MeterRegistry registry, long start) {
        embedders.put(name, new LocalEmbedder(new EmbeddingBatcher(model, embeddingLimits, new EmbeddingMeters(name, registry))));
        LOG.info(String.format("loaded embedding model %s (%d dimensions, %d tokens max) in %.1f s", model.name(),
                model.dimensions(), model.maxTokens(), (System.nanoTime() - start) / 1e9));
    }

    /** The batcher of embedding model {@code name}; a request uses {@link #leaseEmbeddings} so an unload waits for it. */
    public Optional<EmbeddingBatcher> embeddings(String name) {
        return Optional.ofNullable(embedders.get(folderName(name))).map(LocalEmbedder::batcher);
    }

    /**
     * Embedding model {@code name} for one request, to be closed when the request is done (its vectors
     * arrived or it failed): while a lease is held, unloading the model waits (up to its grace period).
     * Empty when no such model is served or it is being unloaded.
     */
    public Optional<LocalEmbedder.Lease> leaseEmbeddings(String name) {
        return Optional.ofNullable(embedders.get(folderName(name))).flatMap(LocalEmbedder::lease);
    }

    /**
     * The embedding of {@code text} by embedding model {@code name}, batched with other requests; empty when
     * that model is not served now or fails (the caller goes on without it: the semantic cache bypasses).
     */
    public Optional<float[]> embedOne(String name, String text) throws InterruptedException {
        Optional<LocalEmbedder.Lease> lease = leaseEmbeddings(name);
        if (lease.isEmpty()) {
            return Optional.empty();
        }
        try (LocalEmbedder.Lease held = lease.get()) {
            EmbeddingBatcher batcher = held.batcher();
            return Optional.of(batcher.embed(List.of(batcher.model().tokenize(text))).get(30, TimeUnit.SECONDS).getFirst());
        } catch (ExecutionException | TimeoutException e) {
            LOG.warning("cannot embed with " + name + ": " + e);
            return Optional.empty();
        }
    }

    private static List<Path> modelFolders(Path store) {
        if (!Files.isDirectory(store)) {
            LOG.warning("model store " + store.toAbsolutePath() + " does not exist: no local models");
            return List.of();
        }
        try (Stream<Path> children = Files.list(store)) {
            return children.filter(p -> Files.isRegularFile(p.resolve("config.json"))).sorted().toList();
        } catch (IOException e) {
            LOG.warning("cannot list model store " + store + ": " + e.getMessage());
            return List.of();
        }
    }

    /** Whether {@code name} is a model-store folder not loaded yet (a request for it is told to retry, not 404). */
    public boolean loading(String name) {
        return loading.contains(folderName(name));
    }

    public boolean ready() {
        return ready;
    }

    public Optional<LocalBackend> get(String name) {
        return Optional.ofNullable(backends.get(folderName(name)));
    }

    /** Every name a served model answers to: folder names and their aliases. */
    public List<String> names() {
        Stream<String> servedAliases = aliases.entrySet().stream()
                .filter(a -> served(a.getValue()) || asleep.contains(a.getValue())).map(Map.Entry::getKey);
        return Stream.of(backends.keySet().stream(), embedders.keySet().stream(), asleep.stream(), servedAliases)
                .flatMap(s -> s).distinct().sorted().toList();
    }

    /** Stops taking requests and lets running ones finish for up to {@code graceMillis}. */
    public void drain(long graceMillis) throws InterruptedException {
        backends.values().forEach(b -> b.engine().shutdown());
        long deadline = System.currentTimeMillis() + graceMillis;
        for (LocalBackend b : backends.values()) {
            b.engine().awaitIdle(Math.max(0, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
        }
        for (LocalEmbedder e : embedders.values()) { // still taking requests: the server answers until it stops
            e.awaitIdle(Math.max(0, deadline - System.currentTimeMillis()));
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (idleChecks != null) {
                idleChecks.shutdownNow();
            }
        }
        for (LocalBackend b : backends.values()) {
            b.engine().close();
            b.engine().model().close();
        }
        backends.clear();
        held.clear();
        embedders.values().forEach(LocalEmbedder::close);
        embedders.clear();
    }
}
