package dev.gatehouse.gateway.bench;

import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.Pricing;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecorder;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.testing.TestModelFolder;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The gateway under load, in-process: the real HTTP server on a free port over a tiny random model
 * (so the HTTP layer, JSON, template and scheduling dominate, not the matrix math), N keep-alive
 * connections each sending POST /v1/chat/completions with max_tokens 1 back to back for a fixed time.
 * Prints requests, RPS, latency p50/p99 and errors per connection count as a markdown table, with
 * GET /v1/models (no engine) as the HTTP-only baseline. Run with {@code scripts/bench-gateway-local}.
 *
 * <p>Knobs: {@code -Dbench.seconds=10} per row, {@code -Dbench.connections=1,16,64},
 * {@code -Dbench.warmup=3} seconds, {@code -Dbench.baseline=false} to skip the GET rows,
 * {@code -Dbench.policies=true} to send every request with a virtual key that has rpm, tpm,
 * concurrency and budget limits and log its usage to SQLite (the cost of the policy layer; the
 * usage rows are counted against the requests at the end).
 */
public final class GatewayBench {
    private static final String MODEL = "tiny-llama";
    private static final String CHAT_BODY = "{\"model\":\"" + MODEL + "\",\"max_tokens\":1,\"temperature\":0,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"t5 t6 t7 t8\"}]}";

    /** @param key the bearer token, null for none */
    record Endpoint(String name, String method, String path, String body, String key) {}

    /** @param elapsedNanos from the start until the last worker's last response */
    record Result(long requests, long errors, long[] latenciesNanos, long elapsedNanos) {}

    public static void main(String[] args) throws Exception {
        int seconds = Integer.getInteger("bench.seconds", 10);
        int warmup = Integer.getInteger("bench.warmup", 3);
        int[] connections = Arrays.stream(System.getProperty("bench.connections", "1,16,64").split(","))
                .map(String::trim).mapToInt(Integer::parseInt).toArray();
        boolean baseline = Boolean.parseBoolean(System.getProperty("bench.baseline", "true"));
        boolean policies = Boolean.getBoolean("bench.policies");

        Path store = Path.of("target", "bench-model");
        if (!Files.isRegularFile(store.resolve(MODEL).resolve("config.json"))) {
            TestModelFolder.llama().write(store.resolve(MODEL)); // library defaults: hidden 64, 2 layers, vocab 256
        }
        var registry = GatewayServer.newRegistry();
        LocalModels models = new LocalModels();
        // room for every connection in the batch and far more in the queue: the HTTP path is measured, not refusals
        models.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults().withMaxRunning(64).withMaxWaiting(1024), registry);
        if (models.get(MODEL).isEmpty()) {
            throw new IllegalStateException("the bench model did not load from " + store.toAbsolutePath());
        }
        GatewayServer.Builder builder = GatewayServer.builder(models, registry).grace(Duration.ofSeconds(5));
        String key = null;
        KeyStore keys = null;
        Path db = Path.of("target", "bench-gatehouse.db");
        if (policies) {
            for (String suffix : new String[]{"", "-wal", "-shm"}) {
                Files.deleteIfExists(Path.of(db + suffix));
            }
            keys = KeyStore.open(db);
            key = keys.create(new KeyStore.Spec("bench", List.of(), 1_000_000_000, 1_000_000_000, 100_000, 1e9, "30d",
                    null)).key();
            builder.auth(new ApiAuth("bench-master", keys))
                    .usage(new UsageRecorder(Pricing.free(), UsageLog.open(db), Clock.systemUTC(), registry));
        }
        String label = policies ? " [key + limits + usage log]" : "";
        List<Endpoint> endpoints = new ArrayList<>();
        endpoints.add(new Endpoint("POST /v1/chat/completions (max_tokens 1)" + label, "POST", "/v1/chat/completions",
                CHAT_BODY, key));
        if (baseline) {
            endpoints.add(new Endpoint("GET /v1/models" + label, "GET", "/v1/models", null, key));
        }

