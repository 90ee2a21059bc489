package dev.gatehouse.gateway.api.openai;

import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.local.LocalStore;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.hub.HubClient;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.serving.engine.Capacity;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.testing.TestModelFolder;
import dev.gatehouse.serving.text.ChatMessage;
import dev.gatehouse.serving.text.ChatTemplate;
import dev.gatehouse.serving.text.Tokenizer;
import dev.gatehouse.serving.text.TokenizerConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One Gatehouse server for a test class: a tiny random-weight Llama ({@link TestModelFolder#llama()},
 * default sizes) written to a model store under {@code dir}, loaded on the CPU, served on a free port
 * of 127.0.0.1. Start it in {@code @BeforeAll}, close it in {@code @AfterAll}.
 */
public final class TestServer implements AutoCloseable {
    public static final String MODEL = "tiny-llama";

    private final Path store;
    private final LocalModels models;
    private final PrometheusMeterRegistry registry;
    private final GatewayServer server;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private TestServer(Path store, LocalModels models, PrometheusMeterRegistry registry, GatewayServer server) {
        this.store = store;
        this.models = models;
        this.registry = registry;
        this.server = server;
    }

    /** Writes the model, loads it, then starts the server: ready when this returns. */
    public static TestServer start(Path dir) throws IOException {
        TestServer s = startLoading(dir);
        s.load();
        return s;
    }

    /** Writes the model and starts the server without loading it: call {@link #load()} to make it ready. */
    public static TestServer startLoading(Path dir) throws IOException {
        return startLoading(dir, ApiAuth.none());
    }

    /** Like {@link #start(Path)}, with keys required as {@code auth} says. */
    public static TestServer start(Path dir, ApiAuth auth) throws IOException {
        TestServer s = startLoading(dir, auth);
        s.load();
        return s;
    }

    /** Parts of the server a test sets itself: keys, usage recorder, cache (on the server's registry). */
    @FunctionalInterface
    public interface Setup {
        void apply(GatewayServer.Builder server, MeterRegistry registry);
    }

    /** Like {@link #start(Path)}, with the server built as {@code setup} says. */
    public static TestServer start(Path dir, Setup setup) throws IOException {
        TestServer s = startLoading(dir, setup);
        s.load();
        return s;
    }

    /** Like {@link #start(Path)}, routing as the {@code models:} and {@code providers:} of {@code config} say. */
    public static TestServer start(Path dir, GatehouseConfig config) throws IOException {
        return start(dir, config, (server, registry) -> {});
    }

    /** Like {@link #start(Path, GatehouseConfig)}, with the rest of the server built as {@code setup} says. */
    public static TestServer start(Path dir, GatehouseConfig config, Setup setup) throws IOException {
        LocalModels models = new LocalModels();
        TestServer s = startLoading(dir, models, (server, registry) -> {
            setup.apply(server, registry);
            server.router(Router.of(config, models, registry));
        });
        s.load();
        return s;
    }

    private static TestServer startLoading(Path dir, ApiAuth auth) throws IOException {
        return startLoading(dir, (server, registry) -> server.auth(auth));
    }

    /** Writes a model folder of a test's own making. */
    @FunctionalInterface
    public interface ModelWriter {
        void write(Path folder) throws IOException;
    }

    /** Like {@link #start(Path)}, serving the model {@code writer} writes, under the name {@link #MODEL}. */
    public static TestServer start(Path dir, ModelWriter writer) throws IOException {
        writer.write(dir.resolve("model-store").resolve(MODEL));
        return start(dir);
    }

    private static TestServer startLoading(Path dir, Setup setup) throws IOException {
        return startLoading(dir, new LocalModels(), setup);
    }

    private static TestServer startLoading(Path dir, LocalModels models, Setup setup) throws IOException {
        Path store = dir.resolve("model-store");
        if (!java.nio.file.Files.exists(store.resolve(MODEL))) { // a restart reuses the folder
            TestModelFolder.llama().write(store.resolve(MODEL));
        }
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        GatewayServer.Builder builder = GatewayServer.builder(models, registry).maxBodyBytes(1 << 20)
                .grace(Duration.ofSeconds(5))
                .store(LocalStore.of(store, DeviceChoice.CPU, EngineConfig.defaults()), HubClient.fromEnvironment(null));
        setup.apply(builder, registry);
        GatewayServer server = builder.start();
        return new TestServer(store, models, registry, server);
    }

    public void load() {
        models.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults(), registry);
    }

    public int port() {
        return server.port();
    }

    /** {@code http://127.0.0.1:PORT} */
    public String url() {
        return "http://127.0.0.1:" + port();
    }

    /** The base URL OpenAI clients take: {@code http://127.0.0.1:PORT/v1}. */
    public String v1() {
        return url() + "/v1";
    }

    /** The model store folder: {@code dir/model-store}. */
    public Path store() {
        return store;
    }

    public Path modelFolder() {
        return store.resolve(MODEL);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public LocalModels models() {
        return models;
    }

    public Engine engine() {
        return models.get(MODEL).orElseThrow().engine();
    }

    /** The prompt token count of a chat, computed from the model folder's own tokenizer and template. */
    public int chatPromptTokens(List<ChatMessage> messages) {
        try (Tokenizer tokenizer = Tokenizer.load(modelFolder())) {
            String text = ChatTemplate.of("test", TokenizerConfig.load(modelFolder())).render(messages, true);
            return tokenizer.encode(text, false).length; // the template wrote the special tokens itself
        }
    }

    /** The prompt token count of a legacy completion (the tokenizer adds bos itself). */
    public int completionPromptTokens(String prompt) {
        try (Tokenizer tokenizer = Tokenizer.load(modelFolder())) {
            return tokenizer.encode(prompt, true).length;
        }
    }

    /**
     * A user message whose greedy chat answer runs to {@code maxTokens} (finish_reason length): the
     * random model ends some prompts early with eos, and a test of a long generation must not pass
     * because its generation was short. Tries "tK tK+1 tK+2" from K = 20; costs a generation per try.
     * Returns once the request metrics count the tries too: the handler records a request after its
     * last byte, so the client can hold the answer first, and a test counting answers would see one late.
     */
    public String longChatContent(int maxTokens) throws IOException, InterruptedException {
        long recordedBefore = chatRequestsRecorded();
        int tries = 0;
        for (int k = 20; k < 200; k += 7) {
            String content = "t" + k + " t" + (k + 1) + " t" + (k + 2);
            HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":"
                    + "\"user\",\"content\":\"" + content + "\"}],\"max_tokens\":" + maxTokens + ",\"temperature\":0}");
            tries++;
            if (r.statusCode() == 200 && r.body().contains("\"finish_reason\":\"length\"")) {
                awaitChatRequestsRecorded(recordedBefore + tries);
                return content;
            }
        }
        throw new AssertionError("no prompt runs greedy to " + maxTokens + " tokens");
    }

    private long chatRequestsRecorded() {
        return registry.find("gatehouse.http.requests").tag("route", "/v1/chat/completions").timers().stream()
                .mapToLong(Timer::count).sum();
    }

    private void awaitChatRequestsRecorded(long count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (chatRequestsRecorded() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(chatRequestsRecorded() + " chat requests recorded, not " + count);
            }
            Thread.sleep(1);
        }
    }

    /** Waits until the engine runs nothing and every KV slot is free again; fails after {@code timeout}. */
    public Capacity awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Capacity c = engine().capacity();
        while (c.running() != 0 || c.waiting() != 0 || c.freeSlots() != c.totalSlots() || c.kvBytesUsed() != 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("engine still busy after " + timeout + ": " + c);
            }
            Thread.sleep(20);
            c = engine().capacity();
        }
        return c;
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A request with {@code Authorization: Bearer key} (no header when key is null). */
    public HttpResponse<String> send(String method, String path, String json, String key)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        server.close();
    }
}