        List<String> rows = new ArrayList<>();
        long chatRequests = 0;
        try (GatewayServer server = builder.start();
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            URI base = URI.create("http://127.0.0.1:" + server.port());
            for (Endpoint e : endpoints) {
                Result w = run(base, e, Arrays.stream(connections).max().orElse(1), warmup, threads); // JIT and connection warm-up
                chatRequests += e.body() != null ? w.requests() : 0;
                for (int n : connections) {
                    Result r = run(base, e, n, seconds, threads);
                    chatRequests += e.body() != null ? r.requests() : 0;
                    rows.add(row(e, n, r));
                    System.err.println(rows.getLast());
                }
            }
        }
        System.out.printf("%ngateway in-process on %d CPU cores (%s, Java %s), tiny random Llama on CPU, "
                        + "engine maxRunning 64 / maxWaiting 1024, %d s per row, keep-alive HTTP/1.1 connections%n%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("os.arch"),
                System.getProperty("java.version"), seconds);
        System.out.println("| endpoint | connections | requests | RPS | p50 ms | p99 ms | errors |");
        System.out.println("|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
        if (policies) {
            keys.close();
            try (UsageLog log = UsageLog.open(db)) { // the server closed its log: every row is on disk
                long logged = log.summary(Instant.EPOCH, Instant.now(), UsageLog.GroupBy.KEY).stream()
                        .mapToLong(UsageLog.Summary::requests).sum();
                System.out.printf("%nusage rows: %d for %d chat requests (GETs are not logged)%n", logged, chatRequests);
            }
        }
    }

    /** {@code n} workers, one HttpClient (one connection) each, requests back to back until the deadline. */
    private static Result run(URI base, Endpoint e, int n, int seconds, ExecutorService threads) throws Exception {
        long start = System.nanoTime();
        long deadline = start + seconds * 1_000_000_000L;
        AtomicReference<String> firstError = new AtomicReference<>();
        List<Future<Result>> workers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            workers.add(threads.submit(() -> {
                try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(threads)
                        .connectTimeout(Duration.ofSeconds(10)).build()) {
                    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(e.path())).timeout(Duration.ofSeconds(60));
                    if (e.key() != null) {
                        b.header("Authorization", "Bearer " + e.key());
                    }
                    HttpRequest request = e.body() == null ? b.GET().build()
                            : b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(e.body())).build();
                    long[] latencies = new long[1024];
                    long count = 0;
                    long errors = 0;
                    while (System.nanoTime() < deadline) {
                        long t0 = System.nanoTime();
                        try {
                            HttpResponse<byte[]> res = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                            if (res.statusCode() != 200) {
                                errors++;
                                firstError.compareAndSet(null, res.statusCode() + " " + new String(res.body()));
                            }
                        } catch (Exception ex) {
                            errors++;
                            firstError.compareAndSet(null, ex.toString());
                        }
                        if (count == latencies.length) {
                            latencies = Arrays.copyOf(latencies, latencies.length * 2);
                        }
                        latencies[(int) count++] = System.nanoTime() - t0;
                    }
                    return new Result(count, errors, Arrays.copyOf(latencies, (int) count), 0);
                }
            }));
        }
        long requests = 0;
        long errors = 0;
        List<long[]> all = new ArrayList<>();
        for (Future<Result> f : workers) {
            Result r = f.get();
            requests += r.requests();
            errors += r.errors();
            all.add(r.latenciesNanos());
        }
        if (firstError.get() != null) {
            System.err.println("first error (" + e.name() + ", " + n + " connections): " + firstError.get());
        }
        long elapsed = System.nanoTime() - start;
        long[] latencies = all.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        return new Result(requests, errors, latencies, elapsed);
    }

    private static String row(Endpoint e, int n, Result r) {
        return String.format("| %s | %d | %d | %.0f | %.2f | %.2f | %d |", e.name(), n, r.requests(),
                r.requests() / (r.elapsedNanos() / 1e9), percentile(r.latenciesNanos(), 0.50), percentile(r.latenciesNanos(), 0.99),
                r.errors());
    }

    /** Nearest-rank percentile of sorted nanos, in milliseconds. */
    private static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1e6;
    }
}
